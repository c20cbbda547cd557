<?php

declare(strict_types=1);

namespace Ficus\Legacy\Api;

use Ficus\Kernel\Response;
use Ficus\Legacy\Service\Error;

/** The one mapping from error codes to HTTP statuses (and their extra headers). */
final class ErrorStatus
{
    public static function status(Error $error): int
    {
        return match ($error->code) {
            Error::INVALID_ARGUMENT => 400,
            Error::NOT_FOUND => 404,
            Error::CONFLICT => 409,
            Error::MISMATCH => 422,
            Error::OVERLOADED => 503,
            Error::UNAVAILABLE, Error::INTERNAL => 500,
        };
    }

    public static function response(Error $error): Response
    {
        $status = self::status($error);
        return Response::error($status, $error->message, $status === 503 ? ['Retry-After' => '1'] : []);
    }
}
