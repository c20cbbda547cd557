<?php

declare(strict_types=1);

namespace Ficus\Tests\Blackbox;

use Ficus\Tests\Support\Http;
use Ficus\Tests\Support\LegacyStack;
use Ficus\Tests\Support\Vectors;
use PHPUnit\Framework\TestCase;

/** Many processes updating the same users at once: every key survives. */
final class ConcurrencyTest extends TestCase
{
    private const CLIENTS = 16;
    private const UPDATES = 30;

    public function testSixteenClientsOnTheSameUsersLoseNoKey(): void
    {
        $stack = LegacyStack::get();
        $users = [Vectors::uuid(), Vectors::uuid(), Vectors::uuid()];
        $procs = [];
        for ($c = 0; $c < self::CLIENTS; $c++) {
            $cmd = array_merge(
                [PHP_BINARY, __DIR__ . '/concurrent_client.php', $stack->url(), (string) $c, (string) self::UPDATES],
                $users,
            );
            $procs[$c] = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
            $procs[$c] = [$procs[$c], $pipes];
        }
        $errors = [];
        foreach ($procs as $c => [$proc, $pipes]) {
            $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
            $rc = proc_close($proc);
            if ($rc !== 0) {
                $errors[] = "client $c exited $rc: $out";
            }
        }
        $this->assertSame([], $errors);

        $missing = [];
        foreach ($users as $u => $user) {
            $res = Http::request($stack->url(), 'GET', "/api/v1/profile/get?user_id=$user");
            $this->assertSame(200, $res->status, $res->body);
            $attrs = json_decode($res->body, true)['data']['attributes'];
            for ($c = 0; $c < self::CLIENTS; $c++) {
                for ($i = $u; $i < self::UPDATES; $i += count($users)) {
                    if (($attrs["c{$c}_$i"] ?? null) !== "v{$c}_$i") {
                        $missing[] = "$user c{$c}_$i";
                    }
                }
            }
            $this->assertMatchesRegularExpression('/^c\d+$/', $attrs['shared']);
        }
        $this->assertSame([], $missing, 'keys lost under concurrency');

        $stmt = $stack->pdo()->prepare('SELECT COUNT(*) FROM profile_history WHERE user_id IN (?, ?, ?)');
        $stmt->execute($users);
        $this->assertSame(self::CLIENTS * self::UPDATES, (int) $stmt->fetchColumn(), 'one history row per update');
    }

    public function testConcurrentRepeatsOfOneIdempotencyKeyApplyOnce(): void
    {
        $stack = LegacyStack::get();
        $user = Vectors::uuid();
        $key = 'race-' . bin2hex(random_bytes(6));
        $body = json_encode(['user_id' => $user, 'attributes' => ['once' => 'yes']]);
        $php = 'require ' . var_export(dirname(__DIR__, 2) . '/autoload.php', true) . ';'
            . '$r = Ficus\Tests\Support\Http::request($argv[1], "POST", "/api/v1/profile/update",'
            . ' ["Content-Type" => "application/json", "Idempotency-Key" => $argv[2]], $argv[3]);'
            . 'echo $r->status, " ", $r->body;';
        $procs = [];
        for ($c = 0; $c < 8; $c++) {
            $p = proc_open([PHP_BINARY, '-r', $php, $stack->url(), $key, $body], [1 => ['pipe', 'w']], $pipes);
            $procs[] = [$p, $pipes];
        }
        $ok = [];
        foreach ($procs as [$p, $pipes]) {
            $out = (string) stream_get_contents($pipes[1]);
            proc_close($p);
            [$status, $resBody] = explode(' ', $out, 2) + [1 => ''];
            $this->assertContains($status, ['200', '409'], $out);
            if ($status === '200') {
                $ok[] = $resBody;
            } else {
                $this->assertSame(
                    '{"ret":409,"data":null,"msg":"Idempotency-Key: a request with this key is in progress"}',
                    $resBody,
                );
            }
        }
        $this->assertNotEmpty($ok);
        $this->assertCount(1, array_unique($ok), 'every 200 is the same stored body');
        $stmt = $stack->pdo()->prepare('SELECT COUNT(*) FROM profile_history WHERE user_id = ?');
        $stmt->execute([$user]);
        $this->assertSame(1, (int) $stmt->fetchColumn(), 'applied exactly once');
    }
}
