<?php

declare(strict_types=1);

namespace Ficus\Tests\Unit;

use Ficus\Kernel\Envelope;
use Ficus\Kernel\ParamRules;
use Ficus\Kernel\Request;
use Ficus\Kernel\Response;
use Ficus\Kernel\Router;
use Ficus\Legacy\Api\ProfileApi;
use Ficus\Legacy\Api\ProfileRenderer;
use Ficus\Legacy\Domain\ProfileView;
use PHPUnit\Framework\TestCase;
use ReflectionClass;

final class KernelTest extends TestCase
{
    private const UUID = '6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11';

    public function testEnvelopeEncodingIsCompactAndUnescaped(): void
    {
        $this->assertSame(
            '{"ret":200,"data":{"s":"李/\"\\\\\u0001\u001f","e":{}},"msg":""}',
            Envelope::encode(200, ['s' => "李/\"\\\x01\x1f", 'e' => (object) []], ''),
        );
        $this->assertSame('{"ret":404,"data":null,"msg":"x"}', Envelope::encode(404, null, 'x'));
    }

    public function testProfileRendering(): void
    {
        $view = new ProfileView(self::UUID, 1700000000000200, []);
        $this->assertSame(
            '{"ret":200,"data":{"user_id":"' . self::UUID . '",'
                . '"updated_at":"2023-11-14T22:13:20.000200Z","attributes":{}},"msg":""}',
            ProfileRenderer::body($view),
        );
        $this->assertSame('1970-01-01T00:00:00.000001Z', ProfileRenderer::formatUs(1));
        $data = ProfileRenderer::data(new ProfileView(self::UUID, 1, ['0' => 'a', 'b' => 'c']));
        $this->assertSame('{"0":"a","b":"c"}', json_encode($data['attributes']));
    }

    public function testRouterAnswers404And405(): void
    {
        $r = new Router();
        $r->add('POST', '/u', 'api', 'update');
        $this->assertSame(['api', 'update'], $r->match('POST', '/u'));
        $res = $r->match('GET', '/u');
        $this->assertInstanceOf(Response::class, $res);
        $this->assertSame(
            [405, ['Allow' => 'POST'], '{"ret":405,"data":null,"msg":"method: use POST"}'],
            [$res->status, $res->headers, $res->body],
        );
        $this->assertSame('{"ret":404,"data":null,"msg":"path: no such endpoint"}', $r->match('GET', '/x')->body);
    }

    /** @param array<string, string> $headers */
    private static function updateRules(array $headers, string $body): array|Response
    {
        $api = (new ReflectionClass(ProfileApi::class))->newInstanceWithoutConstructor();
        return ParamRules::apply($api->getRules()['update'], new Request('POST', '/', [], $headers, $body));
    }

    public function testUpdateRulesRunInContractOrder(): void
    {
        $json = ['content-type' => 'application/json'];
        $idem = 'Idempotency-Key: must be 1 to 128 printable ASCII characters';
        $ts = 'X-Ficus-Timestamp: must be a positive integer of microseconds since the epoch';
        $cases = [
            [[], str_repeat(' ', 65537), 413, 'body: larger than 65536 bytes'],
            [['content-type' => 'text/json'], '{}', 415, 'Content-Type: must be application/json'],
            [$json + ['idempotency-key' => ''], '{}', 400, $idem],
            [$json + ['x-ficus-timestamp' => '00'], '{}', 400, $ts],
            [$json + ['x-ficus-timestamp' => '12345678901234567'], '{}', 400, $ts],
            [$json, "\xff", 400, 'body: not valid UTF-8'],
            [$json, '{"a":', 400, 'body: malformed JSON'],
            [$json, '[]', 400, 'body: must be a JSON object'],
            [$json, '{"attributes":{},"x":1,"y":2}', 400, 'x: unknown field'],
            [$json, '{"attributes":[]}', 400, 'user_id: required'],
            [$json, '{"user_id":null}', 400, 'user_id: must be a string'],
            [$json, '{"user_id":"' . strtoupper(self::UUID) . "\\n\"}", 400, 'user_id: must be a canonical UUID'],
            [$json, '{"user_id":"' . self::UUID . '"}', 400, 'attributes: required'],
            [$json, '{"user_id":"' . self::UUID . '","attributes":[]}', 400, 'attributes: must be an object'],
        ];
        foreach ($cases as [$headers, $body, $status, $msg]) {
            $res = self::updateRules($headers, $body);
            $this->assertInstanceOf(Response::class, $res, $msg);
            $this->assertSame([$status, Envelope::encode($status, null, $msg)], [$res->status, $res->body]);
        }
        $ok = self::updateRules(
            ['content-type' => 'application/json; charset=UTF-8', 'x-ficus-timestamp' => '42'],
            '{"user_id":"' . self::UUID . '","attributes":{}}',
        );
        $this->assertIsArray($ok);
        $this->assertSame(42, $ok['ts']);
        $this->assertNull($ok['idempotency_key']);
    }
}
