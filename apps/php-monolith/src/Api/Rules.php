<?php

declare(strict_types=1);

namespace Ficus\Legacy\Api;

/** Parameter rule fragments shared by the Api classes (see Ficus\Kernel\ParamRules). */
final class Rules
{
    public const UUID_REGEX = '/^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/D';
    public const UUID_MESSAGE = 'must be a canonical UUID';

    /** @return array<string, mixed> */
    public static function userIdQuery(): array
    {
        return [
            'source' => 'query', 'name' => 'user_id', 'type' => 'string', 'require' => true,
            'regex' => self::UUID_REGEX, 'message' => self::UUID_MESSAGE,
        ];
    }
}
