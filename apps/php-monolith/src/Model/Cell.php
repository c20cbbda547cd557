<?php

declare(strict_types=1);

namespace Ficus\Legacy\Model;

/** One stored attribute: its value (null = tombstone) and its write timestamp (µs). */
final class Cell
{
    public function __construct(public readonly ?string $value, public readonly int $ts)
    {
    }
}
