"""Real-stack harness for the strangler-proxy lifecycle test.

Starts and stops, all on 127.0.0.1 with free ports and under one work dir:
  - the legacy stack (MariaDB + php-fpm + nginx) with scripts/stack/legacy-stack.sh,
  - the real profile-writer binary (RocksDB in a temp dir),
  - the real ficus-proxy binary with a YAML config written here.
Processes are stopped by PID only. Nothing here is a stub: every request in
the test goes through real sockets to real servers.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import time


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


class Writer:
    def __init__(self, binary, data_dir, log_path, port=0):
        self.binary, self.data_dir, self.log_path = binary, data_dir, log_path
        self.proc = None
        self.port = port
        self.start()

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "--listen", f"127.0.0.1:{self.port}",
                                      "--data-dir", self.data_dir],
                                     stdout=subprocess.PIPE, stderr=log)
        line = self.proc.stdout.readline().decode()
        assert "listening on" in line, f"profile-writer did not start: {line!r}"
        self.port = int(line.strip().rsplit(":", 1)[1])
        wait_for(lambda: request(self.port, "GET", "/readyz")[0] == 200, 20, "writer /readyz")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Follower:
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
        log = open(os.path.join(self.work, "follower.log"), "ab")
        self.proc = subprocess.Popen(
            [self.binary, "follow", "--checkpoint", os.path.join(self.work, "binlog.cp"),
             "--start-gtid", self.start_gtid, "--metrics-listen", f"127.0.0.1:{self.port}",
             "--failures", os.path.join(self.work, "follower-failures.jsonl")],
            stdout=log, stderr=subprocess.STDOUT, env=self.env)
        wait_for(lambda: self.proc.poll() is not None or request(self.port, "GET", "/metrics")[0] == 200,
                 20, "follower /metrics")
        assert self.proc.poll() is None, "profile-migrator follow exited at start (see follower.log)"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Etcd:
    """One real etcd member (Debian etcd-server, /usr/bin/etcd) on free
    loopback ports, data under work/etcd; stopped by PID."""

    def __init__(self, work, binary="/usr/bin/etcd"):
        d = os.path.join(work, "etcd")
        os.makedirs(d, exist_ok=True)
        self.port, peer = free_port(), free_port()
        client = f"http://127.0.0.1:{self.port}"
        peer_url = f"http://127.0.0.1:{peer}"
        self.proc = subprocess.Popen(
            [binary, "--name", "m0", "--data-dir", os.path.join(d, "data"),
             "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
             "--initial-cluster", f"m0={peer_url}", "--log-outputs", "stderr"],
            stdout=open(os.path.join(d, "etcd.log"), "ab"), stderr=subprocess.STDOUT)
        wait_for(lambda: self.proc.poll() is not None or
                 request(self.port, "GET", "/health", timeout=1)[0] == 200, 20, "etcd healthy")
        assert self.proc.poll() is None, f"etcd exited at start (see {d}/etcd.log)"

    def endpoint(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Proxy:
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
        self.proc = subprocess.Popen([self.binary, "--config", self.config, "--ready-file", ready,
                                      "--workers", "2"] + self.extra,
                                     stdout=open(os.path.join(self.work, self.name + ".out"), "ab"),
                                     stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(ready) or self.proc.poll() is not None, 20, "proxy ready")
        assert self.proc.poll() is None, "ficus-proxy exited at start (see proxy.out)"
        with open(ready) as f:
            ports = json.load(f)
        self.port, self.admin = ports["listen"], ports["admin"]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)

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
