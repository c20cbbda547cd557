<?php

declare(strict_types=1);

namespace Ficus\Legacy\Model;

use Ficus\Legacy\Service\Error;

/** Read access to users (the non-migrated /api/v1/user/info endpoint). */
interface UserStore
{
    /** The user, null if unknown, Error::unavailable on storage failure. */
    public function find(string $userId): UserRecord|null|Error;
}
