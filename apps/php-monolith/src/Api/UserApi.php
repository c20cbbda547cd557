<?php

declare(strict_types=1);

namespace Ficus\Legacy\Api;

use Ficus\Kernel\Api;
use Ficus\Kernel\Request;
use Ficus\Kernel\Response;
use Ficus\Legacy\Domain\UserDomain;
use Ficus\Legacy\Service\Error;

/** GET /api/v1/user/info?user_id=...: a legacy endpoint that is not migrated. */
final class UserApi extends Api
{
    public function __construct(private readonly UserDomain $users)
    {
    }

    public function getRules(): array
    {
        return ['info' => [Rules::userIdQuery()]];
    }

    /** @param array<string, mixed> $params */
    public function info(array $params, Request $request): Response
    {
        $user = $this->users->info($params['user_id']);
        if ($user instanceof Error) {
            return ErrorStatus::response($user);
        }
        return Response::ok([
            'user_id' => $user->userId,
            'name' => $user->name,
            'email' => $user->email,
            'country' => $user->country,
            'created_at' => $user->createdAt,
        ]);
    }
}
