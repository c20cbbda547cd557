<?php

declare(strict_types=1);

namespace Ficus\Kernel;

use LogicException;

/**
 * A minimal DI container: named factories, each called once on first get()
 * (shared instances). Wiring happens in bootstrap.php only.
 */
final class Container
{
    /** @var array<string, callable(Container): mixed> */
    private array $factories = [];
    /** @var array<string, mixed> */
    private array $instances = [];

    /** @param callable(Container): mixed $factory */
    public function set(string $id, callable $factory): void
    {
        $this->factories[$id] = $factory;
        unset($this->instances[$id]);
    }

    public function has(string $id): bool
    {
        return isset($this->factories[$id]) || array_key_exists($id, $this->instances);
    }

    public function get(string $id): mixed
    {
        if (array_key_exists($id, $this->instances)) {
            return $this->instances[$id];
        }
        if (!isset($this->factories[$id])) {
            throw new LogicException("container: no entry '$id'");
        }
        return $this->instances[$id] = ($this->factories[$id])($this);
    }
}
