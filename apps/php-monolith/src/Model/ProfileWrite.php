<?php

declare(strict_types=1);

namespace Ficus\Legacy\Model;

/**
 * What one accepted update writes, decided by the Domain inside the store's
 * transaction: the cells that won (upserted), the profile's new updated_us,
 * the history row, and the response body kept for an Idempotency-Key replay.
 */
final class ProfileWrite
{
    /** @param array<string, Cell> $cells */
    public function __construct(
        public readonly array $cells,
        public readonly int $updatedUs,
        public readonly int $tsUs,
        public readonly string $historyJson,
        public readonly string $responseBody,
    ) {
    }
}
