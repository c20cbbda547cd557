<?php

declare(strict_types=1);

namespace Ficus\Legacy\Service;

/** Wall-clock time in microseconds since the Unix epoch (injected for tests). */
interface Clock
{
    public function nowUs(): int;
}
