<?php

declare(strict_types=1);

namespace Ficus\Kernel;

use Throwable;

/**
 * The front controller's engine: route, check the action's parameter rules,
 * call the action. Any uncaught Throwable becomes a 500 envelope (logged);
 * actions are expected to map their own errors.
 */
final class App
{
    public function __construct(private readonly Container $container, private readonly Router $router)
    {
    }

    public function handle(Request $request): Response
    {
        try {
            $route = $this->router->match($request->method, $request->path);
            if ($route instanceof Response) {
                return $route;
            }
            [$apiId, $action] = $route;
            $api = $this->container->get($apiId);
            if (!$api instanceof Api) {
                throw new \LogicException("route target '$apiId' is not an Api");
            }
            $params = ParamRules::apply($api->getRules()[$action] ?? [], $request);
            if ($params instanceof Response) {
                return $params;
            }
            $response = $api->{$action}($params, $request);
            if (!$response instanceof Response) {
                throw new \LogicException("action $apiId::$action returned no Response");
            }
            return $response;
        } catch (Throwable $e) {
            error_log('ficus-legacy: unhandled ' . get_class($e) . ': ' . $e->getMessage());
            return Response::error(500, 'internal: unexpected error');
        }
    }
}
