#!/usr/bin/env python3
"""Dashboard browser test on the real stack.

  browser_test.py --proxy BIN --writer BIN --repo DIR --screenshot PNG [--work DIR]

Starts legacy (MariaDB + php-fpm + nginx), the real profile-writer and the
real ficus-proxy (profile-update in canary 10%, profile-get in shadow), keeps
live traffic flowing, makes one record diverge (a key written to the writer
only) so the page has a mismatch to show, then runs dashboard_test.mjs (headless Debian
Chromium via playwright-core): the page renders, the canary percent of
profile-update is moved to 30% through the UI (token prompt), and a
screenshot is saved. Afterwards the proxy's routing must follow: the share
of fresh users served by modern is measured from the access log.

With --migrator, the real binlog follower (profile-migrator follow) runs
too and the proxy's `cdc:` watches its /metrics: once the traffic stops and
the follower has caught up, /admin/status shows the server's GTID position
and the page's "Binlog follower" panel shows it with the lag and events/s
and no warning; with the writer killed and one SQL write, the lag passes
lag_warn_s and the page shows the lagging warning; with the follower
stopped, the page shows it unreachable (dashboard_test.mjs --cdc-only).

Autopilot: a plan started on the profiles group through the admin API is
shown in the page's Autopilot panel (status, current step, "why" line,
timeline with gate values) and paused with the page's Pause button; the
audit log then has the pause by the token's name.

The fleet (before the follower phase, which kills the writer): a real etcd
and two more replicas (ids dash-a, dash-b) sharing their control state in
it (control.store: etcd), traffic through both; the page on dash-a must
show a row per replica and the fleet's merged p50/p99 (dashboard_test.mjs
--fleet), a percent moved in dash-a's page must reach dash-b, and the merged
p99 must lie between the two replicas' own.
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
from harness import Etcd, Follower, LegacyStack, Proxy, Writer, free_port, request, wait_for  # noqa: E402

UPDATE = "/api/v1/profile/update"
GET = "/api/v1/profile/get"


LAG_WARN_S = 3


def config(legacy_port, writer_port, work, follower_url=None):
    cdc = (f"cdc: {{metrics_url: {follower_url}, lag_warn_s: {LAG_WARN_S}, interval_ms: 500}}\n"
           if follower_url else "")
    return cdc + f"""listen: 127.0.0.1:0
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


def fleet_phase(a, stack, writer, work, earlier):
    """Two replicas on one real etcd; the page shows both and the merged
    percentiles. Returns the failures."""
    failures = []
    fleet_work = os.path.join(work, "fleet")
    os.makedirs(fleet_work)
    etcd = replica_a = replica_b = None
    stop = threading.Event()
    threads = []
    try:
        etcd = Etcd(fleet_work)
        cfg = config(stack.port, writer.port, fleet_work).replace(
            f"access_log: {fleet_work}/access.log\n",
            f"access_log: off\ncontrol: {{store: etcd, endpoints: [{etcd.endpoint()}], "
            f"prefix: /dashboard-test/}}\n")
        token = uuid.uuid4().hex
        replica_a = Proxy(a.proxy, fleet_work, cfg, token, name="dash-a",
                          args=["--replica-id", "dash-a"])
        replica_b = Proxy(a.proxy, fleet_work, cfg, token, replica_of=replica_a, name="dash-b",
                          args=["--replica-id", "dash-b"])
        users = [str(uuid.uuid4()) for _ in range(100)]

        def traffic(p, offset, delay):
            i = offset
            while not stop.is_set():
                u = users[i % len(users)]
                request(p.port, "POST", UPDATE, {"user_id": u, "attributes": {"n": str(i)}})
                request(p.port, "GET", f"{GET}?user_id={u}")
                i += 3
                time.sleep(delay)

        threads = [threading.Thread(target=traffic, args=(replica_a, 0, 0.01), daemon=True),
                   threading.Thread(target=traffic, args=(replica_b, 1, 0.01), daemon=True)]
        for th in threads:
            th.start()
        # Both replicas have published a report with answers (every second).
        wait_for(lambda: len([x for x in replica_a.route("profile-update")["fleet"]["replicas"]
                              if x["legacy_p99_ms"] is not None]) == 2, 15, "both replicas' reports")
        shot = os.path.join(os.path.dirname(os.path.abspath(a.screenshot)),
                            "dashboard-fleet-screenshot.png")
        cmd = [a.node, os.path.join(HERE, "dashboard_test.mjs"), "--url",
               f"http://127.0.0.1:{replica_a.admin}/", "--token-file",
               os.path.join(fleet_work, "admin.token"), "--route", "profile-update", "--percent", "20",
               "--fleet", "dash-a,dash-b", "--screenshot", shot]
        rc = subprocess.run(cmd, timeout=180).returncode
        if rc != 0:
            failures.append(f"fleet: dashboard_test.mjs exited {rc}")
        # The change made in dash-a's page reached dash-b through etcd.
        try:
            wait_for(lambda: abs(replica_b.route("profile-update")["percent"] - 20) < 0.001, 2,
                     "dash-b follows the percent set in dash-a's page")
        except AssertionError as e:
            failures.append(f"fleet: {e}")
        # The fleet's p99 comes from the merged histograms (exact merge:
        # strangler_proxy_domain_test FleetReport.*); here it must lie
        # between the two replicas' own, as a quantile of their union does.
        fleet = replica_a.route("profile-update")["fleet"]
        rows = {x["replica"]: x for x in fleet["replicas"]}
        t = fleet["totals"]
        print(f"fleet: p99 legacy a={rows['dash-a']['legacy_p99_ms']} b={rows['dash-b']['legacy_p99_ms']} "
              f"merged={t['legacy_p99_ms']} (p50 merged {t['legacy_p50_ms']})")
        lo = min(rows["dash-a"]["legacy_p99_ms"], rows["dash-b"]["legacy_p99_ms"])
        hi = max(rows["dash-a"]["legacy_p99_ms"], rows["dash-b"]["legacy_p99_ms"])
        if t["legacy_p99_ms"] is None or not lo <= t["legacy_p99_ms"] <= hi:
            failures.append(f"fleet: merged legacy p99 {t['legacy_p99_ms']} outside [{lo}, {hi}]")
    except Exception as e:  # noqa: BLE001 - any failure fails the test
        failures.append(f"fleet: {e!r}")
    finally:
        stop.set()
        for th in threads:
            th.join()
        for p in (replica_b, replica_a, etcd):
            if p:
                try:
                    p.stop()
                except Exception as e:  # noqa: BLE001
                    print(f"cleanup: {e}")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--writer", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--screenshot", required=True)
    ap.add_argument("--work", default="")
    ap.add_argument("--node", default="node")
    ap.add_argument("--migrator", default="", help="profile-migrator binary: also test the binlog follower panel")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="ficus-dashboard-")
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    stack = writer = proxy = follower = None
    stop = threading.Event()
    failures = []
    try:
        stack = LegacyStack(a.repo, os.path.join(work, "legacy"))
        writer = Writer(a.writer, os.path.join(work, "writer-data"), os.path.join(work, "writer.log"),
                        port=free_port())
        token = uuid.uuid4().hex
        if a.migrator:
            follower = Follower(a.migrator, work, stack, writer.port)
        proxy = Proxy(a.proxy, work, config(stack.port, writer.port, work,
                                            follower.url if follower else None), token)
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
        # A key only the writer gets (straight to it, not through the proxy):
        # the binlog follower cannot undo this divergence, as it would an
        # edit made in MariaDB.
        s, _, b = request(writer.port, "POST", "/api/v2/profile/update",
                          {"user_id": victim, "attributes": {"edited": "in-the-writer-only"}})
        assert s == 200, (s, b)
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

        # Autopilot: a plan on the group (held at canary 30% for 10 minutes)
        # shown with its timeline; paused through the page.
        s, _, b = request(proxy.admin, "POST", "/admin/autopilot/profile-update/start",
                          {"canary": {"steps": [30, 100], "min_s": 600, "min_requests": 1},
                           "gates": {"window_s": 5}},
                          {"Authorization": "Bearer " + token})
        if s != 200:
            failures.append(f"autopilot start: {s} {b}")
        else:
            time.sleep(1)  # a few ticks: the first hold in the timeline
            rc = subprocess.run([a.node, os.path.join(HERE, "dashboard_test.mjs"), "--url",
                                 f"http://127.0.0.1:{proxy.admin}/", "--token-file",
                                 os.path.join(work, "admin.token"), "--screenshot", a.screenshot,
                                 "--autopilot", "profiles", "--autopilot-only"],
                                timeout=120).returncode
            if rc != 0:
                failures.append(f"dashboard_test.mjs --autopilot exited {rc}")
            with open(os.path.join(work, "audit.log")) as f:
                last = json.loads(f.read().splitlines()[-1])
            if last["what"] != "autopilot profiles (route profile-update): pause" or \
                    last["token"] != "lifecycle":
                failures.append(f"audit log after the page's pause: {last}")

        # --- the fleet: two more replicas, on one real etcd ---
        failures.extend(fleet_phase(a, stack, writer, work, failures))

        if follower:
            def page(state):
                shot = a.screenshot.replace(".png", "") + ".png"
                rc = subprocess.run([a.node, os.path.join(HERE, "dashboard_test.mjs"), "--url",
                                     f"http://127.0.0.1:{proxy.admin}/", "--screenshot", shot,
                                     "--cdc", state, "--cdc-only"], timeout=120).returncode
                if rc != 0:
                    failures.append(f"dashboard_test.mjs --cdc {state} exited {rc}")

            # Caught up: the proxy shows the server's GTID position, lag 0.
            server_pos = stack.sql_value("SELECT @@gtid_binlog_pos")
            cdc = wait_for(lambda: (lambda c: c if c["state"] == "ok" and c["last_gtid"] == server_pos
                                    else None)(proxy.status()["cdc"]), 30,
                           f"the proxy's cdc status at the server's position {server_pos}")
            print(f"follower caught up: {cdc}")
            if cdc["lag_seconds"] != 0 or cdc["url"] != follower.url:
                failures.append(f"cdc when caught up: {cdc}")
            page("ok")
            # The writer dies: the follower cannot apply a new SQL write, its lag grows.
            writer.kill()
            stack.sql(f"INSERT INTO profile_attributes VALUES ('{uuid.uuid4()}', 'k', 'v', 5)")
            wait_for(lambda: proxy.status()["cdc"]["state"] == "lagging", 30, "cdc state lagging")
            page("lagging")
            follower.stop()
            wait_for(lambda: proxy.status()["cdc"]["state"] == "unreachable", 15, "cdc state unreachable")
            page("unreachable")
    except Exception as e:  # noqa: BLE001 - any failure fails the test
        failures.append(repr(e))
    finally:
        stop.set()
        for p in (proxy, follower, writer):
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
