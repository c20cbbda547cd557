<?php

declare(strict_types=1);

namespace Ficus\Tests\Unit;

use Ficus\Legacy\Model\Cell;
use Ficus\Legacy\Model\IdempotencyClaim;
use Ficus\Legacy\Model\ProfileStore;
use Ficus\Legacy\Model\ProfileWrite;
use Ficus\Legacy\Model\StoredProfile;
use Ficus\Legacy\Service\Error;

/**
 * In-memory ProfileStore for Domain unit tests (the MySQL store itself is
 * exercised by the black-box suite against a real MariaDB).
 */
final class MemoryProfileStore implements ProfileStore
{
    /** @var array<string, array{int, array<string, Cell>}> */
    public array $profiles = [];
    /** @var list<array{string, string}> */
    public array $history = [];
    /** @var array<string, array{string, ?string}> "user key" => [fingerprint, response or null if pending] */
    public array $keys = [];
    public ?Error $failNextUpdate = null;

    public function find(string $userId): StoredProfile|null|Error
    {
        if (!isset($this->profiles[$userId])) {
            return null;
        }
        [$updated, $cells] = $this->profiles[$userId];
        return new StoredProfile($userId, $updated, array_filter($cells, static fn (Cell $c) => $c->value !== null));
    }

    public function update(string $userId, callable $decide, ?IdempotencyClaim $claim): ProfileWrite|Error
    {
        if ($this->failNextUpdate !== null) {
            $e = $this->failNextUpdate;
            $this->failNextUpdate = null;
            return $e;
        }
        [$updated, $cells] = $this->profiles[$userId] ?? [null, []];
        $write = $decide(new StoredProfile($userId, $updated, $cells));
        $this->profiles[$userId] = [$write->updatedUs, array_merge($cells, $write->cells)];
        $this->history[] = [$userId, $write->historyJson];
        if ($claim !== null) {
            $this->keys["$userId $claim->key"][1] = $write->responseBody;
        }
        return $write;
    }

    public function claim(string $userId, string $key, string $fingerprint, int $nowUs): IdempotencyClaim|Error
    {
        $id = "$userId $key";
        if (!isset($this->keys[$id])) {
            $this->keys[$id] = [$fingerprint, null];
            return new IdempotencyClaim(IdempotencyClaim::CLAIMED, $userId, $key, 't');
        }
        [$fp, $response] = $this->keys[$id];
        if ($fp !== $fingerprint) {
            return new IdempotencyClaim(IdempotencyClaim::MISMATCH, $userId, $key);
        }
        return $response === null
            ? new IdempotencyClaim(IdempotencyClaim::IN_FLIGHT, $userId, $key)
            : new IdempotencyClaim(IdempotencyClaim::REPLAY, $userId, $key, '', $response);
    }

    public function release(IdempotencyClaim $claim): void
    {
        unset($this->keys["$claim->userId $claim->key"]);
    }
}
