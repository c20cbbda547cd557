<?php

declare(strict_types=1);

namespace Ficus\Legacy\Domain;

/**
 * A successful update: the exact 200 response body (freshly rendered, or the
 * stored one when an Idempotency-Key replays) and whether it was a replay.
 */
final class UpdateOutcome
{
    public function __construct(public readonly string $body, public readonly bool $replayed)
    {
    }
}
