<?php

declare(strict_types=1);

namespace Ficus\Tests\Unit;

use Ficus\Legacy\Domain\Merge;
use Ficus\Legacy\Model\Cell;
use PHPUnit\Framework\TestCase;

final class MergeTest extends TestCase
{
    public function testNewerWriteWinsOlderLoses(): void
    {
        $this->assertTrue(Merge::wins(new Cell('a', 2), new Cell('b', 1)));
        $this->assertFalse(Merge::wins(new Cell('a', 1), new Cell('b', 2)));
        $this->assertTrue(Merge::wins(new Cell('a', 1), null));
    }

    public function testTombstoneIsRememberedAgainstOlderWrites(): void
    {
        $this->assertFalse(Merge::wins(new Cell('late', 100), new Cell(null, 200)));
        $this->assertTrue(Merge::wins(new Cell('newer', 300), new Cell(null, 200)));
    }

    public function testTiesResolveLikeScyllaCells(): void
    {
        $this->assertTrue(Merge::wins(new Cell(null, 5), new Cell('x', 5)), 'tombstone beats value');
        $this->assertFalse(Merge::wins(new Cell('x', 5), new Cell(null, 5)));
        $this->assertFalse(Merge::wins(new Cell(null, 5), new Cell(null, 5)));
        $this->assertTrue(Merge::wins(new Cell('z', 5), new Cell('m', 5)), 'bytewise greater wins');
        $this->assertFalse(Merge::wins(new Cell('c', 5), new Cell('z', 5)));
        $this->assertFalse(Merge::wins(new Cell('same', 5), new Cell('same', 5)));
        // Bytewise, not locale or case-insensitive: 'a' (0x61) > 'Z' (0x5a), 'é' (0xc3..) > 'z'.
        $this->assertTrue(Merge::wins(new Cell('a', 5), new Cell('Z', 5)));
        $this->assertTrue(Merge::wins(new Cell('é', 5), new Cell('z', 5)));
    }

    public function testApplyReturnsOnlyWinningCellsAndTheMergedSet(): void
    {
        $cells = ['a' => new Cell('new', 200), 'b' => new Cell('b1', 100), 'gone' => new Cell(null, 150)];
        [$won, $merged] = Merge::apply($cells, ['a' => 'old', 'b' => null, 'c' => 'c1', 'gone' => 'back'], 120);
        $this->assertEquals(['b' => new Cell(null, 120), 'c' => new Cell('c1', 120)], $won);
        $this->assertEquals('new', $merged['a']->value);
        $this->assertNull($merged['b']->value);
        $this->assertNull($merged['gone']->value);
        $this->assertSame('c1', $merged['c']->value);
    }

    public function testApplyIsOrderIndependent(): void
    {
        $updates = [[['k' => 'v1', 'x' => null], 10], [['k' => null], 10], [['k' => 'v2', 'x' => 'y'], 9]];
        $results = [];
        foreach ([[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] as $order) {
            $cells = [];
            foreach ($order as $i) {
                [, $cells] = Merge::apply($cells, $updates[$i][0], $updates[$i][1]);
            }
            ksort($cells);
            $results[] = $cells;
        }
        foreach ($results as $r) {
            $this->assertEquals($results[0], $r);
        }
        $this->assertNull($results[0]['k']->value);
    }
}
