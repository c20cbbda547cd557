<?php

declare(strict_types=1);

namespace Ficus\Legacy\Model;

use Ficus\Legacy\Service\Error;
use PDO;

/** UserStore on MariaDB, with a short APCu read cache (users change rarely). */
final class MysqlUserStore implements UserStore
{
    private const PREFIX = 'ficus:user:';
    private const TTL_S = 60;

    public function __construct(private readonly Database $db)
    {
    }

    public function find(string $userId): UserRecord|null|Error
    {
        $cache = function_exists('apcu_enabled') && apcu_enabled();
        if ($cache) {
            $hit = apcu_fetch(self::PREFIX . $userId, $found);
            if ($found && is_array($hit)) {
                return $hit['user'];
            }
        }
        $user = $this->db->run(static function (PDO $pdo) use ($userId): ?UserRecord {
            $stmt = $pdo->prepare(
                "SELECT user_id, name, email, country, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ')"
                . ' FROM users WHERE user_id = ?'
            );
            $stmt->execute([$userId]);
            $row = $stmt->fetch();
            return $row === false ? null : new UserRecord(...array_map('strval', $row));
        });
        if ($cache && !$user instanceof Error) {
            apcu_store(self::PREFIX . $userId, ['user' => $user], self::TTL_S);
        }
        return $user;
    }
}
