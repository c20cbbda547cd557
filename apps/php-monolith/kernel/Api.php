<?php

declare(strict_types=1);

namespace Ficus\Kernel;

/**
 * Base of every Api class (PhalApi style): getRules() declares, per action,
 * the ordered parameter rules the kernel checks before calling the action
 * (see ParamRules for the rule format). An action receives the validated
 * parameters and the request, and returns a Response.
 */
abstract class Api
{
    /** @return array<string, list<array<string, mixed>>> action => ordered rules */
    public function getRules(): array
    {
        return [];
    }
}
