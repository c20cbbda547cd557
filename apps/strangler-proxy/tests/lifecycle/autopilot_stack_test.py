#!/usr/bin/env python3
"""The autopilot (issue 15) on the real stack, time-compressed (~2 s a step).

  autopilot_stack_test.py --proxy BIN --writer BIN --prod-writer BIN --repo DIR
                          --scenario NAME [--work DIR]

Real MariaDB + php-fpm + nginx (legacy, scripts/stack/legacy-stack.sh), the
real profile-writer built with test fault injection (the binary
profile-writer-test-faults: POST /__test/faults {"status", "corrupt"}; the
production binary has no such code) on RocksDB, the real ficus-proxy. Users
write (updates with deletes) and read back through the proxy from several
threads while the plan walks the group (faults_test.py's Traffic). Scenarios:
  healthy   legacy -> shadow -> 5% -> 25% -> 100% -> full by itself; then, the
            replay log drained, per user and key: every acknowledged write on
            BOTH stores with its last value, no user whose stores differ;
  failing   the writer answers 500 from canary 25%: the plan rolls back to 5%
            within the gate window (3 s), then to shadow, then pauses;
  wrong     the writer answers wrong data: the plan stops in shadow
            (mismatch rate) and never goes canary; the production binary
            (--prod-writer) answers 404 to the fault injection endpoint;
  webhook   the external check answers 500: the plan holds in shadow; once it
            answers 204 the plan moves on.
The stack is started once; each check is its own case (harness.StackCase).
Exit 0 = every check passed. Each scenario takes well under 3 minutes.
"""
import http.server
import json
import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults_test import LEGACY_BACKEND, MODERN_BACKEND, Traffic  # noqa: E402
from harness import (LegacyStack, Proxy, StackCase, Writer, profile_config,  # noqa: E402
                     request, run_cases, wait_for)

GROUP = "profiles"
CASE = None  # the running AutopilotStack test: its checks are reported one case each


def check(cond, what, detail=""):
    CASE.check(cond, what, detail)


def config(legacy_port, writer_port, work, plan_extra=""):
    # fallback off: the autopilot's own gates are what is tested here.
    fields = """    mode: legacy
    compare: {ignore: [data.updated_at]}
    fallback: {enabled: false}
"""
    autopilot = f"""    autopilot:
      shadow: {{min_compared: 30, max_mismatch_rate: 0.02}}
      canary: {{steps: [5, 25, 100], min_s: 2, min_requests: 30}}
      full: {{min_s: 2, min_requests: 30}}
      # PHP on a shared 2-core box against a C++ service: p99 is judged
      # loosely here (it is unit-tested on its own).
      gates: {{window_s: 3, min_samples: 10, min_compared: 10, p99: {{max_ratio: 3, slack_ms: 500}}}}
      on_failure: {{pause_after: 3}}
      tick_ms: 200
{plan_extra}
"""
    return profile_config(
        legacy_port, writer_port, fields + autopilot, fields,
        head="# autopilot stack test config (written by autopilot_stack_test.py)\n",
        admin_extra=f", audit_log: {work}/audit.log", legacy_opts=LEGACY_BACKEND,
        modern_opts=MODERN_BACKEND, salt="ficus-ap",
        before_routes="mirror: {timeout_ms: 2000}\nreplay: {dir: replay, max_mb: 64}\n")

class CheckServer:
    """A webhook on 127.0.0.1 answering `status` to every POST (changeable)."""

    def __init__(self, status):
        self.status = status
        self.hits = 0
        owner = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                n = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(n)
                owner.hits += 1
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Scenario:
    def __init__(self, a, work, stack, plan_extra=""):
        self.a, self.work, self.stack = a, work, stack
        self.writer = Writer(a.writer, os.path.join(work, "writer-data"),
                             os.path.join(work, "writer.log"))
        self.token = uuid.uuid4().hex
        self.proxy = Proxy(a.proxy, work, config(stack.port, self.writer.port, work, plan_extra),
                           self.token)
        self.traffic = None

    def faults(self, **kw):
        s, _, b = request(self.writer.port, "POST", "/__test/faults", kw)
        check(s == 200, f"writer fault injection {kw}", b.decode()[:200])

    def plan(self):
        s, _, b = request(self.proxy.admin, "GET", f"/admin/autopilot/{GROUP}?timeline=200")
        assert s == 200, (s, b)
        return json.loads(b)

    def step(self):
        run = self.plan().get("run") or {}
        return run.get("step_label", "")

    def start_plan(self):
        s, _, b = request(self.proxy.admin, "POST", f"/admin/autopilot/{GROUP}/start", None,
                          {"Authorization": "Bearer " + self.token})
        check(s == 200, "plan started", b.decode()[:200] if s != 200 else "")
        # Writes acknowledged in mode legacy are not mirrored (the backfill's
        # job): traffic starts once the plan has moved the group to shadow.
        wait_for(lambda: self.proxy.route("profile-get")["mode"] == "shadow", 10,
                 "the plan to move the group to shadow")
        self.traffic = Traffic(self.a.threads, 25)
        self.traffic.start(self.proxy.port)

    def wait_plan(self, pred, timeout_s, what):
        last = {}

        def ok():
            last["p"] = self.plan()
            return pred(last["p"])
        try:
            wait_for(ok, timeout_s, what, 0.1)
        except AssertionError as e:
            raise AssertionError(f"{e}; plan: {json.dumps(last.get('p'))[:3000]}") from None
        return last["p"]

    def audit(self):
        out = []
        with open(os.path.join(self.work, "audit.log")) as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def close(self):
        if self.traffic:
            self.traffic.halt()
        for p in (self.proxy, self.writer):
            try:
                p.stop()
            except Exception as e:  # noqa: BLE001 - cleanup goes on
                print(f"cleanup: {e}")


def entered(plan):
    return [e["to"] for e in plan["run"]["timeline"] if e["kind"] == "advance"]


def healthy(sc):
    t0 = time.time()
    sc.start_plan()
    plan = sc.wait_plan(lambda p: p["status"] != "running", 120, "the plan to finish")
    took = time.time() - t0
    sc.traffic.halt()
    check(plan["status"] == "done", "a healthy modern reaches full by itself",
          f"{took:.1f} s; why: {plan['why']}")
    check(entered(plan) == ["shadow", "canary 5%", "canary 25%", "canary 100%", "full"],
          "every step entered once, in order", json.dumps(entered(plan)))
    routes = sc.proxy.routes()
    check(all(r["mode"] == "full" for r in routes.values()), "both routes are full")
    c = sc.traffic.counts
    check(c["acked"] > 200 and c["failed"] == 0, "steady traffic with no failed write",
          json.dumps(c))
    wait_for(lambda: sc.proxy.status()["replay"]["backlog"] == 0, 60,
             "the replay log to drain", 0.2)
    differ, lost = [], []
    for user, model in sc.traffic.users.items():
        s1, _, b1 = request(sc.stack.port, "GET", f"/api/v1/profile/get?user_id={user}")
        s2, _, b2 = request(sc.writer.port, "GET", f"/api/v2/profile/get?user_id={user}")
        assert s1 in (200, 404) and s2 in (200, 404), (user, s1, b1, s2, b2)
        legacy = json.loads(b1)["data"]["attributes"] if s1 == 200 else {}
        modern = json.loads(b2)["data"]["attributes"] if s2 == 200 else {}
        if legacy != modern or (s1 == 404) != (s2 == 404):
            differ.append((user, legacy, modern))
        for side, attrs in (("legacy", legacy), ("modern", modern)):
            for k in model.stale_keys(attrs):
                lost.append((user, side, k, attrs.get(k), sorted(map(str, model.allowed(k)))))
    check(not lost, "every acknowledged write is on both stores with its last value",
          f"{len(sc.traffic.users)} users, {c['acked']} writes; {len(lost)} bad: {lost[:3]}")
    check(not differ, "no user whose stores differ", f"{len(differ)} differ: {differ[:2]}")


def failing(sc):
    sc.start_plan()
    sc.wait_plan(lambda p: p["run"]["step_label"] == "canary 25%", 90, "canary 25%")
    sc.faults(status=500)
    t = time.time()
    wait_for(lambda: sc.proxy.route("profile-update")["percent"] < 25, 15,
             "the rollback below 25%", 0.05)
    took = time.time() - t
    r = sc.proxy.route("profile-update")
    check(r["mode"] == "canary" and r["percent"] == 5,
          "a modern failing at 25% is rolled back to the last good step (5%)", json.dumps(
              {k: r[k] for k in ("mode", "percent")}))
    check(took < 3 + 1.5, "within the gate window (3 s) and a tick", f"{took:.2f} s")
    plan = sc.wait_plan(lambda p: p["status"] == "paused", 60, "the plan to pause for a human")
    rb = [e for e in plan["run"]["timeline"] if e["kind"] == "rollback"]
    check(rb and rb[0]["from"] == "canary 25%" and rb[0]["to"] == "canary 5%"
          and "error rate modern" in rb[0]["reason"] and rb[0]["gates"]["modern_error_rate"] > 0.1,
          "the rollback says which gate and its values", json.dumps(rb[:1])[:400])
    check("paused for a human" in plan["why"], "then paused for a human", plan["why"])
    check(sc.proxy.route("profile-update")["mode"] == "shadow"
          and sc.proxy.route("profile-get")["mode"] == "shadow", "the group is back in shadow")


def wrong(sc):
    prod = Writer(sc.a.prod_writer, os.path.join(sc.work, "prod-writer-data"),
                  os.path.join(sc.work, "prod-writer.log"))
    try:
        s, _, b = request(prod.port, "POST", "/__test/faults", {"corrupt": True})
        check(s == 404, "the production profile-writer has no fault injection", f"{s} {b[:100]}")
    finally:
        prod.stop()
    sc.faults(corrupt=True)
    sc.start_plan()
    plan = sc.wait_plan(lambda p: p["status"] == "paused", 60, "the plan to stop")
    check(plan["run"]["step_label"] == "shadow" and "mismatch rate" in plan["why"],
          "wrong data from the writer is stopped in shadow", plan["why"])
    check(all(r["mode"] == "shadow" for r in sc.proxy.routes().values()), "routes stay in shadow")
    canary = [a for a in sc.audit() if "canary" in json.dumps(a)]
    check(not canary, "the plan never went canary", json.dumps(canary[:1])[:300])
    mm = sc.proxy.mismatches()
    check(any("~fault" in json.dumps(m) or "fault" in json.dumps(m) for m in mm),
          "the mismatches show the writer's wrong field", f"{len(mm)} kept")


def webhook(sc, hook):
    sc.start_plan()
    plan = sc.wait_plan(lambda p: "check failed: HTTP 500" in p["why"], 60,
                        "the plan to hold on the check")
    time.sleep(4)  # every other gate passes: it would have advanced twice by now
    plan = sc.plan()
    check(plan["status"] == "running" and plan["run"]["step_label"] == "shadow"
          and sc.proxy.route("profile-update")["mode"] == "shadow",
          "a webhook answering 500 holds the plan in shadow", plan["why"])
    check(hook.hits >= 2, "the check is asked again (interval_s 1)", f"{hook.hits} calls")
    hook.status = 204
    sc.wait_plan(lambda p: p["run"]["step_label"] == "canary 5%", 30,
                 "the plan to move on once the check passes")
    check(True, "a 204 from the check lets the plan go on")


class AutopilotStack(StackCase):
    prefix = "ficus-autopilot-"

    @classmethod
    def add_arguments(cls, ap):
        ap.add_argument("--prod-writer", required=True, help="profile-writer (production binary)")
        ap.add_argument("--scenario", required=True,
                        choices=["healthy", "failing", "wrong", "webhook"])
        ap.add_argument("--threads", type=int, default=4)

    @classmethod
    def start_stack(cls):
        a, t0 = cls.args, time.time()
        cls.stack = cls.stop_later(LegacyStack(a.repo, os.path.join(cls.work, "legacy")))
        print(f"legacy stack up in {time.time() - t0:.1f} s", flush=True)
        extra, cls.hook = "", None
        if a.scenario == "webhook":
            cls.hook = cls.stop_later(CheckServer(500))
            extra = (f"      check: {{url: \"http://127.0.0.1:{cls.hook.port}/verify\", "
                     "timeout_ms: 1000, interval_s: 1}")
        cls.sc = Scenario(a, cls.work, cls.stack, extra)
        cls.stop_later(cls.sc.close)

    def test_scenario(self):
        global CASE
        CASE = self
        sc = type(self).sc
        {"healthy": healthy, "failing": failing, "wrong": wrong,
         "webhook": lambda s: webhook(s, type(self).hook)}[self.args.scenario](sc)


if __name__ == "__main__":
    sys.exit(run_cases(AutopilotStack))
