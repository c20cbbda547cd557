<?php

declare(strict_types=1);

namespace Ficus\Tests\Blackbox;

use Ficus\Tests\Support\Http;
use Ficus\Tests\Support\LegacyStack;
use Ficus\Tests\Support\Vectors;
use PDO;
use PHPUnit\Framework\TestCase;
use stdClass;

/** A rejected request changes no row in any table; idempotency leases expire. */
final class RejectedWritesTest extends TestCase
{
    private const TABLES = ['profiles', 'profile_attributes', 'profile_history', 'idempotency_keys', 'users'];

    /** @return array<string, array{int, string}> table => [rows, checksum] */
    private static function snapshot(PDO $pdo): array
    {
        $out = [];
        foreach (self::TABLES as $t) {
            $rows = (int) $pdo->query("SELECT COUNT(*) FROM $t")->fetchColumn();
            $sum = (string) $pdo->query("CHECKSUM TABLE $t")->fetch(PDO::FETCH_NUM)[1];
            $out[$t] = [$rows, $sum];
        }
        return $out;
    }

    private static function post(string $body, array $headers = []): array
    {
        $res = Http::request(
            LegacyStack::get()->url(),
            'POST',
            '/api/v1/profile/update',
            $headers + ['Content-Type' => 'application/json'],
            $body,
        );
        return [$res->status, $res->body];
    }

    public function testRejectedRequestsChangeNoRow(): void
    {
        $stack = LegacyStack::get();
        $pdo = $stack->pdo();
        $user = Vectors::uuid();
        // Existing state the rejected requests must not touch.
        $this->assertSame(200, self::post(json_encode(['user_id' => $user, 'attributes' => ['a' => '1']]))[0]);
        $done = json_encode(['user_id' => $user, 'attributes' => ['b' => '2']]);
        $this->assertSame(200, self::post($done, ['Idempotency-Key' => 'done-key'])[0]);
        $pending = json_encode(['user_id' => $user, 'attributes' => ['c' => '3']]);
        $pdo->prepare(
            'INSERT INTO idempotency_keys (user_id, idem_key, fingerprint, state, lease_token, lease_until_us,'
            . " response, created_us) VALUES (?, 'busy-key', ?, 'pending', 'x', ?, NULL, ?)"
        )->execute([$user, hash('sha256', $pending), (time() + 3600) * 1_000_000, time() * 1_000_000]);

        $before = self::snapshot($pdo);
        $rejected = 0;
        // Every single-request vector that expects a rejection...
        foreach (Vectors::cases() as $case) {
            $first = $case->steps[0];
            if ((int) $first->expect->status === 200) {
                continue;
            }
            $failures = Vectors::run((object) ['name' => $case->name, 'steps' => [$first]], $stack->url(), 'v1');
            $this->assertSame([], $failures, $case->name);
            $rejected++;
        }
        // ...an invalid request carrying a fresh Idempotency-Key (must not claim it)...
        $invalid = json_encode(['user_id' => $user, 'attributes' => ['x' => 5]]);
        [$status] = self::post($invalid, ['Idempotency-Key' => 'fresh']);
        $this->assertSame(400, $status);
        // ...a reused key with another body, and a key in flight.
        $this->assertSame(
            [422, '{"ret":422,"data":null,"msg":"Idempotency-Key: reused with a different request body"}'],
            self::post($pending, ['Idempotency-Key' => 'done-key']),
        );
        $this->assertSame(
            [409, '{"ret":409,"data":null,"msg":"Idempotency-Key: a request with this key is in progress"}'],
            self::post($pending, ['Idempotency-Key' => 'busy-key']),
        );
        $this->assertGreaterThan(30, $rejected);
        $this->assertSame($before, self::snapshot($pdo), 'rejected requests changed rows');
    }

    public function testExpiredLeaseOfACrashedRequestIsTakenOver(): void
    {
        $stack = LegacyStack::get();
        $user = Vectors::uuid();
        $body = json_encode(['user_id' => $user, 'attributes' => ['k' => 'v']]);
        $stack->pdo()->prepare(
            'INSERT INTO idempotency_keys (user_id, idem_key, fingerprint, state, lease_token, lease_until_us,'
            . " response, created_us) VALUES (?, 'crashed', ?, 'pending', 'dead', ?, NULL, ?)"
        )->execute([$user, hash('sha256', $body), (time() - 1) * 1_000_000, (time() - 60) * 1_000_000]);
        [$status, $first] = self::post($body, ['Idempotency-Key' => 'crashed']);
        $this->assertSame(200, $status, $first);
        $this->assertSame([200, $first], self::post($body, ['Idempotency-Key' => 'crashed']));
        $stmt = $stack->pdo()->prepare('SELECT COUNT(*) FROM profile_history WHERE user_id = ?');
        $stmt->execute([$user]);
        $this->assertSame(1, (int) $stmt->fetchColumn());
    }

    public function testUserInfoAndHealth(): void
    {
        $url = LegacyStack::get()->url();
        $res = Http::request($url, 'GET', '/api/v1/user/info?user_id=A3D5F7E9-1B2C-4D6E-8F01-23456789ABCD');
        $this->assertSame(
            '{"ret":200,"data":{"user_id":"a3d5f7e9-1b2c-4d6e-8f01-23456789abcd","name":"Ada Lovelace",'
            . '"email":"ada@example.org","country":"GB","created_at":"2020-12-10T12:00:00Z"},"msg":""}',
            $res->body,
        );
        $res = Http::request($url, 'GET', '/api/v1/user/info?user_id=' . Vectors::uuid());
        $this->assertSame([404, '{"ret":404,"data":null,"msg":"user_id: no such user"}'], [$res->status, $res->body]);
        $res = Http::request($url, 'GET', '/healthz');
        $this->assertSame([200, '{"ret":200,"data":{"status":"ok"},"msg":""}'], [$res->status, $res->body]);
        $res = Http::request($url, 'GET', '/api/v9/nothing');
        $this->assertSame([404, '{"ret":404,"data":null,"msg":"path: no such endpoint"}'], [$res->status, $res->body]);
    }
}
