<?php

declare(strict_types=1);

namespace Ficus\Kernel;

use stdClass;

/**
 * Checks an action's parameter rules in the order they are declared; the
 * first failing rule answers. Each rule is an array:
 *
 *   source   'body' | 'header' | 'query' | 'json' (a field of the body object)
 *   name     header / query / field name, as named in error messages
 *   type     body:   'size' (max => bytes, 413), 'json_object' (fields => allowed
 *                    top-level keys: UTF-8, parse, object, unknown fields)
 *            header: 'media' (value => required media type, 415), 'string', 'int'
 *            query/json: 'string', 'object'
 *   require  bool (default false): absent => "<name>: required"
 *   regex    for string/int: value must match, else "<name>: <message>"
 *   min      for int: value must be >= min, else "<name>: <message>"
 *   message  the rule text for a failed regex/min/media check
 *   as       key in the returned params (default: name)
 *
 * Returns the params (absent optional ones are null; 'json_object' stores the
 * decoded object under 'as') or the error Response (status 400 unless noted).
 */
final class ParamRules
{
    /**
     * @param list<array<string, mixed>> $rules
     * @return array<string, mixed>|Response
     */
    public static function apply(array $rules, Request $request): array|Response
    {
        $params = [];
        $object = null;
        foreach ($rules as $rule) {
            $name = (string) $rule['name'];
            $as = (string) ($rule['as'] ?? $name);
            $source = (string) $rule['source'];
            $type = (string) $rule['type'];
            if ($source === 'body') {
                if ($type === 'size') {
                    if (strlen($request->body) > (int) $rule['max']) {
                        return Response::error(413, (string) $rule['message']);
                    }
                    continue;
                }
                $decoded = self::decodeObject($request->body, (array) $rule['fields']);
                if ($decoded instanceof Response) {
                    return $decoded;
                }
                $object = $decoded;
                $params[$as] = $decoded;
                continue;
            }
            $present = false;
            $value = null;
            if ($source === 'header') {
                $value = $request->header($name);
                $present = $value !== null;
            } elseif ($source === 'query') {
                $present = array_key_exists($name, $request->query);
                $value = $present ? $request->query[$name] : null;
            } elseif ($source === 'json') {
                $present = $object instanceof stdClass && property_exists($object, $name);
                $value = $present ? $object->{$name} : null;
            }
            if ($type === 'media') {
                $media = $present ? strtolower(trim(explode(';', (string) $value, 2)[0])) : '';
                if ($media !== strtolower((string) $rule['value'])) {
                    return Response::error(415, $name . ': ' . $rule['message']);
                }
                continue;
            }
            if (!$present) {
                if (!empty($rule['require'])) {
                    return Response::error(400, $name . ': required');
                }
                $params[$as] = null;
                continue;
            }
            $checked = self::checkValue($rule, $name, $value, $source);
            if ($checked instanceof Response) {
                return $checked;
            }
            $params[$as] = $checked;
        }
        return $params;
    }

    /** @param array<string, mixed> $rule */
    private static function checkValue(array $rule, string $name, mixed $value, string $source): mixed
    {
        $type = (string) $rule['type'];
        if ($type === 'object') {
            return $value instanceof stdClass ? $value : Response::error(400, $name . ': must be an object');
        }
        if (!is_string($value)) {
            // A query parameter given as user_id[]=... is an array: treat it
            // as a malformed value rather than a type the client chose.
            return $source === 'json'
                ? Response::error(400, $name . ': must be a string')
                : Response::error(400, $name . ': ' . $rule['message']);
        }
        if (isset($rule['regex']) && preg_match((string) $rule['regex'], $value) !== 1) {
            return Response::error(400, $name . ': ' . $rule['message']);
        }
        if ($type === 'int') {
            $int = (int) $value;
            if (isset($rule['min']) && $int < (int) $rule['min']) {
                return Response::error(400, $name . ': ' . $rule['message']);
            }
            return $int;
        }
        return $value;
    }

    /** @param list<string> $fields */
    private static function decodeObject(string $body, array $fields): stdClass|Response
    {
        if (!mb_check_encoding($body, 'UTF-8')) {
            return Response::error(400, 'body: not valid UTF-8');
        }
        $decoded = json_decode($body, false, 512);
        if (json_last_error() !== JSON_ERROR_NONE) {
            return Response::error(400, 'body: malformed JSON');
        }
        if (!$decoded instanceof stdClass) {
            return Response::error(400, 'body: must be a JSON object');
        }
        foreach (get_object_vars($decoded) as $key => $_) {
            if (!in_array((string) $key, $fields, true)) {
                return Response::error(400, $key . ': unknown field');
            }
        }
        return $decoded;
    }
}
