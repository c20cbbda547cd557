<?php

declare(strict_types=1);

namespace Ficus\Legacy\Service;

final class SystemClock implements Clock
{
    public function nowUs(): int
    {
        // microtime() as a string keeps all microsecond digits (a float does not).
        [$frac, $sec] = explode(' ', microtime());
        return (int) $sec * 1_000_000 + (int) round((float) $frac * 1_000_000);
    }
}
