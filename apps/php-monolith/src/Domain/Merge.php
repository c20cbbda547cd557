<?php

declare(strict_types=1);

namespace Ficus\Legacy\Domain;

use Ficus\Legacy\Model\Cell;

/**
 * Per-key last-write-wins merge with tombstones, resolving ties like
 * ScyllaDB cells so the legacy and the new store converge:
 * newer ts wins; at equal ts a tombstone beats a value, and between two
 * values the bytewise greater wins. Pure.
 */
final class Merge
{
    /** Whether $candidate replaces $current. */
    public static function wins(Cell $candidate, ?Cell $current): bool
    {
        if ($current === null) {
            return true;
        }
        if ($candidate->ts !== $current->ts) {
            return $candidate->ts > $current->ts;
        }
        if ($candidate->value === null) {
            return $current->value !== null;
        }
        if ($current->value === null) {
            return false;
        }
        return strcmp($candidate->value, $current->value) > 0;
    }

    /**
     * Applies $changes (key => value, null = delete) stamped $ts to $cells.
     *
     * @param array<string, Cell> $cells
     * @param array<string, ?string> $changes
     * @return array{0: array<string, Cell>, 1: array<string, Cell>} [cells that won, merged cells]
     */
    public static function apply(array $cells, array $changes, int $ts): array
    {
        $won = [];
        foreach ($changes as $key => $value) {
            $key = (string) $key;
            $candidate = new Cell($value, $ts);
            if (self::wins($candidate, $cells[$key] ?? null)) {
                $won[$key] = $candidate;
                $cells[$key] = $candidate;
            }
        }
        return [$won, $cells];
    }
}
