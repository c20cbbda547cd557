<?php

declare(strict_types=1);

namespace Ficus\Legacy\Model;

use Ficus\Legacy\Service\Error;
use PDO;
use PDOException;
use Throwable;

/**
 * One persistent PDO connection per php-fpm worker (lazy), and transactions
 * with retry on deadlock / lock wait timeout. Every statement with a value
 * in it is a PDO prepared statement with bound parameters. Prepares are
 * emulated (pdo_mysql's default, safe with charset=utf8mb4 in the DSN): one
 * round trip per statement instead of prepare + execute + close.
 */
final class Database
{
    private ?PDO $pdo = null;

    public function __construct(
        private readonly string $dsn,
        private readonly string $user,
        private readonly string $password,
        private readonly bool $persistent = true,
    ) {
    }

    public static function fromEnv(): self
    {
        $socket = getenv('FICUS_MYSQL_SOCKET') ?: '';
        $db = getenv('FICUS_MYSQL_DB') ?: 'ficus';
        $dsn = $socket !== ''
            ? "mysql:unix_socket=$socket;dbname=$db;charset=utf8mb4"
            : 'mysql:host=' . (getenv('FICUS_MYSQL_HOST') ?: '127.0.0.1')
                . ';port=' . (getenv('FICUS_MYSQL_PORT') ?: '3307') . ";dbname=$db;charset=utf8mb4";
        return new self($dsn, getenv('FICUS_MYSQL_USER') ?: 'ficus', getenv('FICUS_MYSQL_PASSWORD') ?: 'ficus');
    }

    public function pdo(): PDO
    {
        if ($this->pdo === null) {
            $this->pdo = new PDO($this->dsn, $this->user, $this->password, [
                PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
                PDO::ATTR_EMULATE_PREPARES => true,
                PDO::ATTR_PERSISTENT => $this->persistent,
                PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_NUM,
                PDO::ATTR_STRINGIFY_FETCHES => false,
                PDO::MYSQL_ATTR_INIT_COMMAND => 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
            ]);
            if ($this->pdo->inTransaction()) {
                // A persistent connection left mid-transaction by a dead request.
                $this->pdo->rollBack();
            }
        }
        return $this->pdo;
    }

    /**
     * Runs $fn(PDO) in a transaction; commits unless it returns an Error.
     * Deadlocks and lock wait timeouts are retried; a lost connection is
     * reopened once. Any other failure is Error::unavailable.
     *
     * @template T
     * @param callable(PDO): (T|Error) $fn
     * @return T|Error
     */
    public function transaction(callable $fn, int $attempts = 6): mixed
    {
        for ($attempt = 1;; $attempt++) {
            $pdo = null;
            try {
                $pdo = $this->pdo();
                $pdo->beginTransaction();
                $result = $fn($pdo);
                if ($result instanceof Error) {
                    $pdo->rollBack();
                    return $result;
                }
                $pdo->commit();
                return $result;
            } catch (PDOException $e) {
                $this->rollBackQuietly($pdo);
                $code = self::driverCode($e);
                if ($attempt < $attempts && ($code === 1213 || $code === 1205)) {
                    usleep(random_int(200, 2000) * $attempt);
                    continue;
                }
                if ($attempt === 1 && ($code === 2006 || $code === 2013)) {
                    $this->pdo = null;
                    continue;
                }
                return $this->fail($e);
            }
        }
    }

    /**
     * Runs $fn(PDO) outside a transaction (autocommit), same error mapping.
     *
     * @template T
     * @param callable(PDO): T $fn
     * @return T|Error
     */
    public function run(callable $fn): mixed
    {
        for ($attempt = 1;; $attempt++) {
            try {
                return $fn($this->pdo());
            } catch (PDOException $e) {
                $code = self::driverCode($e);
                if ($attempt === 1 && ($code === 2006 || $code === 2013)) {
                    $this->pdo = null;
                    continue;
                }
                return $this->fail($e);
            }
        }
    }

    public static function driverCode(PDOException $e): int
    {
        return (int) ($e->errorInfo[1] ?? 0);
    }

    private function fail(PDOException $e): Error
    {
        error_log('ficus-legacy: storage error: ' . $e->getMessage());
        $code = self::driverCode($e);
        if ($code >= 2000 || $this->pdo === null) {
            $this->pdo = null;
            return Error::unavailable('storage: database unavailable');
        }
        return Error::unavailable('storage: database error ' . $code);
    }

    private function rollBackQuietly(?PDO $pdo): void
    {
        try {
            if ($pdo !== null && $pdo->inTransaction()) {
                $pdo->rollBack();
            }
        } catch (Throwable) {
            $this->pdo = null;
        }
    }
}
