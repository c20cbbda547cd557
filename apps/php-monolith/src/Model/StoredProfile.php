<?php

declare(strict_types=1);

namespace Ficus\Legacy\Model;

/**
 * A profile as stored. updatedUs is null when the user has no profile yet.
 * cells: attr_key => Cell. From ProfileStore::find() only live values (no
 * tombstones); inside ProfileStore::update() every cell including tombstones.
 */
final class StoredProfile
{
    /** @param array<string, Cell> $cells */
    public function __construct(
        public readonly string $userId,
        public readonly ?int $updatedUs,
        public readonly array $cells,
    ) {
    }
}
