<?php

declare(strict_types=1);

namespace Ficus\Legacy\Api;

use Ficus\Kernel\Api;
use Ficus\Kernel\Request;
use Ficus\Kernel\Response;

/** GET /healthz: liveness of nginx + php-fpm (no database round trip). */
final class HealthApi extends Api
{
    /** @param array<string, mixed> $params */
    public function check(array $params, Request $request): Response
    {
        return Response::ok(['status' => 'ok']);
    }
}
