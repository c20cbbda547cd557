<?php

declare(strict_types=1);

namespace Ficus\Legacy\Service;

/**
 * The error value every layer returns instead of throwing across a layer
 * boundary: a small closed set of codes plus the client-facing message
 * (already in the contract's "<field>: <rule>" form). The Api maps codes to
 * HTTP statuses in one place (Api\ErrorStatus).
 */
final class Error
{
    public const INVALID_ARGUMENT = 'invalid_argument';
    public const NOT_FOUND = 'not_found';
    public const CONFLICT = 'conflict';          // e.g. Idempotency-Key in flight
    public const MISMATCH = 'mismatch';          // e.g. Idempotency-Key reused with another body
    public const UNAVAILABLE = 'unavailable';    // storage failed
    public const OVERLOADED = 'overloaded';
    public const INTERNAL = 'internal';

    private function __construct(public readonly string $code, public readonly string $message)
    {
    }

    public static function invalidArgument(string $message): self
    {
        return new self(self::INVALID_ARGUMENT, $message);
    }

    public static function notFound(string $message): self
    {
        return new self(self::NOT_FOUND, $message);
    }

    public static function conflict(string $message): self
    {
        return new self(self::CONFLICT, $message);
    }

    public static function mismatch(string $message): self
    {
        return new self(self::MISMATCH, $message);
    }

    public static function unavailable(string $message): self
    {
        return new self(self::UNAVAILABLE, $message);
    }

    public static function overloaded(string $message): self
    {
        return new self(self::OVERLOADED, $message);
    }

    public static function internal(string $message): self
    {
        return new self(self::INTERNAL, $message);
    }
}
