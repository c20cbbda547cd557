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
Exit 0 = every check passed.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import LegacyStack, Proxy, Writer, free_port, request, wait_for  # noqa: E402

UPDATE = "/api/v1/profile/update"
GET = "/api/v1/profile/get"
ROUTES = ("profile-update", "profile-get")
checks = {"passed": 0}


def check(cond, what, detail=""):
    if not cond:
        raise AssertionError(f"{what}: {detail}")
    checks["passed"] += 1
    print(f"ok: {what}" + (f" — {detail}" if detail else ""), flush=True)


def config(legacy_port, writer_port, work):
    return f"""# lifecycle test config (written by lifecycle_test.py)
listen: 127.0.0.1:0
admin: {{listen: 127.0.0.1:0, token_file: admin.token}}
access_log: {work}/access.log
backends:
  legacy: {{url: http://127.0.0.1:{legacy_port}, response_timeout_ms: 10000}}
  modern: {{url: http://127.0.0.1:{writer_port}, health: /readyz, health_interval_ms: 300, connect_timeout_ms: 300}}
cohorts:
  profiles: {{key: [header:X-User-Id, query:user_id, json:user_id], salt: "ficus-1"}}
mirror: {{timeout_ms: 3000}}
replay: {{dir: replay, max_mb: 64}}
routes:
  - name: profile-update
    match: {{method: POST, path: {UPDATE}}}
    rewrite: {{modern: /api/v2/profile/update}}
    cohort: profiles
    mode: legacy
    percent: 0
    compare: {{ignore: [data.updated_at]}}
    fallback: {{error_rate: 0.2, window_s: 5, min_requests: 10}}
  - name: profile-get
    match: {{method: GET, path: {GET}}}
    rewrite: {{modern: /api/v2/profile/get}}
    cohort: profiles
    mode: legacy
    percent: 0
    compare: {{ignore: [data.updated_at]}}
    fallback: {{error_rate: 0.2, window_s: 5, min_requests: 10}}
"""


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--writer", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--work", default="")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="ficus-lifecycle-")
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    stack = writer = proxy = None
    try:
        print(f"work dir {work}", flush=True)
        stack = LegacyStack(a.repo, os.path.join(work, "legacy"))
        writer = Writer(a.writer, os.path.join(work, "writer-data"), os.path.join(work, "writer.log"),
                        port=free_port())
        token = uuid.uuid4().hex
        proxy = Proxy(a.proxy, work, config(stack.port, writer.port, work), token)
        t = Traffic(proxy)
        pool = ThreadPoolExecutor(8)

        # ---- 1. legacy ----
        legacy_users = users(10)
        for u in legacy_users:
            check_status = t.update(u, {"plan": "legacy-era", "locale": "en"})
            assert check_status == 200, check_status
        s, _, _ = request(writer.port, "GET", f"/api/v2/profile/get?user_id={legacy_users[0]}")
        check(s == 404, "mode legacy: the writes reached legacy only", f"writer GET -> {s}")

        # ---- 2. shadow ----
        s, body = proxy.put("profile-update", {"mode": "shadow"}, token=None)
        check(s == 401, "PUT without a token is 401", str(s))
        s, body = proxy.put("profile-update", {"mode": "shadow"}, token="wrong")
        check(s == 403, "PUT with a wrong token is 403", str(s))
        s, body = proxy.put("profile-update", {"percent": 250})
        check(s == 400 and body["msg"].startswith("percent:"), "bad percent is 400 naming the field",
              body["msg"])
        s, body = proxy.put("profile-update", {"mode": "sideways"})
        check(s == 400 and body["msg"].startswith("mode:"), "bad mode is 400 naming the field",
              body["msg"])
        for r in ROUTES:
            proxy.must_put(r, {"mode": "shadow"})
        with open(proxy.config) as f:
            text = f.read()
        check(text.count("mode: shadow") == 2 and text.startswith("# lifecycle test config"),
              "changes are written back into the YAML file, comments kept")
        with open(os.path.join(work, "audit.log")) as f:
            audit = [json.loads(line) for line in f]
        check(len(audit) == 2 and audit[0]["token"] == "lifecycle" and
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
        check(all(s == 200 for s in res) and read_ok, "shadow traffic all 200, reads follow writes")
        total = 3 * len(shadow_users)
        def seen(r):
            m = proxy.route(r)["mismatch"]
            return m["compared"] + m["skipped"]
        wait_for(lambda: seen("profile-update") >= 2 * len(shadow_users)
                 and seen("profile-get") >= len(shadow_users), 15, "comparisons")
        mm = {r: proxy.route(r)["mismatch"] for r in ROUTES}
        compared = sum(m["compared"] for m in mm.values())
        skipped = sum(m["skipped"] for m in mm.values())
        check(sum(m["count"] for m in mm.values()) == 0 and compared >= total * 9 // 10,
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
        check(list(paths) == ["data.attributes.plan"] and paths["data.attributes.plan"]["legacy"] ==
              '"tampered"', "a record changed in MariaDB is reported with its differing field",
              json.dumps(found[0]["diffs"]))
        t.update(victim, {"plan": "repaired"})  # both stores agree again

        # ---- 3. canary 10% ----
        for r in ROUTES:
            proxy.must_put(r, {"mode": "canary", "percent": 10})
        canary_users = users(300)
        res = list(pool.map(lambda u: t.step(u, "canary"), canary_users + shadow_users))
        check(all(r[0] == r[1] == r[2] == 200 for r in res), "canary traffic all 200")
        check(all(r[3] for r in res), "canary: every read returns the user's own last write")
        time.sleep(1.5)
        served = proxy.access_log()
        by_user = {}
        for rid, backend in served.items():
            u = t.served.get(rid)
            if u in canary_users:
                by_user.setdefault(u, set()).add(backend)
        sticky = all(len(b) == 1 for b in by_user.values())
        modern_share = sum(1 for b in by_user.values() if b == {"modern"}) / len(by_user)
        check(len(by_user) == len(canary_users) and sticky,
              "canary: each user's reads and writes stay on one backend", f"{len(by_user)} users")
        check(0.04 <= modern_share <= 0.18, "canary 10%: share of users on modern",
              f"{modern_share:.3f}")

        # A second replica watching the same file follows admin changes.
        replica = Proxy(a.proxy, work, None, token, replica_of=proxy, name="replica")
        check(replica.route("profile-update")["percent"] == 10, "a second replica starts from the file")

        # ---- 4. modern killed during canary ----
        for r in ROUTES:
            proxy.must_put(r, {"percent": 50})
        wait_for(lambda: replica.route("profile-update")["percent"] == 50, 5,
                 "the replica to reload the changed file")
        check(True, "a change made through one replica's admin API reaches the other via the file")
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
        check(tripped_at is not None, "modern killed: profile-update falls back to legacy",
              proxy.route("profile-update")["fallback"]["reason"])
        late_5xx = [s for (ts, s) in statuses if ts > tripped_at + 1.0 and (s == 0 or s >= 500)]
        early_5xx = [s for (ts, s) in statuses if s == 0 or s >= 500]
        check(not late_5xx, "no 5xx once the fallback tripped (+1 s)",
              f"{len(early_5xx)} 5xx before, {len(statuses)} requests")
        r = proxy.route("profile-update")
        check(r["mode"] == "shadow" and r["configured_mode"] == "canary",
              "a fallen-back route runs legacy-first and shows its configured mode", r["mode"])
        time.sleep(1)
        check(proxy.route("profile-update")["fallback"]["tripped"],
              "fallback stays until an operator re-enables it")
        backlog_modern = proxy.route("profile-update")["backlog_to"]["modern"]
        check(backlog_modern > 0, "writes served by legacy meanwhile wait for modern in the replay log",
              str(backlog_modern))
        writer.start()
        wait_for(lambda: proxy.route("profile-update")["backlog_to"]["modern"] == 0, 40,
                 "the modern backlog to drain")
        check(True, "modern back: its backlog drained")
        for r in ROUTES:
            proxy.reset_fallback(r)
        r = proxy.route("profile-update")
        check(r["mode"] == "canary" and not r["fallback"]["tripped"], "operator re-enabled modern")

        # ---- 5. full ----
        for r in ROUTES:
            proxy.must_put(r, {"mode": "full", "wait_s": 30})
        full_users = users(30)
        res = list(pool.map(lambda u: t.step(u, "full"), full_users + canary_users[:60]))
        check(all(r[0] == r[1] == r[2] == 200 and r[3] for r in res), "full: all 200, reads follow writes")

        # ---- 6. legacy down during full ----
        stack.stop_web()
        down_users = canary_users[60:100] + full_users[:10]
        res = list(pool.map(lambda u: t.step(u, "legacy-down"), down_users))
        check(all(r[0] == r[1] == r[2] == 200 for r in res), "legacy down during full: writes still 200")
        backlog = wait_for(lambda: proxy.route("profile-update")["backlog_to"]["legacy"], 10,
                           "a legacy backlog")
        check(backlog >= len(down_users), "the writes wait in the replay log for legacy", str(backlog))
        _, _, metrics = request(proxy.admin, "GET", "/metrics")
        line = [m for m in metrics.decode().splitlines() if m.startswith(
            'ficus_proxy_replay_backlog{route="profile-update",backend="legacy"}')]
        check(line and int(line[0].split()[-1]) >= len(down_users),
              "the backlog per route is a Prometheus metric", line[0] if line else "missing")
        s, body = proxy.put("profile-update", {"mode": "legacy", "wait_s": 0})
        check(s == 409 and "backlog towards legacy" in body["msg"],
              "rollback refused while legacy lacks writes, with the reason", body["msg"])
        proxy.stop()
        proxy.start()
        st = proxy.status()["replay"]
        check(st["backlog"] >= len(down_users), "the backlog survives a proxy restart",
              f"{st['backlog']} pending after restart")
        stack.start_web()
        wait_for(lambda: proxy.route("profile-update")["backlog_to"]["legacy"] == 0, 60,
                 "the legacy backlog to drain")
        check(True, "legacy back: the backlog drained")

        # ---- 7. rollback ----
        for r in ROUTES:
            proxy.must_put(r, {"mode": "legacy", "wait_s": 30})
        lost = []
        for u, attrs in t.expected.items():
            s, _, b = request(stack.port, "GET", f"{GET}?user_id={u}")
            got = json.loads(b)["data"]["attributes"] if s == 200 else None
            if got is None or not t.matches(u, got):
                lost.append((u, attrs, got))
        check(not lost, "rollback: every 200'd update is on legacy with the same attributes",
              f"{len(t.expected)} users checked" + (f"; first lost: {lost[0]}" if lost else ""))
        print(f"{checks['passed']} passed, 0 failed", flush=True)
        return 0
    except Exception as e:  # noqa: BLE001 - any failure fails the test
        print(f"FAIL: {e}", flush=True)
        print(f"{checks['passed']} passed, 1 failed (work dir {work})", flush=True)
        return 1
    finally:
        for p in (proxy, writer):
            if p:
                try:
                    p.stop()
                except Exception as e:  # noqa: BLE001 - cleanup must go on
                    print(f"cleanup: {e}")
        if stack:
            stack.stop()
        if not a.keep and not a.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
