<?php

declare(strict_types=1);

/*
 * PSR-4 autoloader (Composer's registry is not reachable from here).
 *   Ficus\Kernel\  -> kernel/   the PhalApi-style micro-framework
 *   Ficus\Legacy\  -> src/      the application, ADSM layers Api/Domain/Service/Model
 *   Ficus\Tests\   -> tests/
 */
spl_autoload_register(static function (string $class): void {
    static $prefixes = [
        'Ficus\\Kernel\\' => __DIR__ . '/kernel/',
        'Ficus\\Legacy\\' => __DIR__ . '/src/',
        'Ficus\\Tests\\' => __DIR__ . '/tests/',
    ];
    foreach ($prefixes as $prefix => $dir) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});
