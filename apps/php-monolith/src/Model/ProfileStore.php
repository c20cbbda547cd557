<?php

declare(strict_types=1);

namespace Ficus\Legacy\Model;

use Ficus\Legacy\Service\Error;

/**
 * Profile storage (role interface; MysqlProfileStore is the implementation,
 * CachedProfileStore the APCu read cache in front of it). Storage failures
 * come back as Error::unavailable("storage: ..."), never as exceptions.
 */
interface ProfileStore
{
    /** The current profile with live values only; null if the user has none. */
    public function find(string $userId): StoredProfile|null|Error;

    /**
     * Runs one update as ONE transaction holding the user's profile row lock:
     * loads every cell (tombstones included), calls $decide(StoredProfile):
     * ProfileWrite (pure, no I/O), writes its cells, updated_us and history
     * row, and, when $claim is given, completes the Idempotency-Key with the
     * response body in the same commit. If the claim was taken over
     * meanwhile, nothing is written and Error::conflict is returned.
     *
     * @param callable(StoredProfile): ProfileWrite $decide
     */
    public function update(string $userId, callable $decide, ?IdempotencyClaim $claim): ProfileWrite|Error;

    /** Claims (userId, key) for a request whose raw body hashes to $fingerprint. */
    public function claim(string $userId, string $key, string $fingerprint, int $nowUs): IdempotencyClaim|Error;

    /** Gives a CLAIMED key back (the request failed; the client may retry). */
    public function release(IdempotencyClaim $claim): void;
}
