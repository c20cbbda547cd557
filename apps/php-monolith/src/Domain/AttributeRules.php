<?php

declare(strict_types=1);

namespace Ficus\Legacy\Domain;

use Ficus\Legacy\Service\Error;
use stdClass;

/**
 * Validation of an update's `attributes` object (contract checks 15..18),
 * in document order; the first failure answers. Pure.
 */
final class AttributeRules
{
    public const MAX_ENTRIES = 64;
    public const MAX_VALUE_BYTES = 1024;
    private const KEY_PATTERN = '/^[A-Za-z0-9_.:-]{1,64}$/D';

    /** @return array<string, ?string>|Error key => value (null = delete), document order */
    public static function check(stdClass $attributes): array|Error
    {
        $entries = get_object_vars($attributes);
        $count = count($entries);
        if ($count < 1 || $count > self::MAX_ENTRIES) {
            return Error::invalidArgument('attributes: must have 1 to ' . self::MAX_ENTRIES . ' entries');
        }
        $out = [];
        foreach ($entries as $key => $value) {
            $key = (string) $key;
            if (preg_match(self::KEY_PATTERN, $key) !== 1) {
                return Error::invalidArgument("attributes.$key: key must be 1 to 64 bytes of [A-Za-z0-9_.:-]");
            }
            if ($value !== null && !is_string($value)) {
                return Error::invalidArgument("attributes.$key: value must be a string or null");
            }
            if (is_string($value) && strlen($value) > self::MAX_VALUE_BYTES) {
                return Error::invalidArgument("attributes.$key: value longer than 1024 bytes");
            }
            $out[$key] = $value;
        }
        return $out;
    }
}
