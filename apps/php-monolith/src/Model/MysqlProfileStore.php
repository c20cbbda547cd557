<?php

declare(strict_types=1);

namespace Ficus\Legacy\Model;

use Ficus\Legacy\Service\Clock;
use Ficus\Legacy\Service\Error;
use PDO;
use PDOException;

/**
 * ProfileStore on MariaDB/MySQL (schema: packages/schema/mysql). One update =
 * one transaction that locks the user's `profiles` row first, so concurrent
 * updates of one user serialise and none loses a key.
 */
final class MysqlProfileStore implements ProfileStore
{
    /** Idempotency records are kept this long (contract: at least 24 h). */
    public const IDEMPOTENCY_TTL_US = 24 * 3600 * 1_000_000;
    /** A pending claim older than this is presumed dead and may be taken over. */
    public const LEASE_US = 30 * 1_000_000;

    public function __construct(private readonly Database $db, private readonly Clock $clock)
    {
    }

    public function find(string $userId): StoredProfile|null|Error
    {
        return $this->db->run(static function (PDO $pdo) use ($userId): ?StoredProfile {
            // One statement, so the profile row and its attributes are one snapshot.
            $stmt = $pdo->prepare(
                'SELECT p.updated_us, a.attr_key, a.attr_value, a.updated_us FROM profiles p'
                . ' LEFT JOIN profile_attributes a ON a.user_id = p.user_id AND a.attr_value IS NOT NULL'
                . ' WHERE p.user_id = ?'
            );
            $stmt->execute([$userId]);
            $updated = null;
            $cells = [];
            foreach ($stmt->fetchAll() as [$profileUs, $key, $value, $cellUs]) {
                $updated = (int) $profileUs;
                if ($key !== null) {
                    $cells[(string) $key] = new Cell((string) $value, (int) $cellUs);
                }
            }
            return $updated === null ? null : new StoredProfile($userId, $updated, $cells);
        });
    }

    public function update(string $userId, callable $decide, ?IdempotencyClaim $claim): ProfileWrite|Error
    {
        return $this->db->transaction(function (PDO $pdo) use ($userId, $decide, $claim): ProfileWrite|Error {
            $now = $this->clock->nowUs();
            // Creates the row if needed and takes its exclusive lock either way
            // (ON DUPLICATE KEY UPDATE locks the existing row like SELECT ... FOR
            // UPDATE would): every other update of this user now waits for our commit.
            $pdo->prepare(
                'INSERT INTO profiles (user_id, updated_us, created_us) VALUES (?, 0, ?)'
                . ' ON DUPLICATE KEY UPDATE user_id = user_id'
            )->execute([$userId, $now]);
            $stmt = $pdo->prepare(
                'SELECT p.updated_us, a.attr_key, a.attr_value, a.updated_us FROM profiles p'
                . ' LEFT JOIN profile_attributes a ON a.user_id = p.user_id WHERE p.user_id = ?'
            );
            $stmt->execute([$userId]);
            $updated = 0;
            $cells = [];
            foreach ($stmt->fetchAll() as [$profileUs, $key, $value, $ts]) {
                $updated = (int) $profileUs;
                if ($key !== null) {
                    $cells[(string) $key] = new Cell($value === null ? null : (string) $value, (int) $ts);
                }
            }
            $write = $decide(new StoredProfile($userId, $updated === 0 ? null : $updated, $cells));
            if ($write->cells !== []) {
                $rows = [];
                $args = [];
                foreach ($write->cells as $key => $cell) {
                    $rows[] = '(?, ?, ?, ?)';
                    array_push($args, $userId, (string) $key, $cell->value, $cell->ts);
                }
                $pdo->prepare(
                    'INSERT INTO profile_attributes (user_id, attr_key, attr_value, updated_us) VALUES '
                    . implode(', ', $rows)
                    . ' ON DUPLICATE KEY UPDATE attr_value = VALUES(attr_value), updated_us = VALUES(updated_us)'
                )->execute($args);
            }
            $pdo->prepare('UPDATE profiles SET updated_us = ? WHERE user_id = ?')
                ->execute([$write->updatedUs, $userId]);
            $pdo->prepare(
                'INSERT INTO profile_history (user_id, ts_us, attributes, idem_key, created_us) VALUES (?, ?, ?, ?, ?)'
            )->execute([$userId, $write->tsUs, $write->historyJson, $claim?->key, $now]);
            if ($claim !== null) {
                $stmt = $pdo->prepare(
                    "UPDATE idempotency_keys SET state = 'done', response = ?, lease_until_us = 0"
                    . " WHERE user_id = ? AND idem_key = ? AND state = 'pending' AND lease_token = ?"
                );
                $stmt->execute([$write->responseBody, $claim->userId, $claim->key, $claim->token]);
                if ($stmt->rowCount() !== 1) {
                    return Error::conflict('Idempotency-Key: a request with this key is in progress');
                }
            }
            return $write;
        });
    }

    public function claim(string $userId, string $key, string $fingerprint, int $nowUs): IdempotencyClaim|Error
    {
        return $this->db->run(function (PDO $pdo) use ($userId, $key, $fingerprint, $nowUs): IdempotencyClaim {
            if (random_int(0, 199) === 0) {
                $pdo->prepare('DELETE FROM idempotency_keys WHERE created_us < ? LIMIT 500')
                    ->execute([$nowUs - self::IDEMPOTENCY_TTL_US]);
            }
            $token = bin2hex(random_bytes(16));
            for ($attempt = 0; $attempt < 4; $attempt++) {
                try {
                    $pdo->prepare(
                        'INSERT INTO idempotency_keys (user_id, idem_key, fingerprint, state, lease_token,'
                        . " lease_until_us, response, created_us) VALUES (?, ?, ?, 'pending', ?, ?, NULL, ?)"
                    )->execute([$userId, $key, $fingerprint, $token, $nowUs + self::LEASE_US, $nowUs]);
                    return new IdempotencyClaim(IdempotencyClaim::CLAIMED, $userId, $key, $token);
                } catch (PDOException $e) {
                    if (Database::driverCode($e) !== 1062) {
                        throw $e;
                    }
                }
                $stmt = $pdo->prepare(
                    'SELECT fingerprint, state, lease_token, lease_until_us, response, created_us'
                    . ' FROM idempotency_keys WHERE user_id = ? AND idem_key = ?'
                );
                $stmt->execute([$userId, $key]);
                $row = $stmt->fetch();
                if ($row === false) {
                    continue;  // deleted meanwhile: try the insert again
                }
                [$fp, $state, $oldToken, $leaseUntil, $response, $created] = $row;
                if ((int) $created + self::IDEMPOTENCY_TTL_US <= $nowUs) {
                    $pdo->prepare('DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ? AND created_us = ?')
                        ->execute([$userId, $key, $created]);
                    continue;
                }
                if (!hash_equals((string) $fp, $fingerprint)) {
                    return new IdempotencyClaim(IdempotencyClaim::MISMATCH, $userId, $key);
                }
                if ($state === 'done') {
                    return new IdempotencyClaim(IdempotencyClaim::REPLAY, $userId, $key, '', (string) $response);
                }
                if ((int) $leaseUntil > $nowUs) {
                    return new IdempotencyClaim(IdempotencyClaim::IN_FLIGHT, $userId, $key);
                }
                // The claimant died (lease expired): take the key over, fenced by its token.
                $stmt = $pdo->prepare(
                    'UPDATE idempotency_keys SET lease_token = ?, lease_until_us = ?'
                    . " WHERE user_id = ? AND idem_key = ? AND state = 'pending' AND lease_token = ?"
                );
                $stmt->execute([$token, $nowUs + self::LEASE_US, $userId, $key, $oldToken]);
                if ($stmt->rowCount() === 1) {
                    return new IdempotencyClaim(IdempotencyClaim::CLAIMED, $userId, $key, $token);
                }
            }
            return new IdempotencyClaim(IdempotencyClaim::IN_FLIGHT, $userId, $key);
        });
    }

    public function release(IdempotencyClaim $claim): void
    {
        $this->db->run(static function (PDO $pdo) use ($claim): void {
            $pdo->prepare(
                'DELETE FROM idempotency_keys'
                . " WHERE user_id = ? AND idem_key = ? AND state = 'pending' AND lease_token = ?"
            )->execute([$claim->userId, $claim->key, $claim->token]);
        });
    }
}
