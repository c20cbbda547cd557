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

The stack is started once (harness.StackCase); the page, the autopilot
panel, the fleet and the follower panel are test methods, each check its
own case.
"""
import json
import os
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lifecycle"))
from harness import (Etcd, Follower, Proxy, StackCase, profile_config, request,  # noqa: E402
                     run_cases, wait_for)

UPDATE = "/api/v1/profile/update"
GET = "/api/v1/profile/get"


LAG_WARN_S = 3


def config(legacy_port, writer_port, work, follower_url=None):
    cdc = (f"cdc: {{metrics_url: {follower_url}, lag_warn_s: {LAG_WARN_S}, interval_ms: 500}}\n"
           if follower_url else "")
    return profile_config(legacy_port, writer_port, """    mode: canary
    percent: 10
    compare: {ignore: [data.updated_at]}
    fallback: {error_rate: 0.05, window_s: 30, min_requests: 50}
""", """    mode: shadow
    compare: {ignore: [data.updated_at]}
""", head=cdc, access_log=f"{work}/access.log")

def fleet_phase(case, a, stack, writer, work):
    """Two replicas on one real etcd; the page shows both and the merged
    percentiles (checks on `case`)."""
    check = case.check
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
        check(rc == 0, "fleet: the page shows a row per replica and the merged p50/p99",
              f"dashboard_test.mjs --fleet exited {rc}")
        # The change made in dash-a's page reached dash-b through etcd.
        try:
            wait_for(lambda: abs(replica_b.route("profile-update")["percent"] - 20) < 0.001, 2,
                     "dash-b follows the percent set in dash-a's page")
            check(True, "fleet: dash-b follows the percent set in dash-a's page")
        except AssertionError as e:
            check(False, "fleet: dash-b follows the percent set in dash-a's page", str(e))
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
        check(t["legacy_p99_ms"] is not None and lo <= t["legacy_p99_ms"] <= hi,
              "fleet: the merged legacy p99 lies between the replicas' own",
              f"{t['legacy_p99_ms']} in [{lo}, {hi}]")
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


class Dashboard(StackCase):
    prefix = "ficus-dashboard-"

    @classmethod
    def add_arguments(cls, ap):
        ap.add_argument("--screenshot", required=True)
        ap.add_argument("--node", default="node")
        ap.add_argument("--migrator", default="",
                        help="profile-migrator binary: also test the binlog follower panel")

    @classmethod
    def start_stack(cls):
        a, work = cls.args, cls.work
        cls.start_legacy_and_writer()
        stack, writer = cls.stack, cls.writer
        cls.follower = follower = None
        if a.migrator:
            cls.follower = follower = cls.stop_later(Follower(a.migrator, work, stack, writer.port))
        cls.proxy = cls.stop_later(Proxy(a.proxy, work, config(stack.port, writer.port, work,
                                                                follower.url if follower else None),
                                         cls.token))

    def test_1_page_moves_the_canary(self):
        c = type(self)
        a, work, stack, writer, proxy, token = c.args, c.work, c.stack, c.writer, c.proxy, c.token
        stop = threading.Event()
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

        try:
            cmd = [a.node, os.path.join(HERE, "dashboard_test.mjs"), "--url",
                   f"http://127.0.0.1:{proxy.admin}/", "--token-file", os.path.join(work, "admin.token"),
                   "--route", "profile-update", "--percent", "30", "--screenshot", a.screenshot]
            rc = subprocess.run(cmd, timeout=180).returncode
            self.check(rc == 0, "the page renders and moves profile-update to 30% (token prompt)",
                       f"dashboard_test.mjs exited {rc}")
        finally:
            stop.set()
            for th in threads:
                th.join()

        # The proxy's routing follows the percent set in the page.
        route = proxy.route("profile-update")
        self.check(abs(route["percent"] - 30) <= 0.001, "the route's percent is the page's 30",
                   str(route["percent"]))
        fresh = [str(uuid.uuid4()) for _ in range(400)]
        ids = {}
        statuses = set()
        for u in fresh:
            s, h, _ = request(proxy.port, "POST", UPDATE, {"user_id": u, "attributes": {"k": "v"}})
            statuses.add(s)
            if s != 200:
                break
            ids[h["x-request-id"]] = u
        self.check(statuses == {200}, "updates after the change are 200", str(statuses))
        time.sleep(1.5)
        served = proxy.access_log()
        modern = sum(1 for rid in ids if served.get(rid) == "modern")
        share = modern / max(1, len(ids))
        self.check(0.22 <= share <= 0.38, "the share of fresh users on modern follows 30%",
                   f"{modern}/{len(ids)} ({share:.3f})")
        with open(os.path.join(work, "audit.log")) as f:
            last = json.loads(f.read().splitlines()[-1])
        self.check(last["after"]["percent"] == 30 and last["token"] == "lifecycle",
                   "the page's change is audit-logged with the token's name", json.dumps(last))

    def test_2_autopilot_panel(self):
        c = type(self)
        a, work, proxy, token = c.args, c.work, c.proxy, c.token
        # Autopilot: a plan on the group (held at canary 30% for 10 minutes)
        # shown with its timeline; paused through the page.
        s, _, b = request(proxy.admin, "POST", "/admin/autopilot/profile-update/start",
                          {"canary": {"steps": [30, 100], "min_s": 600, "min_requests": 1},
                           "gates": {"window_s": 5}},
                          {"Authorization": "Bearer " + token})
        self.check(s == 200, "autopilot plan started", f"{s} {b}")
        if s != 200:
            return
        time.sleep(1)  # a few ticks: the first hold in the timeline
        rc = subprocess.run([a.node, os.path.join(HERE, "dashboard_test.mjs"), "--url",
                             f"http://127.0.0.1:{proxy.admin}/", "--token-file",
                             os.path.join(work, "admin.token"), "--screenshot", a.screenshot,
                             "--autopilot", "profiles", "--autopilot-only"],
                            timeout=120).returncode
        self.check(rc == 0, "the Autopilot panel shows the plan and pauses it",
                   f"dashboard_test.mjs --autopilot exited {rc}")
        with open(os.path.join(work, "audit.log")) as f:
            last = json.loads(f.read().splitlines()[-1])
        self.check(last["what"] == "autopilot profiles (route profile-update): pause" and
                   last["token"] == "lifecycle", "the page's pause is audit-logged by the token's name",
                   json.dumps(last))

    def test_3_fleet(self):
        c = type(self)
        fleet_phase(self, c.args, c.stack, c.writer, c.work)

    def test_4_follower_panel(self):
        c = type(self)
        a, stack, writer, proxy, follower = c.args, c.stack, c.writer, c.proxy, c.follower
        if not follower:
            self.skipTest("no --migrator")

        def page(state):
            shot = a.screenshot.replace(".png", "") + ".png"
            rc = subprocess.run([a.node, os.path.join(HERE, "dashboard_test.mjs"), "--url",
                                 f"http://127.0.0.1:{proxy.admin}/", "--screenshot", shot,
                                 "--cdc", state, "--cdc-only"], timeout=120).returncode
            self.check(rc == 0, f"the follower panel shows {state}",
                       f"dashboard_test.mjs --cdc {state} exited {rc}")

        # Caught up: the proxy shows the server's GTID position, lag 0.
        server_pos = stack.sql_value("SELECT @@gtid_binlog_pos")
        cdc = wait_for(lambda: (lambda c: c if c["state"] == "ok" and c["last_gtid"] == server_pos
                                else None)(proxy.status()["cdc"]), 30,
                       f"the proxy's cdc status at the server's position {server_pos}")
        print(f"follower caught up: {cdc}")
        self.check(cdc["lag_seconds"] == 0 and cdc["url"] == follower.url,
                   "caught up: /admin/status shows the server's position, lag 0", json.dumps(cdc))
        page("ok")
        # The writer dies: the follower cannot apply a new SQL write, its lag grows.
        writer.kill()
        stack.sql(f"INSERT INTO profile_attributes VALUES ('{uuid.uuid4()}', 'k', 'v', 5)")
        wait_for(lambda: proxy.status()["cdc"]["state"] == "lagging", 30, "cdc state lagging")
        page("lagging")
        follower.stop()
        wait_for(lambda: proxy.status()["cdc"]["state"] == "unreachable", 15, "cdc state unreachable")
        page("unreachable")


if __name__ == "__main__":
    sys.exit(run_cases(Dashboard))
