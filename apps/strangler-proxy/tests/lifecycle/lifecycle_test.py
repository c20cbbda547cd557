#!/usr/bin/env python3
"""Black-box migration lifecycle on the real stack.

  lifecycle_test.py --proxy BIN --writer BIN --repo DIR --work DIR

MariaDB + php-fpm + nginx (legacy), the real profile-writer (modern) and the
real ficus-proxy. Phases, each asserted:
  1. legacy   everything served by legacy.
  2. shadow   admin auth/validation; clean traffic compares with no mismatch;
              a record changed directly in MariaDB is reported with its field.
  3. canary   10%: share of users on modern, stickiness, reads follow writes.
  4. modern killed during canary (50%): auto-fallback, no 5xx once it tripped,
              the writes mirrored meanwhile drain to modern when it is back.
  5. full     cutover (guarded by the modern backlog).
  6. legacy down during full: writes still 200 and wait in the replay log,
              rollback is refused with the reason, the backlog survives a proxy
              restart, and drains when legacy returns.
  7. rollback to legacy: every update that got a 200 is readable through
              legacy's own GET with the same attributes (zero lost updates).
The stack is started once; each phase is a test method (run in order, the
later ones skipped once one raised) and each check its own case (harness.StackCase).
Exit 0 = every check passed.
"""
import json
import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Proxy, StackCase, profile_config, request, run_cases, wait_for  # noqa: E402

UPDATE = "/api/v1/profile/update"
GET = "/api/v1/profile/get"
ROUTES = ("profile-update", "profile-get")


ROUTE_FIELDS = """    mode: legacy
    percent: 0
    compare: {ignore: [data.updated_at]}
    fallback: {error_rate: 0.2, window_s: 5, min_requests: 10}
"""


def config(legacy_port, writer_port, work):
    return profile_config(
        legacy_port, writer_port, ROUTE_FIELDS, ROUTE_FIELDS,
        head="# lifecycle test config (written by lifecycle_test.py)\n",
        access_log=f"{work}/access.log", legacy_opts=", response_timeout_ms: 10000",
        modern_opts=", health_interval_ms: 300, connect_timeout_ms: 300",
        before_routes="mirror: {timeout_ms: 3000}\nreplay: {dir: replay, max_mb: 64}\n")


class Traffic:
    """Sends updates/reads through the proxy and remembers every update that
    got a 200 (the attributes each user must end up with)."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.expected = {}  # user -> {key: value}
        self.maybe = {}     # user -> {key: {values}}: writes answered with an error
        self.served = {}    # request id -> user
        self.seq = 0

    def matches(self, user, attrs):
        """`attrs` holds every 200'd value of the user; a key may instead hold
        the value of a later write whose answer was an error (such a write
        reaches both stores or neither: see CONTROL_PLANE.md)."""
        cur, maybe = self.expected.get(user, {}), self.maybe.get(user, {})
        for k in set(cur) | set(attrs) | set(maybe):
            if attrs.get(k) != cur.get(k) and attrs.get(k) not in maybe.get(k, ()):
                return False
        return True

    def update(self, user, attrs, headers=None):
        s, h, b = request(self.proxy.port, "POST", UPDATE, {"user_id": user, "attributes": attrs},
                          headers)
        if s == 200:
            cur = self.expected.setdefault(user, {})
            for k, v in attrs.items():
                self.maybe.get(user, {}).pop(k, None)
                if v is None:
                    cur.pop(k, None)
                else:
                    cur[k] = v
            body = json.loads(b)
            assert self.matches(user, body["data"]["attributes"]), (user, body, cur)
        else:
            for k, v in attrs.items():
                self.maybe.setdefault(user, {}).setdefault(k, set()).add(v)
        self.served[h.get("x-request-id", "")] = user
        return s

    def get(self, user):
        s, h, b = request(self.proxy.port, "GET", f"{GET}?user_id={user}")
        self.served[h.get("x-request-id", "")] = user
        return s, (json.loads(b) if b else None)

    def step(self, user, phase):
        """update, read back (reads follow writes), update again."""
        self.seq += 1
        n = self.seq
        s1 = self.update(user, {"phase": phase, "n": str(n), "plan": "p" + str(n % 3)})
        s2, body = self.get(user)
        read_ok = s2 == 200 and self.matches(user, body["data"]["attributes"])
        s3 = self.update(user, {"n": str(n) + "b", "gone": None})
        return s1, s2, s3, read_ok


def users(n):
    return [str(uuid.uuid4()) for _ in range(n)]


class Lifecycle(StackCase):
    prefix = "ficus-lifecycle-"

    @classmethod
    def start_stack(cls):
        a, work = cls.args, cls.work
        cls.start_legacy_and_writer()
        cls.proxy = cls.stop_later(Proxy(a.proxy, work, config(cls.stack.port, cls.writer.port, work),
                                         cls.token))
        cls.t = Traffic(cls.proxy)
        cls.pool = ThreadPoolExecutor(8)
        cls.stop_later(cls.pool.shutdown)

    def test_1_legacy(self):
        c = type(self)
        t, writer = c.t, c.writer
        legacy_users = users(10)
        for u in legacy_users:
            check_status = t.update(u, {"plan": "legacy-era", "locale": "en"})
            assert check_status == 200, check_status
        s, _, _ = request(writer.port, "GET", f"/api/v2/profile/get?user_id={legacy_users[0]}")
        self.check(s == 404, "mode legacy: the writes reached legacy only", f"writer GET -> {s}")

    def test_2_shadow(self):
        c = type(self)
        t, proxy, pool, stack, work = c.t, c.proxy, c.pool, c.stack, c.work
        s, body = proxy.put("profile-update", {"mode": "shadow"}, token=None)
        self.check(s == 401, "PUT without a token is 401", str(s))
        s, body = proxy.put("profile-update", {"mode": "shadow"}, token="wrong")
        self.check(s == 403, "PUT with a wrong token is 403", str(s))
        s, body = proxy.put("profile-update", {"percent": 250})
        self.check(s == 400 and body["msg"].startswith("percent:"), "bad percent is 400 naming the field",
                   body["msg"])
        s, body = proxy.put("profile-update", {"mode": "sideways"})
        self.check(s == 400 and body["msg"].startswith("mode:"), "bad mode is 400 naming the field",
                   body["msg"])
        for r in ROUTES:
            proxy.must_put(r, {"mode": "shadow"})
        with open(proxy.config) as f:
            text = f.read()
        self.check(text.count("mode: shadow") == 2 and text.startswith("# lifecycle test config"),
                   "changes are written back into the YAML file, comments kept")
        with open(os.path.join(work, "audit.log")) as f:
            audit = [json.loads(line) for line in f]
        self.check(len(audit) == 2 and audit[0]["token"] == "lifecycle" and
                   audit[0]["before"]["mode"] == "legacy" and audit[0]["after"]["mode"] == "shadow",
                   "changes are audit-logged with before/after and the token name", json.dumps(audit[0]))
        shadow_users = users(40)
        # Write, read back, write again -- in three passes a second apart, so
        # that no compared answer races a write of its user still on its way
        # to modern (those are skipped, not compared: see WriteTracker).
        res = list(pool.map(lambda u: t.update(u, {"phase": "shadow", "plan": "s1"}), shadow_users))
        time.sleep(1)
        reads = list(pool.map(t.get, shadow_users))
        read_ok = all(s == 200 and b["data"]["attributes"] == t.expected[u]
                      for u, (s, b) in zip(shadow_users, reads))
        time.sleep(1)
        res += list(pool.map(lambda u: t.update(u, {"n": "2", "gone": None}), shadow_users))
        self.check(all(s == 200 for s in res) and read_ok, "shadow traffic all 200, reads follow writes")
        total = 3 * len(shadow_users)
        def seen(r):
            m = proxy.route(r)["mismatch"]
            return m["compared"] + m["skipped"]
        wait_for(lambda: seen("profile-update") >= 2 * len(shadow_users)
                 and seen("profile-get") >= len(shadow_users), 15, "comparisons")
        mm = {r: proxy.route(r)["mismatch"] for r in ROUTES}
        compared = sum(m["compared"] for m in mm.values())
        skipped = sum(m["skipped"] for m in mm.values())
        self.check(sum(m["count"] for m in mm.values()) == 0 and compared >= total * 9 // 10,
                   "clean shadow traffic: no mismatch",
                   f"{total} requests, {compared} compared, {skipped} skipped (raced a write of the "
                   f"same user); first mismatch: {proxy.mismatches()[:1]}")
        victim = shadow_users[0]
        stack.sql(f"UPDATE profile_attributes SET attr_value='tampered' "
                  f"WHERE user_id='{victim}' AND attr_key='plan'")
        s, _ = t.get(victim)
        found = wait_for(lambda: [m for m in proxy.mismatches("profile-get") if m["user_key"] == victim],
                         10, "the divergent record to be reported")
        paths = {d["path"]: d for d in found[0]["diffs"]}
        self.check(list(paths) == ["data.attributes.plan"] and paths["data.attributes.plan"]["legacy"] ==
                   '"tampered"', "a record changed in MariaDB is reported with its differing field",
                   json.dumps(found[0]["diffs"]))
        t.update(victim, {"plan": "repaired"})  # both stores agree again
        c.shadow_users = shadow_users

    def test_3_canary(self):
        c = type(self)
        t, proxy, pool, a, work, token = c.t, c.proxy, c.pool, c.args, c.work, c.token
        shadow_users = c.shadow_users
        for r in ROUTES:
            proxy.must_put(r, {"mode": "canary", "percent": 10})
        canary_users = users(300)
        res = list(pool.map(lambda u: t.step(u, "canary"), canary_users + shadow_users))
        self.check(all(r[0] == r[1] == r[2] == 200 for r in res), "canary traffic all 200")
        self.check(all(r[3] for r in res), "canary: every read returns the user's own last write")
        time.sleep(1.5)
        served = proxy.access_log()
        by_user = {}
        for rid, backend in served.items():
            u = t.served.get(rid)
            if u in canary_users:
                by_user.setdefault(u, set()).add(backend)
        sticky = all(len(b) == 1 for b in by_user.values())
        modern_share = sum(1 for b in by_user.values() if b == {"modern"}) / len(by_user)
        self.check(len(by_user) == len(canary_users) and sticky,
                   "canary: each user's reads and writes stay on one backend", f"{len(by_user)} users")
        self.check(0.04 <= modern_share <= 0.18, "canary 10%: share of users on modern",
                   f"{modern_share:.3f}")

        # A second replica watching the same file follows admin changes.
        replica = c.stop_later(Proxy(a.proxy, work, None, token, replica_of=proxy, name="replica"))
        self.check(replica.route("profile-update")["percent"] == 10, "a second replica starts from the file")
        c.canary_users, c.replica = canary_users, replica

    def test_4_modern_killed_during_canary(self):
        c = type(self)
        t, proxy, writer, replica, canary_users = c.t, c.proxy, c.writer, c.replica, c.canary_users
        for r in ROUTES:
            proxy.must_put(r, {"percent": 50})
        wait_for(lambda: replica.route("profile-update")["percent"] == 50, 5,
                 "the replica to reload the changed file")
        self.check(True, "a change made through one replica's admin API reaches the other via the file")
        replica.stop()
        writer.kill()
        statuses = []  # (time, status)
        deadline = time.time() + 20
        tripped_at = None
        fb_users = canary_users[:120]
        i = 0
        while time.time() < deadline:
            u = fb_users[i % len(fb_users)]
            i += 1
            now = time.time()
            statuses.append((now, t.update(u, {"during": "fallback", "i": str(i)})))
            statuses.append((time.time(), t.get(u)[0]))
            if tripped_at is None and i % 5 == 0:
                fb = proxy.route("profile-update")["fallback"]
                if fb["tripped"]:
                    tripped_at = fb["since"] / 1000.0
                    deadline = time.time() + 4  # keep sending for 4 s after the trip
        self.check(tripped_at is not None, "modern killed: profile-update falls back to legacy",
                   proxy.route("profile-update")["fallback"]["reason"])
        late_5xx = [s for (ts, s) in statuses if ts > tripped_at + 1.0 and (s == 0 or s >= 500)]
        early_5xx = [s for (ts, s) in statuses if s == 0 or s >= 500]
        self.check(not late_5xx, "no 5xx once the fallback tripped (+1 s)",
                   f"{len(early_5xx)} 5xx before, {len(statuses)} requests")
        r = proxy.route("profile-update")
        self.check(r["mode"] == "shadow" and r["configured_mode"] == "canary",
                   "a fallen-back route runs legacy-first and shows its configured mode", r["mode"])
        time.sleep(1)
        self.check(proxy.route("profile-update")["fallback"]["tripped"],
                   "fallback stays until an operator re-enables it")
        backlog_modern = proxy.route("profile-update")["backlog_to"]["modern"]
        self.check(backlog_modern > 0, "writes served by legacy meanwhile wait for modern in the replay log",
                   str(backlog_modern))
        writer.start()
        wait_for(lambda: proxy.route("profile-update")["backlog_to"]["modern"] == 0, 40,
                 "the modern backlog to drain")
        self.check(True, "modern back: its backlog drained")
        for r in ROUTES:
            proxy.reset_fallback(r)
        r = proxy.route("profile-update")
        self.check(r["mode"] == "canary" and not r["fallback"]["tripped"], "operator re-enabled modern")

    def test_5_full(self):
        c = type(self)
        t, proxy, pool, canary_users = c.t, c.proxy, c.pool, c.canary_users
        for r in ROUTES:
            proxy.must_put(r, {"mode": "full", "wait_s": 30})
        full_users = users(30)
        res = list(pool.map(lambda u: t.step(u, "full"), full_users + canary_users[:60]))
        self.check(all(r[0] == r[1] == r[2] == 200 and r[3] for r in res), "full: all 200, reads follow writes")
        c.full_users = full_users

    def test_6_legacy_down_during_full(self):
        c = type(self)
        t, proxy, pool, stack = c.t, c.proxy, c.pool, c.stack
        canary_users, full_users = c.canary_users, c.full_users
        stack.stop_web()
        down_users = canary_users[60:100] + full_users[:10]
        res = list(pool.map(lambda u: t.step(u, "legacy-down"), down_users))
        self.check(all(r[0] == r[1] == r[2] == 200 for r in res), "legacy down during full: writes still 200")
        backlog = wait_for(lambda: proxy.route("profile-update")["backlog_to"]["legacy"], 10,
                           "a legacy backlog")
        self.check(backlog >= len(down_users), "the writes wait in the replay log for legacy", str(backlog))
        _, _, metrics = request(proxy.admin, "GET", "/metrics")
        line = [m for m in metrics.decode().splitlines() if m.startswith(
            'ficus_proxy_replay_backlog{route="profile-update",backend="legacy"}')]
        self.check(line and int(line[0].split()[-1]) >= len(down_users),
                   "the backlog per route is a Prometheus metric", line[0] if line else "missing")
        s, body = proxy.put("profile-update", {"mode": "legacy", "wait_s": 0})
        self.check(s == 409 and "backlog towards legacy" in body["msg"],
                   "rollback refused while legacy lacks writes, with the reason", body["msg"])
        proxy.stop()
        proxy.start()
        st = proxy.status()["replay"]
        self.check(st["backlog"] >= len(down_users), "the backlog survives a proxy restart",
                   f"{st['backlog']} pending after restart")
        stack.start_web()
        wait_for(lambda: proxy.route("profile-update")["backlog_to"]["legacy"] == 0, 60,
                 "the legacy backlog to drain")
        self.check(True, "legacy back: the backlog drained")

    def test_7_rollback(self):
        c = type(self)
        t, proxy, stack = c.t, c.proxy, c.stack
        for r in ROUTES:
            proxy.must_put(r, {"mode": "legacy", "wait_s": 30})
        lost = []
        for u, attrs in t.expected.items():
            s, _, b = request(stack.port, "GET", f"{GET}?user_id={u}")
            got = json.loads(b)["data"]["attributes"] if s == 200 else None
            if got is None or not t.matches(u, got):
                lost.append((u, attrs, got))
        self.check(not lost, "rollback: every 200'd update is on legacy with the same attributes",
                   f"{len(t.expected)} users checked" + (f"; first lost: {lost[0]}" if lost else ""))


if __name__ == "__main__":
    sys.exit(run_cases(Lifecycle))
