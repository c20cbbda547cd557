<?php

declare(strict_types=1);

/*
 * One client process of ConcurrencyTest:
 *   php concurrent_client.php URL CLIENT N USER...
 * sends N updates, update i to USER[i % count] with the distinct key
 * c<CLIENT>_<i> (plus a shared key every client overwrites). Exit 1 and a
 * message on the first non-200 answer.
 */
require dirname(__DIR__, 2) . '/autoload.php';

use Ficus\Tests\Support\Http;

[, $url, $client, $n] = $argv;
$users = array_slice($argv, 4);
for ($i = 0; $i < (int) $n; $i++) {
    $user = $users[$i % count($users)];
    $attributes = ["c{$client}_$i" => "v{$client}_$i", 'shared' => "c$client"];
    $body = json_encode(['user_id' => $user, 'attributes' => $attributes]);
    $res = Http::request($url, 'POST', '/api/v1/profile/update', ['Content-Type' => 'application/json'], $body);
    if ($res->status !== 200) {
        fwrite(STDERR, "client $client update $i: {$res->status} {$res->body}\n");
        exit(1);
    }
}
