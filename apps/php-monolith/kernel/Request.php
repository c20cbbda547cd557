<?php

declare(strict_types=1);

namespace Ficus\Kernel;

/**
 * An immutable HTTP request as the front controller received it.
 * Header names are lowercase; the body is the raw bytes.
 */
final class Request
{
    /**
     * @param array<string, mixed>  $query
     * @param array<string, string> $headers lowercase name => value
     */
    public function __construct(
        public readonly string $method,
        public readonly string $path,
        public readonly array $query,
        public readonly array $headers,
        public readonly string $body,
    ) {
    }

    public static function fromGlobals(): self
    {
        $headers = [];
        foreach ($_SERVER as $name => $value) {
            if (is_string($name) && str_starts_with($name, 'HTTP_')) {
                $headers[strtolower(str_replace('_', '-', substr($name, 5)))] = (string) $value;
            }
        }
        // CGI passes these two without the HTTP_ prefix; an absent header is
        // passed as an empty variable by nginx, so empty means absent here.
        foreach (['CONTENT_TYPE' => 'content-type', 'CONTENT_LENGTH' => 'content-length'] as $var => $name) {
            if (isset($_SERVER[$var]) && $_SERVER[$var] !== '') {
                $headers[$name] = (string) $_SERVER[$var];
            }
        }
        $uri = (string) ($_SERVER['REQUEST_URI'] ?? '/');
        $path = parse_url($uri, PHP_URL_PATH);
        $body = (string) file_get_contents('php://input');
        return new self(
            strtoupper((string) ($_SERVER['REQUEST_METHOD'] ?? 'GET')),
            is_string($path) ? rawurldecode($path) : '/',
            $_GET,
            $headers,
            $body,
        );
    }

    public function header(string $name): ?string
    {
        return $this->headers[strtolower($name)] ?? null;
    }
}
