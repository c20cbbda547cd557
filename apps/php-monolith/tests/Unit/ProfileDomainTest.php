<?php

declare(strict_types=1);

namespace Ficus\Tests\Unit;

use Ficus\Legacy\Domain\ProfileDomain;
use Ficus\Legacy\Domain\ProfileView;
use Ficus\Legacy\Domain\UpdateOutcome;
use Ficus\Legacy\Service\Error;
use Ficus\Legacy\Service\FixedClock;
use PHPUnit\Framework\TestCase;

final class ProfileDomainTest extends TestCase
{
    private const U = '6F1C2A9E-8D0B-4C1E-9A57-3F2D1B0C4E11';
    private const LOWER = '6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11';

    private MemoryProfileStore $store;
    private FixedClock $clock;
    private ProfileDomain $domain;

    protected function setUp(): void
    {
        $this->store = new MemoryProfileStore();
        $this->clock = new FixedClock(1_000_000);
        $this->domain = new ProfileDomain($this->store, $this->clock);
    }

    public static function render(ProfileView $v): string
    {
        return $v->userId . '@' . $v->updatedUs . ' ' . json_encode((object) $v->attributes);
    }

    private function update(array $attrs, ?int $ts = null, ?string $key = null, string $fp = 'fp'): UpdateOutcome|Error
    {
        return $this->domain->update(self::U, (object) $attrs, $ts, $key, $fp, [self::class, 'render']);
    }

    public function testStampsWithTheClockOrTheHeaderAndLowercasesTheUser(): void
    {
        $this->assertSame(self::LOWER . '@1000000 {"a":"1"}', $this->update(['a' => '1'])->body);
        $this->assertSame(self::LOWER . '@5000000 {"a":"1","b":"2"}', $this->update(['b' => '2'], 5_000_000)->body);
        // An older write loses per key and does not move updated_at back.
        $this->clock->set(2_000_000);
        $this->assertSame(self::LOWER . '@5000000 {"a":"x","b":"2"}', $this->update(['a' => 'x', 'b' => 'old'])->body);
        $this->assertCount(3, $this->store->history, 'every accepted update is in the history');
    }

    public function testInvalidAttributesWriteNothing(): void
    {
        $r = $this->update(['ok' => '1', 'bad' => 5], null, 'k');
        $this->assertInstanceOf(Error::class, $r);
        $this->assertSame('attributes.bad: value must be a string or null', $r->message);
        $this->assertSame([[], [], []], [$this->store->profiles, $this->store->history, $this->store->keys]);
    }

    public function testIdempotencyReplayMismatchAndInFlight(): void
    {
        $first = $this->update(['n' => '1'], null, 'k', 'fp1');
        $this->assertFalse($first->replayed);
        $again = $this->update(['n' => '1'], null, 'k', 'fp1');
        $this->assertTrue($again->replayed);
        $this->assertSame($first->body, $again->body);
        $this->assertCount(1, $this->store->history);

        $other = $this->update(['n' => '2'], null, 'k', 'fp2');
        $this->assertSame(
            [Error::MISMATCH, 'Idempotency-Key: reused with a different request body'],
            [$other->code, $other->message],
        );

        $this->store->keys[self::LOWER . ' busy'] = ['fp3', null];
        $busy = $this->update(['n' => '3'], null, 'busy', 'fp3');
        $this->assertSame(
            [Error::CONFLICT, 'Idempotency-Key: a request with this key is in progress'],
            [$busy->code, $busy->message],
        );
    }

    public function testAFailedAttemptGivesTheKeyBack(): void
    {
        $this->store->failNextUpdate = Error::unavailable('storage: database unavailable');
        $r = $this->update(['n' => '1'], null, 'k');
        $this->assertSame('storage: database unavailable', $r->message);
        $this->assertSame([], $this->store->keys);
        $this->assertInstanceOf(UpdateOutcome::class, $this->update(['n' => '1'], null, 'k'));
    }

    public function testGetIsNotFoundUntilTheFirstUpdateAndSurvivesDeletingEveryKey(): void
    {
        $r = $this->domain->get(self::U);
        $this->assertSame([Error::NOT_FOUND, 'user_id: no profile for this user'], [$r->code, $r->message]);
        $this->update(['a' => '1']);
        $this->update(['a' => null]);
        $view = $this->domain->get(self::U);
        $this->assertInstanceOf(ProfileView::class, $view);
        $this->assertSame([self::LOWER, []], [$view->userId, $view->attributes]);
    }
}
