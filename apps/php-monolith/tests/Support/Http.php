<?php

declare(strict_types=1);

namespace Ficus\Tests\Support;

use RuntimeException;

/**
 * A deliberately small HTTP/1.1 client over a raw socket, so tests control
 * every header byte (PHP's http:// wrapper adds a Content-Type of its own).
 * One request per connection (Connection: close).
 */
final class Http
{
    /** @param array<string, string> $headers */
    public static function request(
        string $baseUrl,
        string $method,
        string $path,
        array $headers = [],
        ?string $body = null,
    ): HttpResponse {
        $url = parse_url($baseUrl);
        $host = (string) ($url['host'] ?? '127.0.0.1');
        $port = (int) ($url['port'] ?? 80);
        $sock = @stream_socket_client("tcp://$host:$port", $errno, $errstr, 10);
        if ($sock === false) {
            throw new RuntimeException("connect $host:$port: $errstr");
        }
        stream_set_timeout($sock, 30);
        $head = "$method $path HTTP/1.1\r\nHost: $host:$port\r\nConnection: close\r\n";
        foreach ($headers as $name => $value) {
            $head .= "$name: $value\r\n";
        }
        if ($body !== null || $method === 'POST') {
            $head .= 'Content-Length: ' . strlen((string) $body) . "\r\n";
        }
        $out = $head . "\r\n" . (string) $body;
        // The server may answer (413) before reading everything: stop writing then.
        for ($off = 0; $off < strlen($out);) {
            $n = @fwrite($sock, substr($out, $off, 65536));
            if ($n === false || $n === 0) {
                break;
            }
            $off += $n;
        }
        $raw = '';
        while (!feof($sock)) {
            $chunk = fread($sock, 65536);
            if ($chunk === false) {
                break;
            }
            if ($chunk === '' && stream_get_meta_data($sock)['timed_out']) {
                throw new RuntimeException("timeout reading $method $path");
            }
            $raw .= $chunk;
        }
        fclose($sock);
        return self::parse($raw, $method);
    }

    private static function parse(string $raw, string $method): HttpResponse
    {
        $end = strpos($raw, "\r\n\r\n");
        if ($end === false) {
            throw new RuntimeException('malformed HTTP response: ' . substr($raw, 0, 200));
        }
        $lines = explode("\r\n", substr($raw, 0, $end));
        if (preg_match('#^HTTP/1\.[01] (\d{3})#', (string) array_shift($lines), $m) !== 1) {
            throw new RuntimeException('malformed status line');
        }
        $headers = [];
        foreach ($lines as $line) {
            [$name, $value] = array_map('trim', explode(':', $line, 2)) + [1 => ''];
            $headers[strtolower($name)] = $value;
        }
        $body = substr($raw, $end + 4);
        if (strtolower($headers['transfer-encoding'] ?? '') === 'chunked') {
            $decoded = '';
            while (($nl = strpos($body, "\r\n")) !== false) {
                $size = hexdec(trim(explode(';', substr($body, 0, $nl))[0]));
                if ($size === 0) {
                    break;
                }
                $decoded .= substr($body, $nl + 2, (int) $size);
                $body = substr($body, $nl + 2 + (int) $size + 2);
            }
            $body = $decoded;
        } elseif (isset($headers['content-length'])) {
            $body = substr($body, 0, (int) $headers['content-length']);
        }
        if ($method === 'HEAD') {
            $body = '';
        }
        return new HttpResponse((int) $m[1], $headers, $body);
    }
}
