<?php

declare(strict_types=1);

namespace Ficus\Legacy\Model;

/** A row of the `users` table. */
final class UserRecord
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
