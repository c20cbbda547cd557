<?php

declare(strict_types=1);

namespace Ficus\Tests\Support;

use PDO;
use RuntimeException;

/**
 * The real legacy stack (MariaDB + php-fpm + nginx) for black-box tests,
 * started once per test process by scripts/stack/legacy-stack.sh in a temp
 * dir and stopped at exit. FICUS_TEST_KEEP_STACK=1 keeps the state dir.
 */
final class LegacyStack
{
    private static ?self $instance = null;

    /** @param array<string, string> $env */
    private function __construct(private readonly string $stateDir, public readonly array $env)
    {
    }

    public static function get(): self
    {
        if (self::$instance === null) {
            self::$instance = self::start();
        }
        return self::$instance;
    }

    public function url(): string
    {
        return $this->env['FICUS_LEGACY_URL'];
    }

    public function pdo(): PDO
    {
        return new PDO(
            'mysql:unix_socket=' . $this->env['FICUS_MYSQL_SOCKET'] . ';dbname=' . $this->env['FICUS_MYSQL_DB']
                . ';charset=utf8mb4',
            $this->env['FICUS_MYSQL_USER'],
            $this->env['FICUS_MYSQL_PASSWORD'],
            [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION],
        );
    }

    public static function script(): string
    {
        return dirname(__DIR__, 4) . '/scripts/stack/legacy-stack.sh';
    }

    private static function start(): self
    {
        $dir = rtrim(sys_get_temp_dir(), '/') . '/ficus-php-' . getmypid() . '-' . bin2hex(random_bytes(3));
        mkdir($dir, 0700, true);
        $cmd = escapeshellarg(self::script()) . ' start ' . escapeshellarg($dir)
            . ' 2>' . escapeshellarg("$dir/start.err");
        $out = [];
        exec($cmd, $out, $rc);
        if ($rc !== 0) {
            $err = (string) @file_get_contents("$dir/start.err");
            self::stopDir($dir);
            throw new RuntimeException("legacy-stack.sh start failed ($rc): $err");
        }
        $env = [];
        foreach ($out as $line) {
            if (preg_match('/^(FICUS_[A-Z_]+)=(.*)$/', $line, $m) === 1) {
                $env[$m[1]] = $m[2];
            }
        }
        register_shutdown_function(static fn () => self::stopDir($dir));
        return new self($dir, $env);
    }

    private static function stopDir(string $dir): void
    {
        exec(escapeshellarg(self::script()) . ' stop ' . escapeshellarg($dir) . ' >/dev/null 2>&1');
        if (getenv('FICUS_TEST_KEEP_STACK') !== '1') {
            exec('rm -rf ' . escapeshellarg($dir));
        }
    }
}
