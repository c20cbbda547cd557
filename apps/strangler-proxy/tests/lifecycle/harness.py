"""The one fixture module of the strangler-proxy's black-box stack tests
(tests/lifecycle/*_test.py, tests/dashboard/browser_test.py); python3 stdlib only.

Starts and stops, all on 127.0.0.1 with free ports and under one work dir:
  - the legacy stack (MariaDB + php-fpm + nginx) with scripts/stack/legacy-stack.sh,
  - the real profile-writer binary (RocksDB in a temp dir),
  - the real ficus-proxy binary with a YAML config written here,
  - the binlog follower (profile-migrator follow) and a real etcd member.
Processes are stopped by PID only (Child). Nothing here is a stub: every
request in the test goes through real sockets to real servers.

StackCase is the base of a test file: the stack is started once per file
(setUpClass -> start_stack), and each check is its own case - a unittest
subTest with a "PASS: <check>" or "FAIL: <check>" line - so a failing check
is named in the output CTest shows, and the file's summary names them all.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(port, method, target, body=None, headers=None, timeout=10.0):
    """One HTTP request on a fresh connection. Returns (status, headers, body);
    status 0 when the connection failed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    hdrs = {"Connection": "close"}
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    try:
        conn.request(method, target, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    except (OSError, http.client.HTTPException):
        return 0, {}, b""
    finally:
        conn.close()


def wait_for(pred, timeout_s, what, interval_s=0.1):
    deadline = time.time() + timeout_s
    last = None
    while time.time() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last: {last!r})")


def profile_config(legacy_port, writer_port, update_fields, get_fields, *, head="",
                   admin_extra="", access_log='"off"', legacy_opts="", modern_opts="",
                   salt="ficus-1", before_routes=""):
    """The proxy YAML of the stack tests: backends legacy and modern (the
    writer, health /readyz), the profiles cohort and the two profile routes
    (POST /api/v1/profile/update and GET /api/v1/profile/get, rewritten to
    the writer's v2). `update_fields`/`get_fields`: the rest of each route
    (mode, percent, compare, fallback...), lines indented by 4; `head` comes
    first, `before_routes` (mirror, replay...) right before `routes:`;
    `*_opts`/`admin_extra` are appended inside the flow maps (", key: v")."""
    return f"""{head}listen: 127.0.0.1:0
admin: {{listen: 127.0.0.1:0, token_file: admin.token{admin_extra}}}
access_log: {access_log}
backends:
  legacy: {{url: http://127.0.0.1:{legacy_port}{legacy_opts}}}
  modern: {{url: http://127.0.0.1:{writer_port}, health: /readyz{modern_opts}}}
cohorts:
  profiles: {{key: [header:X-User-Id, query:user_id, json:user_id], salt: "{salt}"}}
{before_routes}routes:
  - name: profile-update
    match: {{method: POST, path: /api/v1/profile/update}}
    rewrite: {{modern: /api/v2/profile/update}}
    cohort: profiles
{update_fields}  - name: profile-get
    match: {{method: GET, path: /api/v1/profile/get}}
    rewrite: {{modern: /api/v2/profile/get}}
    cohort: profiles
{get_fields}"""


def make_work_dir(path, prefix):
    """`path` emptied and created, or a new temp dir named prefix* when "" ."""
    work = path or tempfile.mkdtemp(prefix=prefix)
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    return work


class Child:
    """A child process: stdout (unless piped) and stderr appended to a log
    file, stopped by its PID only."""

    proc = None

    def spawn(self, argv, log_path, env=None, pipe_stdout=False):
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE if pipe_stdout else log,
                                         stderr=log, env=env)
        return self.proc

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """kill -9 and reap."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout_s=15):
        """SIGTERM; SIGKILL when it has not exited within `timeout_s`."""
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class LegacyStack:
    def __init__(self, repo, state_dir):
        self.script = os.path.join(repo, "scripts/stack/legacy-stack.sh")
        self.state = state_dir
        out = subprocess.run([self.script, "start", state_dir], check=True, capture_output=True,
                             text=True, timeout=180)
        self.env = dict(line.split("=", 1) for line in out.stdout.split() if "=" in line)
        self.port = int(self.env["FICUS_LEGACY_URL"].rsplit(":", 1)[1])
        self.ldir = os.path.join(state_dir, "legacy")

    def nginx_pid(self):
        try:
            with open(os.path.join(self.ldir, "nginx.pid")) as f:
                pid = int(f.read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def stop_web(self):
        """Legacy goes down: the nginx front stops (php-fpm and MariaDB stay)."""
        pid = self.nginx_pid()
        assert pid, "nginx is not running"
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: self.nginx_pid() is None and request(self.port, "GET", "/healthz")[0] == 0,
                 10, "nginx to stop")

    def start_web(self):
        subprocess.run(["/usr/sbin/nginx", "-p", os.path.join(self.ldir, "nginx"), "-c",
                        os.path.join(self.ldir, "nginx.conf")], check=True, timeout=30)
        wait_for(lambda: request(self.port, "GET", "/healthz")[0] == 200, 20, "legacy /healthz")

    def sql(self, statement):
        subprocess.run(["mariadb", "-S", self.env["FICUS_MYSQL_SOCKET"], "-u",
                        self.env["FICUS_MYSQL_USER"], "-p" + self.env["FICUS_MYSQL_PASSWORD"],
                        self.env["FICUS_MYSQL_DB"], "-e", statement], check=True, timeout=30)

    def sql_value(self, query):
        """The first column of the first row of `query`, as text."""
        out = subprocess.run(["mariadb", "-S", self.env["FICUS_MYSQL_SOCKET"], "-u",
                              self.env["FICUS_MYSQL_USER"], "-p" + self.env["FICUS_MYSQL_PASSWORD"],
                              self.env["FICUS_MYSQL_DB"], "-N", "-B", "-e", query], check=True,
                             capture_output=True, text=True, timeout=30)
        return out.stdout.split("\n")[0].split("\t")[0]

    def stop(self):
        subprocess.run([self.script, "stop", self.state], capture_output=True, timeout=120)


class Writer(Child):
    def __init__(self, binary, data_dir, log_path, port=0):
        self.binary, self.data_dir, self.log_path = binary, data_dir, log_path
        self.proc = None
        self.port = port
        self.start()

    def start(self):
        self.spawn([self.binary, "--listen", f"127.0.0.1:{self.port}", "--data-dir",
                    self.data_dir], self.log_path, pipe_stdout=True)
        line = self.proc.stdout.readline().decode()
        assert "listening on" in line, f"profile-writer did not start: {line!r}"
        self.port = int(line.strip().rsplit(":", 1)[1])
        wait_for(lambda: request(self.port, "GET", "/readyz")[0] == 200, 20, "writer /readyz")


class Follower(Child):
    """The binlog follower (`profile-migrator follow`) from the stack's binlog
    position now into the writer; /metrics on a port kept across restarts."""

    def __init__(self, binary, work, stack, writer_port):
        self.binary, self.work = binary, work
        self.env = dict(os.environ)
        self.env.update(stack.env)
        self.env["FICUS_WRITER_URL"] = f"http://127.0.0.1:{writer_port}"
        self.start_gtid = stack.sql_value("SELECT @@gtid_binlog_pos")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/metrics"
        self.proc = None
        self.start()

    def start(self):
        self.spawn([self.binary, "follow", "--checkpoint", os.path.join(self.work, "binlog.cp"),
                    "--start-gtid", self.start_gtid, "--metrics-listen", f"127.0.0.1:{self.port}",
                    "--failures", os.path.join(self.work, "follower-failures.jsonl")],
                   os.path.join(self.work, "follower.log"), env=self.env)
        wait_for(lambda: not self.running() or request(self.port, "GET", "/metrics")[0] == 200,
                 20, "follower /metrics")
        assert self.running(), "profile-migrator follow exited at start (see follower.log)"


class Etcd(Child):
    """One real etcd member (Debian etcd-server, /usr/bin/etcd) on free
    loopback ports, data under work/etcd; stopped by PID."""

    def __init__(self, work, binary="/usr/bin/etcd"):
        d = os.path.join(work, "etcd")
        os.makedirs(d, exist_ok=True)
        self.port, peer = free_port(), free_port()
        client = f"http://127.0.0.1:{self.port}"
        peer_url = f"http://127.0.0.1:{peer}"
        self.spawn([binary, "--name", "m0", "--data-dir", os.path.join(d, "data"),
                    "--listen-client-urls", client, "--advertise-client-urls", client,
                    "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                    "--initial-cluster", f"m0={peer_url}", "--log-outputs", "stderr"],
                   os.path.join(d, "etcd.log"))
        wait_for(lambda: not self.running() or
                 request(self.port, "GET", "/health", timeout=1)[0] == 200, 20, "etcd healthy")
        assert self.running(), f"etcd exited at start (see {d}/etcd.log)"

    def endpoint(self):
        return f"127.0.0.1:{self.port}"

    def stop(self, timeout_s=10):
        super().stop(timeout_s)


class Proxy(Child):
    """A ficus-proxy process. With `replica_of`, a second replica watching the
    same config file (own replay dir and ready file). `args`: more flags
    (e.g. ["--replica-id", "a"])."""

    def __init__(self, binary, work, config_text, token, replica_of=None, name="proxy", args=()):
        self.binary, self.work, self.token, self.name = binary, work, token, name
        self.extra = list(args)
        if replica_of:
            self.config = replica_of.config
            self.extra += ["--replay-dir", os.path.join(work, name + "-replay")]
        else:
            self.config = os.path.join(work, "proxy.yaml")
            with open(os.path.join(work, "admin.token"), "w") as f:
                f.write(f"# lifecycle test\nlifecycle:{token}\n")
            with open(self.config, "w") as f:
                f.write(config_text)
        self.proc = None
        self.start()

    def start(self):
        ready = os.path.join(self.work, self.name + ".ready")
        if os.path.exists(ready):
            os.unlink(ready)
        self.spawn([self.binary, "--config", self.config, "--ready-file", ready, "--workers", "2"]
                   + self.extra, os.path.join(self.work, self.name + ".out"))
        wait_for(lambda: os.path.exists(ready) or not self.running(), 20, "proxy ready")
        assert self.running(), f"ficus-proxy exited at start (see {self.name}.out)"
        with open(ready) as f:
            ports = json.load(f)
        self.port, self.admin = ports["listen"], ports["admin"]

    def stop(self, timeout_s=30):
        """SIGTERM and wait (drain); an exit later than `timeout_s` raises."""
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=timeout_s)

    # --- admin API ---
    def routes(self):
        s, _, b = request(self.admin, "GET", "/admin/routes")
        assert s == 200, (s, b)
        return {r["name"]: r for r in json.loads(b)}

    def route(self, name):
        return self.routes()[name]

    def put(self, name, change, token=True):
        headers = {"Authorization": "Bearer " + self.token} if token is True else (
            {"Authorization": "Bearer " + token} if token else {})
        s, _, b = request(self.admin, "PUT", "/admin/routes/" + name, change, headers, timeout=60)
        return s, json.loads(b) if b else None

    def must_put(self, name, change):
        s, body = self.put(name, change)
        assert s == 200, f"PUT {name} {change}: {s} {body}"
        return body

    def reset_fallback(self, name):
        s, _, b = request(self.admin, "POST", f"/admin/routes/{name}/reset-fallback", None,
                          {"Authorization": "Bearer " + self.token})
        assert s == 200, (s, b)

    def mismatches(self, route=None):
        q = "?limit=100" + (f"&route={route}" if route else "")
        s, _, b = request(self.admin, "GET", "/admin/mismatches" + q)
        assert s == 401, ("mismatches hold users' data: a token is required", s, b)
        s, _, b = request(self.admin, "GET", "/admin/mismatches" + q, None,
                          {"Authorization": "Bearer " + self.token})
        assert s == 200, (s, b)
        return json.loads(b)

    def status(self):
        s, _, b = request(self.admin, "GET", "/admin/status")
        assert s == 200, (s, b)
        return json.loads(b)

    def access_log(self):
        """request id -> backend that served it (the proxy flushes every second)."""
        out = {}
        try:
            with open(os.path.join(self.work, "access.log")) as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if rec.get("kind") != "mirror" and "backend" in rec:
                        out[rec["id"]] = rec["backend"]
        except FileNotFoundError:
            pass
        return out


class StackCase(unittest.TestCase):
    """Base of one stack test file, run by run_cases().

    A subclass sets `prefix` (of its temp work dir), may add command-line
    flags (add_arguments) and starts what it needs once in start_stack(),
    registering each server with stop_later(); its test_* methods run in name
    order on that one stack and assert with self.check(). After a method
    raised (not a failed check: an error), the later ones are skipped, since
    they build on it. Everything registered is stopped at the end even when
    start_stack() fails; the work dir is removed unless --work or --keep was
    given or a check failed.
    """

    prefix = "ficus-stack-"
    args = None  # argparse namespace, set by run_cases()
    work = None
    passed = []
    failed = []
    _stops = []
    _broken = None

    @classmethod
    def add_arguments(cls, ap):
        pass

    @classmethod
    def start_stack(cls):
        pass

    @classmethod
    def stop_later(cls, thing):
        """Stops `thing` (its .stop(), or the callable itself) at the end,
        last registered first. Returns `thing`."""
        cls._stops.append(thing)
        return thing

    @classmethod
    def start_legacy_and_writer(cls):
        """The legacy stack (cls.stack), the profile-writer on a fixed free
        port (cls.writer: a restart keeps it) and an admin token (cls.token)."""
        cls.stack = cls.stop_later(LegacyStack(cls.args.repo, os.path.join(cls.work, "legacy")))
        cls.writer = cls.stop_later(Writer(cls.args.writer, os.path.join(cls.work, "writer-data"),
                                           os.path.join(cls.work, "writer.log"), port=free_port()))
        cls.token = uuid.uuid4().hex

    @classmethod
    def setUpClass(cls):
        cls.work = make_work_dir(cls.args.work, cls.prefix)
        print(f"work dir {cls.work}", flush=True)
        try:
            cls.start_stack()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        while cls._stops:
            thing = cls._stops.pop()
            try:
                thing.stop() if hasattr(thing, "stop") else thing()
            except Exception as e:  # noqa: BLE001 - cleanup must go on
                print(f"cleanup: {e!r}", flush=True)
        if not cls.args.work and not cls.args.keep and not cls.failed and not cls._broken:
            shutil.rmtree(cls.work, ignore_errors=True)
        else:
            print(f"work dir kept: {cls.work}", flush=True)

    def setUp(self):
        if StackCase._broken:
            self.skipTest(f"{StackCase._broken} failed before it")

    def run(self, result=None):
        errors = len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.errors) > errors and not StackCase._broken:
            StackCase._broken = self._testMethodName
        return out

    def check(self, cond, what, detail=""):
        """One check, reported as its own case: a PASS/FAIL line, and a
        failed subTest named `what` (the method goes on with the next check)."""
        with self.subTest(check=what):
            print(f"{'PASS' if cond else 'FAIL'}: {what}" + (f" — {detail}" if detail else ""),
                  flush=True)
            (StackCase.passed if cond else StackCase.failed).append(what)
            if not cond:
                self.fail(f"{what}: {detail}")


def run_cases(case):
    """Parses the common flags (--proxy --writer --repo --work --keep) and the
    case's own, runs its test_* methods; the process's exit code (0: every
    check passed and nothing raised). The last line names every failed check."""
    ap = argparse.ArgumentParser(description=sys.modules[case.__module__].__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--writer", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--work", default="")
    ap.add_argument("--keep", action="store_true")
    case.add_arguments(ap)
    case.args = ap.parse_args()
    t0 = time.time()
    suite = unittest.TestLoader().loadTestsFromTestCase(case)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    errors = [f"{getattr(t, '_testMethodName', t)} raised" for t, _ in result.errors]
    print(f"{len(case.passed)} checks passed, {len(case.failed)} failed, {len(errors)} errors "
          f"({time.time() - t0:.0f} s)" +
          (": " + "; ".join(case.failed + errors) if case.failed or errors else ""), flush=True)
    return 0 if result.wasSuccessful() and not case.failed else 1
