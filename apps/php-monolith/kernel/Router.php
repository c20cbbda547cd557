<?php

declare(strict_types=1);

namespace Ficus\Kernel;

/**
 * Exact-path router: (method, path) -> (container id of an Api object, action).
 * A known path with another method is a 405 naming the allowed method; an
 * unknown path is a 404.
 */
final class Router
{
    /** @var array<string, array<string, array{0: string, 1: string}>> path => method => [id, action] */
    private array $routes = [];

    public function add(string $method, string $path, string $apiId, string $action): void
    {
        $this->routes[$path][strtoupper($method)] = [$apiId, $action];
    }

    /** @return array{0: string, 1: string}|Response the [apiId, action] or the error response */
    public function match(string $method, string $path): array|Response
    {
        $byMethod = $this->routes[$path] ?? null;
        if ($byMethod === null) {
            return Response::error(404, 'path: no such endpoint');
        }
        if (!isset($byMethod[$method])) {
            $allow = implode(', ', array_keys($byMethod));
            return Response::error(405, 'method: use ' . $allow, ['Allow' => $allow]);
        }
        return $byMethod[$method];
    }
}
