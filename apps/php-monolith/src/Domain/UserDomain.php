<?php

declare(strict_types=1);

namespace Ficus\Legacy\Domain;

use Ficus\Legacy\Model\UserStore;
use Ficus\Legacy\Service\Error;

/** The non-migrated user/info endpoint's rules (lookup by canonical id). */
final class UserDomain
{
    public function __construct(private readonly UserStore $users)
    {
    }

    public function info(string $userId): UserInfo|Error
    {
        $user = $this->users->find(strtolower($userId));
        if ($user === null) {
            return Error::notFound('user_id: no such user');
        }
        if ($user instanceof Error) {
            return $user;
        }
        return new UserInfo($user->userId, $user->name, $user->email, $user->country, $user->createdAt);
    }
}
