<?php

declare(strict_types=1);

namespace Ficus\Legacy\Model;

use Ficus\Legacy\Service\Error;

/**
 * APCu read cache in front of a ProfileStore (shared by all php-fpm workers).
 *
 * find() serves from the cache, else reads through and fills it with
 * apcu_add(). update() invalidates after its commit by storing a short-lived
 * marker instead of deleting: a reader that loaded the old row before the
 * commit cannot apcu_add() it over the marker, so no stale profile is cached.
 * While the marker lives, reads of that user go to the database.
 */
final class CachedProfileStore implements ProfileStore
{
    private const PREFIX = 'ficus:profile:';
    private const TTL_S = 300;
    private const MARKER_TTL_S = 5;

    private readonly bool $enabled;

    public function __construct(private readonly ProfileStore $inner)
    {
        $this->enabled = function_exists('apcu_enabled') && apcu_enabled();
    }

    public function find(string $userId): StoredProfile|null|Error
    {
        if (!$this->enabled) {
            return $this->inner->find($userId);
        }
        $hit = apcu_fetch(self::PREFIX . $userId, $found);
        if ($found && is_array($hit) && array_key_exists('profile', $hit)) {
            return $hit['profile'];
        }
        $profile = $this->inner->find($userId);
        if (!$found && !$profile instanceof Error) {
            apcu_add(self::PREFIX . $userId, ['profile' => $profile], self::TTL_S);
        }
        return $profile;
    }

    public function update(string $userId, callable $decide, ?IdempotencyClaim $claim): ProfileWrite|Error
    {
        $result = $this->inner->update($userId, $decide, $claim);
        $this->invalidate($userId);
        return $result;
    }

    public function claim(string $userId, string $key, string $fingerprint, int $nowUs): IdempotencyClaim|Error
    {
        return $this->inner->claim($userId, $key, $fingerprint, $nowUs);
    }

    public function release(IdempotencyClaim $claim): void
    {
        $this->inner->release($claim);
    }

    private function invalidate(string $userId): void
    {
        if ($this->enabled) {
            apcu_store(self::PREFIX . $userId, ['marker' => true], self::MARKER_TTL_S);
        }
    }
}
