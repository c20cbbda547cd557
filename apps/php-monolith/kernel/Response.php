<?php

declare(strict_types=1);

namespace Ficus\Kernel;

/** An HTTP response: status, extra headers, raw body bytes. */
final class Response
{
    public const CONTENT_TYPE = 'application/json; charset=utf-8';

    /** @param array<string, string> $headers */
    public function __construct(
        public readonly int $status,
        public readonly string $body,
        public readonly array $headers = [],
    ) {
    }

    /** A response whose body is already a rendered envelope (e.g. a replay). */
    public static function raw(int $status, string $body): self
    {
        return new self($status, $body);
    }

    /** @param array<string, string> $headers */
    public static function ok(mixed $data, array $headers = []): self
    {
        return new self(200, Envelope::encode(200, $data, ''), $headers);
    }

    /** @param array<string, string> $headers */
    public static function error(int $status, string $msg, array $headers = []): self
    {
        return new self($status, Envelope::encode($status, null, $msg), $headers);
    }

    public function send(): void
    {
        http_response_code($this->status);
        header('Content-Type: ' . self::CONTENT_TYPE);
        header('Content-Length: ' . strlen($this->body));
        foreach ($this->headers as $name => $value) {
            header($name . ': ' . $value);
        }
        echo $this->body;
    }
}
