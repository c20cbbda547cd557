#!/usr/bin/env python3
"""A whole migration under steady traffic with faults injected.

  faults_test.py --proxy BIN --writer BIN --repo DIR [--work DIR] [--keep]

Real stack: MariaDB + php-fpm + nginx (legacy), the profile-writer (modern),
ficus-proxy with its replay log. Several threads write (updates with
deletes) and read back through the proxy for the whole run, each thread on
its own users, while the test walks the migration

  legacy -> shadow (traffic starts) -> [proxy kill -9 + restart] -> canary 30%
  -> [writer kill -9 + restart] -> [proxy kill -9 + restart] -> full
  -> [writer kill -9 + restart] -> [legacy stopped for a while]
  -> canary 10% -> shadow (rollback) -> [traffic stops] -> legacy

and then, once the replay backlog drained, checks per user and key:
  A. every acknowledged write is on BOTH stores with the last acknowledged
     value (a write whose answer was an error may or may not have applied,
     but then on both sides alike);
  B. no user whose stores differ;
  C. no stale read (a read missing a write acknowledged before it was sent)
     later than 1 s after an admin change or a restart;
  D. no mismatch reported for a user that ends equal on both stores.
The stack is started once; the walk and each of A-D is a test method, each
check its own case (harness.StackCase). Exit 0 = every check passed.
"""
import json
import os
import random
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Proxy, StackCase, free_port, profile_config, request,  # noqa: E402
                     run_cases, wait_for)

UPDATE = "/api/v1/profile/update"
GET = "/api/v1/profile/get"
KEYS = ("k0", "k1", "k2", "k3")
ABSENT = None


LEGACY_BACKEND = ", response_timeout_ms: 5000, connect_timeout_ms: 300"
MODERN_BACKEND = (", health_interval_ms: 200, connect_timeout_ms: 300,"
                  " response_timeout_ms: 3000")


def config(legacy_port, writer_port, work):
    # No fallback: block on profile-get: fallback is on by default for every route.
    fields = """    mode: legacy
    percent: 0
    compare: {ignore: [data.updated_at]}
"""
    return profile_config(
        legacy_port, writer_port,
        fields + "    fallback: {error_rate: 0.2, window_s: 5, min_requests: 10}\n", fields,
        head="# faults test config (written by faults_test.py)\n", access_log=f"{work}/access.log",
        legacy_opts=LEGACY_BACKEND, modern_opts=MODERN_BACKEND,
        before_routes="mirror: {timeout_ms: 2000}\nreplay: {dir: replay, max_mb: 64}\n")


class UserModel:
    """What one user's profile may hold. `sure[k]`: the last acknowledged
    value (None = deleted / never set). `maybe[k]`: values of later writes
    whose answer was an error (they may have applied)."""

    def __init__(self):
        self.sure = {}
        self.maybe = {}

    def acked(self, attrs):
        for k, v in attrs.items():
            self.sure[k] = v
            self.maybe.pop(k, None)

    def failed(self, attrs):
        for k, v in attrs.items():
            self.maybe.setdefault(k, set()).add(v)

    def allowed(self, k):
        return {self.sure.get(k)} | self.maybe.get(k, set())

    def stale_keys(self, attrs):
        """Keys whose value in `attrs` (a store's answer) is not allowed."""
        bad = []
        for k in KEYS:
            if attrs.get(k) not in self.allowed(k):
                bad.append(k)
        return bad


class Traffic:
    def __init__(self, threads, users_per_thread):
        self.port = None  # proxy port (changes on restart? no: kept by the test)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.users = {}  # user -> UserModel
        self.stale = []  # (time, user, key, got, allowed)
        self.counts = {"writes": 0, "acked": 0, "failed": 0, "reads": 0, "read_errors": 0}
        self.groups = []
        for _ in range(threads):
            us = [str(uuid.uuid4()) for _ in range(users_per_thread)]
            for u in us:
                self.users[u] = UserModel()
            self.groups.append(us)
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(threads)]

    def start(self, port):
        self.port = port
        for t in self.threads:
            t.start()

    def run(self, i):
        rnd = random.Random(i)
        n = 0
        while not self.stop.is_set():
            user = rnd.choice(self.groups[i])
            model = self.users[user]
            n += 1
            attrs = {}
            for k in rnd.sample(KEYS, rnd.randint(1, 2)):
                attrs[k] = None if rnd.random() < 0.25 else f"t{i}-{n}"
            s, _, _ = request(self.port, "POST", UPDATE, {"user_id": user, "attributes": attrs},
                              timeout=8)
            with self.lock:
                self.counts["writes"] += 1
                if s == 200:
                    self.counts["acked"] += 1
                    model.acked(attrs)
                else:
                    self.counts["failed"] += 1
                    model.failed(attrs)
            # Read back what was acknowledged before the read was sent.
            sent = time.time()
            s, _, b = request(self.port, "GET", f"{GET}?user_id={user}", timeout=8)
            with self.lock:
                self.counts["reads"] += 1
                if s == 404:
                    got = {}
                elif s == 200:
                    got = json.loads(b)["data"]["attributes"]
                else:
                    self.counts["read_errors"] += 1
                    got = None
                if got is not None:
                    for k in model.stale_keys(got):
                        self.stale.append((sent, user, k, got.get(k), sorted(
                            map(str, model.allowed(k)))))
            # Bounded load: about 10 writes/s per thread, so legacy (PHP on a
            # busy 2-core machine) keeps up with the copies it gets in full.
            time.sleep(0.1)

    def halt(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


class Run:
    """The walk's timeline; its checks are the test case's (one case each)."""

    def __init__(self, a, work, check):
        self.a, self.work, self.check = a, work, check
        self.events = []  # (time, what): admin changes and restarts

    def note(self, what):
        self.events.append((time.time(), what))
        print(f"[{time.strftime('%H:%M:%S')}] {what}", flush=True)


def kill9_restart_proxy(run, proxy):
    proxy.kill()
    run.note("proxy killed (-9)")
    # The same ports: clients keep their address (listen/admin fixed below).
    proxy.start()
    run.note("proxy restarted")


def soft_wait(run, pred, timeout_s, what):
    try:
        wait_for(pred, timeout_s, what, 0.2)
    except AssertionError as e:
        run.check(False, what, str(e))


def wait_backlog(proxy, backend, timeout_s):
    def drained():
        rs = proxy.routes()
        return all(r["backlog_to"][backend] == 0 for r in rs.values())
    wait_for(drained, timeout_s, f"the replay backlog towards {backend} to drain", 0.2)


def put_group(run, proxy, change, wait_s=30):
    change = dict(change, wait_s=wait_s)
    # --put-each-route: one PUT per route, as a client of a proxy without
    # route groups has to.
    for route in ("profile-update", "profile-get") if run.a.put_each_route else ("profile-update",):
        s, body = proxy.put(route, change)
        run.check(s == 200, f"PUT {route} {change}", f"{s} {body if s != 200 else ''}")
    run.note(f"admin change {change}")


class Faults(StackCase):
    prefix = "ficus-faults-"

    @classmethod
    def add_arguments(cls, ap):
        ap.add_argument("--threads", type=int, default=4)
        ap.add_argument("--keep-going", action="store_true",
                        help="(always so now: every failed check is reported and the run goes on)")
        ap.add_argument("--put-each-route", action="store_true",
                        help="one admin PUT per route instead of one per route group")

    @classmethod
    def start_stack(cls):
        a, work = cls.args, cls.work
        cls.start_legacy_and_writer()
        cfg = config(cls.stack.port, cls.writer.port, work)
        # Fixed ports, so a restarted proxy is where the clients expect it.
        cfg = cfg.replace("listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0",
                          f"listen: 127.0.0.1:{free_port()}\nadmin: {{listen: 127.0.0.1:{free_port()}")
        cls.proxy = cls.stop_later(Proxy(a.proxy, work, cfg, cls.token))
        cls.traffic = Traffic(a.threads, 8)
        cls.stop_later(cls.traffic.halt)

    @classmethod
    def tearDownClass(cls):
        if cls.failed or cls._broken:
            try:
                print("proxy status: " + json.dumps(cls.proxy.status()), flush=True)
                print("routes: " + json.dumps({n: {k: r[k] for k in ("mode", "backlog_to", "held_to",
                                                                      "fallback")}
                                               for n, r in cls.proxy.routes().items()}), flush=True)
            except Exception:  # noqa: BLE001 - diagnostics only
                pass
        super().tearDownClass()

    def test_1_walk_the_migration_under_faults(self):
        c = type(self)
        stack, writer, proxy, traffic, token = c.stack, c.writer, c.proxy, c.traffic, c.token
        run = c.timeline = Run(c.args, c.work, self.check)
        t_start = time.time()
        run.check(proxy.route("profile-get")["fallback"]["enabled"],
                  "fallback is on for the read route without a fallback: block")

        # ---- legacy -> shadow ----
        # Traffic starts with shadow: writes made in mode legacy reach legacy
        # only, and a real migration backfills them (profile-migrator) before
        # the canary; the test leaves that to the migrator's own tests.
        put_group(run, proxy, {"mode": "shadow"})
        traffic.start(proxy.port)
        r = proxy.routes()
        run.check(r["profile-get"]["mode"] == "shadow" and r["profile-update"]["mode"] == "shadow",
                  "one admin call moves the whole route group (reads and writes)")
        time.sleep(4)
        kill9_restart_proxy(run, proxy)
        time.sleep(3)

        # ---- canary 30% with a writer crash and a proxy crash ----
        put_group(run, proxy, {"mode": "canary", "percent": 30})
        time.sleep(3)
        writer.kill()
        run.note("writer killed (-9) in canary")
        soft_wait(run, lambda: proxy.route("profile-get")["fallback"]["tripped"], 20,
                  "the group (reads included) to fall back")
        run.note("fallback tripped")
        time.sleep(2)
        s, _, b = request(proxy.admin, "POST", "/admin/routes/profile-update/reset-fallback",
                          {"wait_s": 0}, {"Authorization": "Bearer " + token})
        run.check(s == 409, "reset-fallback is refused while writes wait for modern",
                  b.decode()[:200])
        writer.start()
        run.note("writer restarted")
        s, _, b = request(proxy.admin, "POST", "/admin/routes/profile-update/reset-fallback",
                          {"wait_s": 60}, {"Authorization": "Bearer " + token}, timeout=90)
        run.check(s == 200, "reset-fallback once the backlog towards modern drained",
                  b.decode()[:200] if s != 200 else "")
        run.note("fallback reset")
        time.sleep(3)
        kill9_restart_proxy(run, proxy)
        time.sleep(3)

        # ---- full with a writer crash and legacy down ----
        put_group(run, proxy, {"mode": "full"})
        time.sleep(3)
        writer.kill()
        run.note("writer killed (-9) in full")
        soft_wait(run, lambda: proxy.route("profile-get")["fallback"]["tripped"], 20,
                  "the group (reads included) to fall back")
        run.note("fallback tripped")
        time.sleep(2)
        writer.start()
        run.note("writer restarted")
        s, _, b = request(proxy.admin, "POST", "/admin/routes/profile-get/reset-fallback",
                          {"wait_s": 60}, {"Authorization": "Bearer " + token}, timeout=90)
        run.check(s == 200, "reset-fallback (through the read route: resets the group)",
                  b.decode()[:200] if s != 200 else "")
        run.note("fallback reset")
        time.sleep(3)
        stack.stop_web()
        run.note("legacy stopped in full")
        time.sleep(4)
        stack.start_web()
        run.note("legacy restarted")
        wait_backlog(proxy, "legacy", 60)
        time.sleep(2)

        # ---- back: canary 10%, then legacy ----
        put_group(run, proxy, {"mode": "canary", "percent": 10})
        time.sleep(3)
        put_group(run, proxy, {"mode": "shadow"})  # rollback under traffic
        time.sleep(3)
        traffic.halt()
        # Legacy mode mirrors nothing: the last step is taken without traffic.
        put_group(run, proxy, {"mode": "legacy"})
        c = traffic.counts
        print(f"traffic: {c}", flush=True)
        run.check(c["acked"] > 300, "steady traffic ran", json.dumps(c))
        wait_for(lambda: proxy.status()["replay"]["backlog"] == 0, 90,
                 "the whole replay log (queued and held) to drain", 0.2)
        print(f"walk took {time.time() - t_start:.0f} s", flush=True)

    def test_2_stores_agree(self):
        c = type(self)
        stack, writer, traffic, run = c.stack, c.writer, c.traffic, c.timeline
        c.equal_users = equal_users = set()
        differ, lost = [], []
        for user, model in traffic.users.items():
            s1, _, b1 = request(stack.port, "GET", f"/api/v1/profile/get?user_id={user}")
            s2, _, b2 = request(writer.port, "GET", f"/api/v2/profile/get?user_id={user}")
            assert s1 in (200, 404) and s2 in (200, 404), (user, s1, b1, s2, b2)
            legacy = json.loads(b1)["data"]["attributes"] if s1 == 200 else {}
            modern = json.loads(b2)["data"]["attributes"] if s2 == 200 else {}
            if legacy != modern or (s1 == 404) != (s2 == 404):
                differ.append((user, s1, legacy, s2, modern))
            else:
                equal_users.add(user)
            for side, attrs in (("legacy", legacy), ("modern", modern)):
                for k in model.stale_keys(attrs):
                    lost.append((user, side, k, attrs.get(k), sorted(map(str, model.allowed(k)))))
        self.check(not lost, "A. every acknowledged write is on both stores with its last value",
                   f"{len(traffic.users)} users; {len(lost)} bad: {lost[:3]}")
        self.check(not differ, "B. no user whose stores differ (errors included)",
                   f"{len(differ)} differ: {differ[:2]}")

    def test_3_no_late_stale_read(self):
        c = type(self)
        traffic, run = c.traffic, c.timeline
        def excused(t):
            return any(0 <= t - e <= 1.0 for e, _ in run.events)
        late = [s for s in traffic.stale if not excused(s[0])]
        self.check(not late, "C. no stale read later than 1 s after an admin change or restart",
                   f"{len(traffic.stale)} stale within 1 s of a change, {len(late)} later: "
                   f"{late[:3]}")

    def test_4_no_false_mismatch(self):
        c = type(self)
        proxy, equal_users = c.proxy, c.equal_users
        mm = proxy.mismatches()
        false_mm = [m for m in mm if m["user_key"] in equal_users]
        counts = {n: r["mismatch"] for n, r in proxy.routes().items()}
        self.check(not false_mm, "D. no mismatch reported for a user that ends equal on both stores",
                   f"{len(mm)} kept; {len(false_mm)} false; counters {json.dumps(counts)}"
                   + (f"; first: {json.dumps(false_mm[0])[:400]}" if false_mm else ""))


if __name__ == "__main__":
    sys.exit(run_cases(Faults))
