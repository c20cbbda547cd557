<?php

declare(strict_types=1);

namespace Ficus\Tests\Unit;

use Ficus\Legacy\Domain\AttributeRules;
use Ficus\Legacy\Service\Error;
use PHPUnit\Framework\TestCase;

final class AttributeRulesTest extends TestCase
{
    private const KEY_RULE = ': key must be 1 to 64 bytes of [A-Za-z0-9_.:-]';

    private static function check(string $json): array|Error
    {
        return AttributeRules::check(json_decode($json, false, 512, JSON_THROW_ON_ERROR));
    }

    private function assertRejected(string $json, string $msg): void
    {
        $r = self::check($json);
        $this->assertInstanceOf(Error::class, $r);
        $this->assertSame(Error::INVALID_ARGUMENT, $r->code);
        $this->assertSame($msg, $r->message);
    }

    public function testAcceptsValuesNullsAndKeepsDocumentOrder(): void
    {
        $this->assertSame(
            ['z' => 'last', 'a' => null, 'k.e:y-_9' => ''],
            self::check('{"z":"last","a":null,"k.e:y-_9":""}'),
        );
    }

    public function testEntryCount(): void
    {
        $this->assertRejected('{}', 'attributes: must have 1 to 64 entries');
        $many = [];
        for ($i = 0; $i < 65; $i++) {
            $many["k$i"] = 'v';
        }
        $this->assertRejected(json_encode($many), 'attributes: must have 1 to 64 entries');
        array_pop($many);
        $this->assertCount(64, self::check(json_encode($many)));
    }

    public function testKeyRule(): void
    {
        $this->assertRejected('{"ok":"1","bad key":"v"}', 'attributes.bad key' . self::KEY_RULE);
        $this->assertRejected('{"":"v"}', 'attributes.: key must be 1 to 64 bytes of [A-Za-z0-9_.:-]');
        $this->assertRejected('{"a\n":"v"}', "attributes.a\n: key must be 1 to 64 bytes of [A-Za-z0-9_.:-]");
        $long = str_repeat('k', 65);
        $this->assertRejected('{"' . $long . '":"v"}', 'attributes.' . $long . self::KEY_RULE);
        $this->assertIsArray(self::check('{"' . str_repeat('k', 64) . '":"v"}'));
        $this->assertSame(['7' => 'numeric keys stay strings'], self::check('{"7":"numeric keys stay strings"}'));
    }

    public function testValueRules(): void
    {
        foreach (['5', '1.5', 'true', '{"a":"b"}', '["a"]'] as $bad) {
            $this->assertRejected('{"a":"ok","v":' . $bad . '}', 'attributes.v: value must be a string or null');
        }
        $this->assertRejected(
            '{"bio":"' . str_repeat('x', 1025) . '"}',
            'attributes.bio: value longer than 1024 bytes',
        );
        $this->assertRejected('{"bio":"' . str_repeat('é', 513) . '"}', 'attributes.bio: value longer than 1024 bytes');
        $this->assertIsArray(self::check('{"bio":"' . str_repeat('é', 512) . '"}'));
    }

    public function testFirstFailureInDocumentOrderAnswers(): void
    {
        $this->assertRejected('{"v":5,"bad key":"x"}', 'attributes.v: value must be a string or null');
        $this->assertRejected('{"bad key":5,"v":5}', 'attributes.bad key' . self::KEY_RULE);
    }
}
