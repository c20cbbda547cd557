<?php

declare(strict_types=1);

namespace Ficus\Legacy\Domain;

use Ficus\Legacy\Model\Cell;

/** The merged profile as clients see it: live values only, keys sorted bytewise. */
final class ProfileView
{
    /** @param array<string, string> $attributes sorted bytewise by key */
    public function __construct(
        public readonly string $userId,
        public readonly int $updatedUs,
        public readonly array $attributes,
    ) {
    }

    /** @param array<string, Cell> $cells */
    public static function fromCells(string $userId, int $updatedUs, array $cells): self
    {
        $attributes = [];
        foreach ($cells as $key => $cell) {
            if ($cell->value !== null) {
                $attributes[(string) $key] = $cell->value;
            }
        }
        ksort($attributes, SORT_STRING);
        return new self($userId, $updatedUs, $attributes);
    }
}
