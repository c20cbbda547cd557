#!/usr/bin/env python3
"""Dashboard browser test on the real stack.

  browser_test.py --proxy BIN --writer BIN --repo DIR --screenshot PNG [--work DIR]

Starts legacy (MariaDB + php-fpm + nginx), the real profile-writer and the
real ficus-proxy (profile-update in canary 10%, profile-get in shadow), keeps
live traffic flowing, makes one record diverge (changed in MariaDB) so the
page has a mismatch to show, then runs dashboard_test.mjs (headless Debian
Chromium via playwright-core): the page renders, the canary percent of
profile-update is moved to 30% through the UI (token prompt), and a
screenshot is saved. Afterwards the proxy's routing must follow: the share
of fresh users served by modern is measured from the access log.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lifecycle"))
from harness import LegacyStack, Proxy, Writer, free_port, request, wait_for  # noqa: E402

UPDATE = "/api/v1/profile/update"
GET = "/api/v1/profile/get"


def config(legacy_port, writer_port, work):
    return f"""listen: 127.0.0.1:0
admin: {{listen: 127.0.0.1:0, token_file: admin.token}}
access_log: {work}/access.log
backends:
  legacy: {{url: http://127.0.0.1:{legacy_port}}}
  modern: {{url: http://127.0.0.1:{writer_port}, health: /readyz}}
cohorts:
  profiles: {{key: [header:X-User-Id, query:user_id, json:user_id], salt: "ficus-1"}}
routes:
  - name: profile-update
    match: {{method: POST, path: {UPDATE}}}
    rewrite: {{modern: /api/v2/profile/update}}
    cohort: profiles
    mode: canary
    percent: 10
    compare: {{ignore: [data.updated_at]}}
    fallback: {{error_rate: 0.05, window_s: 30, min_requests: 50}}
  - name: profile-get
    match: {{method: GET, path: {GET}}}
    rewrite: {{modern: /api/v2/profile/get}}
    cohort: profiles
    mode: shadow
    compare: {{ignore: [data.updated_at]}}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--writer", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--screenshot", required=True)
    ap.add_argument("--work", default="")
    ap.add_argument("--node", default="node")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="ficus-dashboard-")
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    stack = writer = proxy = None
    stop = threading.Event()
    failures = []
    try:
        stack = LegacyStack(a.repo, os.path.join(work, "legacy"))
        writer = Writer(a.writer, os.path.join(work, "writer-data"), os.path.join(work, "writer.log"),
                        port=free_port())
        token = uuid.uuid4().hex
        proxy = Proxy(a.proxy, work, config(stack.port, writer.port, work), token)
        users = [str(uuid.uuid4()) for _ in range(200)]

        def traffic(offset):
            i = offset
            while not stop.is_set():
                u = users[i % len(users)]
                request(proxy.port, "POST", UPDATE,
                        {"user_id": u, "attributes": {"plan": "p" + str(i % 4), "n": str(i)}})
                request(proxy.port, "GET", f"{GET}?user_id={u}")
                i += 7
                time.sleep(0.01)

        threads = [threading.Thread(target=traffic, args=(k,), daemon=True) for k in range(3)]
        for th in threads:
            th.start()
        time.sleep(2)
        victim = users[0]
        stack.sql(f"UPDATE profile_attributes SET attr_value='edited-in-mysql' "
                  f"WHERE user_id='{victim}' AND attr_key='plan'")
        request(proxy.port, "GET", f"{GET}?user_id={victim}")
        wait_for(lambda: proxy.mismatches(), 10, "a mismatch")
        time.sleep(3)  # a few seconds of rates for the charts

        cmd = [a.node, os.path.join(HERE, "dashboard_test.mjs"), "--url",
               f"http://127.0.0.1:{proxy.admin}/", "--token-file", os.path.join(work, "admin.token"),
               "--route", "profile-update", "--percent", "30", "--screenshot", a.screenshot]
        rc = subprocess.run(cmd, timeout=180).returncode
        if rc != 0:
            failures.append(f"dashboard_test.mjs exited {rc}")
        stop.set()
        for th in threads:
            th.join()

        # The proxy's routing follows the percent set in the page.
        route = proxy.route("profile-update")
        if abs(route["percent"] - 30) > 0.001:
            failures.append(f"percent is {route['percent']}, not 30")
        fresh = [str(uuid.uuid4()) for _ in range(400)]
        ids = {}
        for u in fresh:
            s, h, _ = request(proxy.port, "POST", UPDATE, {"user_id": u, "attributes": {"k": "v"}})
            if s != 200:
                failures.append(f"update after the change: {s}")
                break
            ids[h["x-request-id"]] = u
        time.sleep(1.5)
        served = proxy.access_log()
        modern = sum(1 for rid in ids if served.get(rid) == "modern")
        share = modern / max(1, len(ids))
        print(f"after the UI change: {modern}/{len(ids)} fresh users on modern ({share:.3f})")
        if not 0.22 <= share <= 0.38:
            failures.append(f"modern share {share:.3f} does not follow 30%")
        with open(os.path.join(work, "audit.log")) as f:
            last = json.loads(f.read().splitlines()[-1])
        if last["after"]["percent"] != 30 or last["token"] != "lifecycle":
            failures.append(f"audit log: {last}")
    except Exception as e:  # noqa: BLE001 - any failure fails the test
        failures.append(repr(e))
    finally:
        stop.set()
        for p in (proxy, writer):
            if p:
                try:
                    p.stop()
                except Exception as e:  # noqa: BLE001
                    print(f"cleanup: {e}")
        if stack:
            stack.stop()
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print(f"FAIL: {f}")
    print("browser test:", "ok" if not failures else "FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
