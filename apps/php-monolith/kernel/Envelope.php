<?php

declare(strict_types=1);

namespace Ficus\Kernel;

use JsonException;

/**
 * The PhalApi-style envelope {"ret":..,"data":..,"msg":..}, encoded exactly as
 * packages/api-contract/CONTRACT.md says: compact, keys in this order,
 * slashes and non-ASCII unescaped. Objects that may be empty must be passed
 * as objects (stdClass or (object) casts) so they encode as {} never [].
 */
final class Envelope
{
    public const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
        | JSON_UNESCAPED_LINE_TERMINATORS | JSON_THROW_ON_ERROR;

    public static function encode(int $ret, mixed $data, string $msg): string
    {
        try {
            return json_encode(['ret' => $ret, 'data' => $data, 'msg' => $msg], self::JSON_FLAGS);
        } catch (JsonException) {
            // Only reachable with invalid UTF-8 in data, which validation excludes.
            return '{"ret":500,"data":null,"msg":"internal: response not encodable"}';
        }
    }
}
