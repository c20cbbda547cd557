#!/usr/bin/env python3
"""Slow-stream load for bench/proxy/stream.sh (standard library only).

  sse_hold.py serve --port P
      an upstream: every GET answers 200 text/event-stream, chunked, and
      sends one 64-byte event per second until the client goes away.
  sse_hold.py hold --port P --streams N --hold S [--rss-pid PID]
      opens N client streams through a proxy at P (GET /sse/<i>), holds
      them S seconds, then prints "<streams that received an event in the
      last 3 s> <peak VmRSS of PID in KiB during the hold>".
"""
import argparse
import asyncio
import time

EVENT = b"data: " + b"x" * 56 + b"\n\n"  # 64 bytes


async def serve(port):
    async def handle(reader, writer):
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n")
            while True:
                writer.write(b"%x\r\n%s\r\n" % (len(EVENT), EVENT))
                await writer.drain()
                await asyncio.sleep(1)
        except Exception:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


async def hold(port, streams, seconds, rss_pid):
    last = [0.0] * streams

    async def one(i):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /sse/%d HTTP/1.1\r\nHost: bench\r\n\r\n" % i)
            await writer.drain()
            while True:
                data = await reader.read(4096)
                if not data:
                    return
                last[i] = time.monotonic()
        except Exception:
            return

    tasks = []
    for i in range(streams):
        tasks.append(asyncio.create_task(one(i)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    peak = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await asyncio.sleep(1)
        if rss_pid:
            peak = max(peak, rss_kb(rss_pid))
    now = time.monotonic()
    ok = sum(1 for t in last if now - t < 3)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(ok, peak)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["serve", "hold"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--hold", type=float, default=60)
    ap.add_argument("--rss-pid", type=int, default=0)
    a = ap.parse_args()
    if a.mode == "serve":
        asyncio.run(serve(a.port))
    else:
        asyncio.run(hold(a.port, a.streams, a.hold, a.rss_pid))


if __name__ == "__main__":
    main()
