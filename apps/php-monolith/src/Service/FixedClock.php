<?php

declare(strict_types=1);

namespace Ficus\Legacy\Service;

/** A settable clock for tests. */
final class FixedClock implements Clock
{
    public function __construct(private int $nowUs)
    {
    }

    public function nowUs(): int
    {
        return $this->nowUs;
    }

    public function set(int $nowUs): void
    {
        $this->nowUs = $nowUs;
    }
}
