<?php

declare(strict_types=1);

namespace Ficus\Tests\Blackbox;

use Ficus\Tests\Support\LegacyStack;
use Ficus\Tests\Support\Vectors;
use PHPUnit\Framework\TestCase;
use stdClass;

/** Every case of packages/api-contract/vectors.json, over HTTP, against /api/v1. */
final class ContractVectorsTest extends TestCase
{
    /** @return array<string, array{stdClass}> */
    public static function cases(): array
    {
        return array_map(static fn (stdClass $c) => [$c], Vectors::cases());
    }

    /** @dataProvider cases */
    public function testVector(stdClass $case): void
    {
        $failures = Vectors::run($case, LegacyStack::get()->url(), 'v1');
        $this->assertSame([], $failures, $case->name);
    }

    public function testVectorFileHasTheCasesTheIssueAsksFor(): void
    {
        $this->assertGreaterThanOrEqual(50, count(Vectors::cases()));
    }
}
