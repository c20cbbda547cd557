<?php

declare(strict_types=1);

namespace Ficus\Legacy\Domain;

use Ficus\Legacy\Model\IdempotencyClaim;
use Ficus\Legacy\Model\ProfileStore;
use Ficus\Legacy\Model\ProfileWrite;
use Ficus\Legacy\Model\StoredProfile;
use Ficus\Legacy\Service\Clock;
use Ficus\Legacy\Service\Error;
use stdClass;

/**
 * Profile business rules: attribute validation, the per-key LWW merge,
 * history, Idempotency-Key handling. Storage through ProfileStore only.
 */
final class ProfileDomain
{
    private const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
        | JSON_UNESCAPED_LINE_TERMINATORS | JSON_THROW_ON_ERROR;

    public function __construct(private readonly ProfileStore $store, private readonly Clock $clock)
    {
    }

    /**
     * Validates and applies one update. $userId is a canonical UUID (any
     * case); $tsUs the X-Ficus-Timestamp if sent; $fingerprint the SHA-256 (hex) of
     * the raw body; $render turns the merged profile into the 200 body (it is
     * stored for Idempotency-Key replays, so it must be pure).
     *
     * @param callable(ProfileView): string $render
     */
    public function update(
        string $userId,
        stdClass $attributes,
        ?int $tsUs,
        ?string $idempotencyKey,
        string $fingerprint,
        callable $render,
    ): UpdateOutcome|Error {
        $changes = AttributeRules::check($attributes);
        if ($changes instanceof Error) {
            return $changes;
        }
        $userId = strtolower($userId);
        $ts = $tsUs ?? $this->clock->nowUs();

        $claim = null;
        if ($idempotencyKey !== null) {
            $claim = $this->store->claim($userId, $idempotencyKey, $fingerprint, $this->clock->nowUs());
            if ($claim instanceof Error) {
                return $claim;
            }
            switch ($claim->state) {
                case IdempotencyClaim::REPLAY:
                    return new UpdateOutcome($claim->response, true);
                case IdempotencyClaim::MISMATCH:
                    return Error::mismatch('Idempotency-Key: reused with a different request body');
                case IdempotencyClaim::IN_FLIGHT:
                    return Error::conflict('Idempotency-Key: a request with this key is in progress');
            }
        }

        $history = json_encode((object) $changes, self::JSON_FLAGS);
        $decide = static function (
            StoredProfile $current,
        ) use (
            $userId,
            $changes,
            $ts,
            $history,
            $render,
        ): ProfileWrite {
            [$won, $merged] = Merge::apply($current->cells, $changes, $ts);
            $updatedUs = max($current->updatedUs ?? 0, $ts);
            $body = $render(ProfileView::fromCells($userId, $updatedUs, $merged));
            return new ProfileWrite($won, $updatedUs, $ts, $history, $body);
        };
        $write = $this->store->update($userId, $decide, $claim);
        if ($write instanceof Error) {
            if ($claim !== null && $write->code !== Error::CONFLICT) {
                $this->store->release($claim);
            }
            return $write;
        }
        return new UpdateOutcome($write->responseBody, false);
    }

    /** The merged profile, or Error::notFound when the user has none. */
    public function get(string $userId): ProfileView|Error
    {
        $userId = strtolower($userId);
        $stored = $this->store->find($userId);
        if ($stored instanceof Error) {
            return $stored;
        }
        if ($stored === null) {
            return Error::notFound('user_id: no profile for this user');
        }
        return ProfileView::fromCells($userId, (int) $stored->updatedUs, $stored->cells);
    }
}
