<?php

declare(strict_types=1);

namespace Ficus\Legacy\Model;

/**
 * Outcome of ProfileStore::claim() for (user_id, Idempotency-Key):
 *   CLAIMED    this request owns the key (token fences it against a takeover
 *              after its lease expires); complete it through update() or
 *              give it back with release()
 *   REPLAY     a request with the same body completed: response is its body
 *   MISMATCH   the key was used with another body
 *   IN_FLIGHT  a request with the key is being processed (lease not expired)
 */
final class IdempotencyClaim
{
    public const CLAIMED = 'claimed';
    public const REPLAY = 'replay';
    public const MISMATCH = 'mismatch';
    public const IN_FLIGHT = 'in_flight';

    public function __construct(
        public readonly string $state,
        public readonly string $userId,
        public readonly string $key,
        public readonly string $token = '',
        public readonly string $response = '',
    ) {
    }
}
