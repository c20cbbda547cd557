<?php

declare(strict_types=1);

namespace Ficus\Tests\Support;

use stdClass;

/**
 * Runs packages/api-contract/vectors.json cases (format at the top of
 * gen_vectors.py) over HTTP. Returns a list of failure messages, empty when
 * the case passed.
 */
final class Vectors
{
    private const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR;

    public static function file(): string
    {
        return dirname(__DIR__, 4) . '/packages/api-contract/vectors.json';
    }

    /** @return array<string, stdClass> name => case, decoded with objects kept as objects */
    public static function cases(): array
    {
        $doc = json_decode((string) file_get_contents(self::file()), false, 512, JSON_THROW_ON_ERROR);
        $out = [];
        foreach ($doc->cases as $case) {
            $out[$case->name] = $case;
        }
        return $out;
    }

    /** @return list<string> failures */
    public static function run(stdClass $case, string $baseUrl, string $version): array
    {
        $scope = [];
        $sub = static function (string $s) use (&$scope, $version): string {
            $s = str_replace('{v}', $version, $s);
            $pattern = '/\{(uuid|UUID|ikey):([A-Za-z0-9_]+)\}/';
            return (string) preg_replace_callback($pattern, static function ($m) use (&$scope) {
                $name = $m[2];
                if ($m[1] === 'ikey') {
                    return $scope['ikey:' . $name] ??= 'ik-' . bin2hex(random_bytes(12));
                }
                $uuid = $scope['uuid:' . $name] ??= self::uuid();
                return $m[1] === 'UUID' ? strtoupper($uuid) : $uuid;
            }, $s);
        };
        $failures = [];
        $bodies = [];
        foreach ($case->steps as $i => $step) {
            $req = $step->request;
            $headers = [];
            foreach (get_object_vars($req->headers ?? new stdClass()) as $name => $value) {
                $headers[(string) $name] = $sub((string) $value);
            }
            $body = null;
            if (property_exists($req, 'body')) {
                $body = $sub((string) $req->body);
            } elseif (property_exists($req, 'body_json')) {
                $body = $sub(json_encode($req->body_json, self::JSON_FLAGS));
            } elseif (property_exists($req, 'body_hex')) {
                $body = $sub((string) hex2bin((string) $req->body_hex));
            }
            $res = Http::request($baseUrl, (string) $req->method, $sub((string) $req->path), $headers, $body);
            $bodies[$i] = $res->body;
            $where = "step $i ({$req->method} {$req->path})";
            $exp = $step->expect;
            if ($res->status !== (int) $exp->status) {
                $failures[] = "$where: status {$res->status}, want {$exp->status}; body: {$res->body}";
            }
            $ct = $res->header('content-type');
            if ($ct !== 'application/json; charset=utf-8') {
                $failures[] = "$where: Content-Type " . var_export($ct, true);
            }
            if (preg_match('/^\{"ret":-?\d+,"data":.*,"msg":"(?:[^"\\\\]|\\\\.)*"\}$/sD', $res->body) !== 1) {
                $failures[] = "$where: body is not a compact {ret,data,msg} envelope: {$res->body}";
                continue;
            }
            $env = json_decode($res->body, false);
            if (!$env instanceof stdClass) {
                $failures[] = "$where: body is not JSON: {$res->body}";
                continue;
            }
            if ($env->ret !== $res->status) {
                $failures[] = "$where: ret {$env->ret} != status {$res->status}";
            }
            if (property_exists($exp, 'msg') && $env->msg !== $sub((string) $exp->msg)) {
                $failures[] = "$where: msg " . json_encode($env->msg, self::JSON_FLAGS)
                    . ', want ' . json_encode($sub((string) $exp->msg), self::JSON_FLAGS);
            }
            if (property_exists($exp, 'data')) {
                $want = $exp->data === null ? null
                    : json_decode($sub(json_encode($exp->data, self::JSON_FLAGS)), false, 512, JSON_THROW_ON_ERROR);
                $why = self::match($want, $env->data, 'data');
                if ($why !== null) {
                    $failures[] = "$where: $why; body: {$res->body}";
                }
            }
            foreach (get_object_vars($exp->headers ?? new stdClass()) as $name => $value) {
                if ($res->header((string) $name) !== $sub((string) $value)) {
                    $failures[] = "$where: header $name " . var_export($res->header((string) $name), true)
                        . ", want $value";
                }
            }
            if (property_exists($exp, 'same_body_as_step')) {
                $j = (int) $exp->same_body_as_step;
                if (($bodies[$j] ?? null) !== $res->body) {
                    $failures[] = "$where: body differs from step $j: {$res->body} vs " . ($bodies[$j] ?? 'none');
                }
            }
        }
        return $failures;
    }

    /**
     * expect.data semantics: null matches only null; "{any}" anything; the
     * top-level object is a subset match (listed keys must be present and
     * match); values below it are compared exactly (an object must have
     * exactly the listed keys), except "{any}".
     */
    private static function match(mixed $want, mixed $got, string $path, bool $top = true): ?string
    {
        if ($want === '{any}') {
            return null;
        }
        if ($want instanceof stdClass) {
            if (!$got instanceof stdClass) {
                return "$path: want an object, got " . json_encode($got, self::JSON_FLAGS);
            }
            $wantVars = get_object_vars($want);
            $gotVars = get_object_vars($got);
            foreach ($wantVars as $k => $v) {
                if (!array_key_exists($k, $gotVars)) {
                    return "$path.$k: missing";
                }
                $why = self::match($v, $gotVars[$k], "$path.$k", false);
                if ($why !== null) {
                    return $why;
                }
            }
            if (!$top && count($gotVars) !== count($wantVars)) {
                return "$path: keys " . json_encode(array_keys($gotVars))
                    . ', want ' . json_encode(array_keys($wantVars));
            }
            return null;
        }
        if (is_array($want)) {
            if (!is_array($got) || count($want) !== count($got)) {
                return "$path: want " . json_encode($want, self::JSON_FLAGS)
                    . ', got ' . json_encode($got, self::JSON_FLAGS);
            }
            foreach ($want as $k => $v) {
                $why = self::match($v, $got[$k], "$path[$k]", false);
                if ($why !== null) {
                    return $why;
                }
            }
            return null;
        }
        return $want === $got ? null
            : "$path: got " . json_encode($got, self::JSON_FLAGS) . ', want ' . json_encode($want, self::JSON_FLAGS);
    }

    public static function uuid(): string
    {
        $b = random_bytes(16);
        $b[6] = chr((ord($b[6]) & 0x0f) | 0x40);
        $b[8] = chr((ord($b[8]) & 0x3f) | 0x80);
        $h = bin2hex($b);
        return substr($h, 0, 8) . '-' . substr($h, 8, 4) . '-' . substr($h, 12, 4) . '-' . substr($h, 16, 4) . '-'
            . substr($h, 20);
    }
}
