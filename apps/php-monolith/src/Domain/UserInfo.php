<?php

declare(strict_types=1);

namespace Ficus\Legacy\Domain;

/** What /api/v1/user/info shows about a user (a Domain type, so the Api never sees Model rows). */
final class UserInfo
{
    public function __construct(
        public readonly string $userId,
        public readonly string $name,
        public readonly string $email,
        public readonly string $country,
        public readonly string $createdAt,
    ) {
    }
}
