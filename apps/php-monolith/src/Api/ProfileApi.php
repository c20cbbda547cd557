<?php

declare(strict_types=1);

namespace Ficus\Legacy\Api;

use Ficus\Kernel\Api;
use Ficus\Kernel\Request;
use Ficus\Kernel\Response;
use Ficus\Legacy\Domain\ProfileDomain;
use Ficus\Legacy\Service\Error;

/**
 * POST /api/v1/profile/update and GET /api/v1/profile/get. The rules below
 * are contract checks 2..14 in contract order; the Domain does 15..20.
 */
final class ProfileApi extends Api
{
    public function __construct(private readonly ProfileDomain $profiles)
    {
    }

    public function getRules(): array
    {
        return [
            'update' => [
                ['source' => 'body', 'name' => 'body', 'type' => 'size', 'max' => 65536,
                    'message' => 'body: larger than 65536 bytes'],
                ['source' => 'header', 'name' => 'Content-Type', 'type' => 'media', 'value' => 'application/json',
                    'message' => 'must be application/json'],
                ['source' => 'header', 'name' => 'Idempotency-Key', 'type' => 'string', 'as' => 'idempotency_key',
                    'regex' => '/^[\x21-\x7e]{1,128}$/D',
                    'message' => 'must be 1 to 128 printable ASCII characters'],
                ['source' => 'header', 'name' => 'X-Ficus-Timestamp', 'type' => 'int', 'as' => 'ts',
                    'regex' => '/^[0-9]{1,16}$/D', 'min' => 1,
                    'message' => 'must be a positive integer of microseconds since the epoch'],
                ['source' => 'body', 'name' => 'body', 'type' => 'json_object', 'fields' => ['user_id', 'attributes']],
                ['source' => 'json', 'name' => 'user_id', 'type' => 'string', 'require' => true,
                    'regex' => Rules::UUID_REGEX, 'message' => Rules::UUID_MESSAGE],
                ['source' => 'json', 'name' => 'attributes', 'type' => 'object', 'require' => true],
            ],
            'get' => [Rules::userIdQuery()],
        ];
    }

    /** @param array<string, mixed> $params */
    public function update(array $params, Request $request): Response
    {
        $outcome = $this->profiles->update(
            $params['user_id'],
            $params['attributes'],
            $params['ts'],
            $params['idempotency_key'],
            hash('sha256', $request->body),
            [ProfileRenderer::class, 'body'],
        );
        if ($outcome instanceof Error) {
            return ErrorStatus::response($outcome);
        }
        return Response::raw(200, $outcome->body);
    }

    /** @param array<string, mixed> $params */
    public function get(array $params, Request $request): Response
    {
        $view = $this->profiles->get($params['user_id']);
        if ($view instanceof Error) {
            return ErrorStatus::response($view);
        }
        return Response::ok(ProfileRenderer::data($view));
    }
}
