#!/usr/bin/env python3
"""The cluster test: Pannier scaled out on one box, then hurt under load.

Run by `make cluster` (3 instances, 60 s, Garage) and, as its 2-instance core, by `make test`
(2 instances, 20 s, s3s-fs). Inside `scripts/with-services.sh`, which starts PostgreSQL with a
streaming replica, Redis and s3s-fs. This script adds: Garage (with --garage), the instances
(`pannier serve`, workers off) and one `pannier worker`, all on PostgreSQL + replica + S3 +
Redis, and nginx in front built from deploy/nginx/. Then:

1. signs in through nginx; the session works on every instance directly;
2. runs a mixed load through nginx (pages, listings, Range downloads, share-link downloads
   and pages, small uploads, one large tus upload) and meanwhile SIGKILLs an instance (and
   starts it again), stops Redis and the replica for a while, and restarts an instance with
   SIGTERM (rolling); idempotent requests must not fail, every upload completes or is
   refused cleanly and retried, uploaded bytes are exact, storage and rows agree, no job is
   stuck;
3. checks that a rate limit and a link's download limit hold across instances;
4. prints the figures (requests, failures, latency, req/s 1 vs N instances, cache hit ratio,
   time to recover from each failure).

Standard library only; the release binary must be built (`make build`).
"""

import argparse
import base64
import concurrent.futures
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/pannier-target"))
BIN = TARGET / "release/pannier"
EMAIL, PASSWORD = "cluster@cluster.test", "cluster account password"


def log(message: str) -> None:
    print(f"[cluster {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list, p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000 if ordered else 0.0


def request(port: int, method: str, path: str, headers: dict | None = None, body: bytes = b"",
            timeout: float = 30) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def wait_until(check, seconds: float, what: str) -> float:
    """Polls `check` every 50 ms; how long it took. Fails after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if check():
                return time.monotonic() - started
        except (OSError, ValueError, KeyError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    raise SystemExit(f"FAILED: {what} within {seconds} s")


def readyz(port: int) -> dict:
    status, _, body = request(port, "GET", "/readyz", timeout=3)
    answer = json.loads(body)
    answer["http"] = status
    return answer


class Cluster:
    def __init__(self, args, work: Path):
        self.args, self.work = args, work
        self.processes: dict[str, subprocess.Popen] = {}
        self.ports = [free_port() for _ in range(args.instances)]
        self.metrics_ports = [free_port() for _ in range(args.instances)]
        self.nginx_port, self.tls_port = free_port(), free_port()
        self.redis_port = int(urllib.parse.urlparse(os.environ["TEST_REDIS_URL"]).port)
        self.replica_dir = Path(os.environ["TEST_REPLICA_DIR"])
        self.replica_port = urllib.parse.urlparse(os.environ["TEST_DATABASE_READ_URL"]).port
        self.env = self.base_env()

    # --- services -------------------------------------------------------------------------

    def base_env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PANNIER_")}
        env.update(
            PANNIER_DATABASE_URL=os.environ["TEST_DATABASE_URL"],
            PANNIER_DATABASE_READ_URL=os.environ["TEST_DATABASE_READ_URL"],
            PANNIER_REDIS_URL=os.environ["TEST_REDIS_URL"],
            PANNIER_PUBLIC_URL=f"http://127.0.0.1:{self.nginx_port}",
            PANNIER_TRUSTED_PROXIES="127.0.0.1/32",
            PANNIER_SITE_ROOT=str(ROOT / "target/site"),
            PANNIER_LOG_LEVEL="warn",
            PANNIER_LOG_FORMAT="json",
            PANNIER_METRICS_BIND="",
            PANNIER_WORKERS="0",
            PANNIER_SHUTDOWN_TIMEOUT_SECS="20",
            # The load is one account from one address: its budgets must not be what stops it.
            PANNIER_RATE_REQUESTS="1000000",
            PANNIER_RATE_UPLOADS="1000000",
            PANNIER_RATE_DOWNLOADS="1000000",
            PANNIER_STORAGE="s3",
            PANNIER_S3_BUCKET="pannier",
            PANNIER_S3_REGION="us-east-1",
            PANNIER_S3_PATH_STYLE="true",
        )
        if self.args.garage:
            env.update(self.start_garage())
        else:
            (Path(os.environ["TEST_S3_DIR"]) / "pannier").mkdir(exist_ok=True)
            env.update(PANNIER_S3_ENDPOINT=os.environ["TEST_S3_ENDPOINT"],
                       PANNIER_S3_ACCESS_KEY=os.environ["TEST_S3_ACCESS_KEY"],
                       PANNIER_S3_SECRET_KEY=os.environ["TEST_S3_SECRET_KEY"])
        return env

    def start_garage(self) -> dict:
        """Garage (the distributed S3) from deploy/garage.toml, one node, with a bucket."""
        if shutil.which("garage") is None:
            log("installing Garage (one-time, ~13 min)")
            subprocess.run(["cargo", "install", "--locked", "garage"], check=True,
                           env={k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"})
        s3, rpc, admin = free_port(), free_port(), free_port()
        config = (ROOT / "deploy/garage.toml").read_text()
        config = config.replace("/var/lib/garage", str(self.work / "garage"))
        config = config.replace("[::]:3900", f"127.0.0.1:{s3}").replace("[::]:3901", f"127.0.0.1:{rpc}")
        config = config.replace("127.0.0.1:3901", f"127.0.0.1:{rpc}").replace("[::]:3903", f"127.0.0.1:{admin}")
        path = self.work / "garage.toml"
        path.write_text(config)
        env = dict(os.environ, GARAGE_RPC_SECRET=os.urandom(32).hex(),
                   GARAGE_ADMIN_TOKEN=os.urandom(16).hex(), GARAGE_CONFIG_FILE=str(path))
        self.garage_env = env
        self.spawn("garage", ["garage", "server"], env)
        garage = lambda *a: subprocess.run(["garage", *a], env=env, check=True,  # noqa: E731
                                           capture_output=True, text=True).stdout
        def answers() -> bool:
            done = subprocess.run(["garage", "status"], env=env, capture_output=True, text=True)
            return done.returncode == 0
        wait_until(answers, 20, "Garage answers")
        node = re.search(r"^([0-9a-f]{16})", garage("status"), re.M).group(1)
        garage("layout", "assign", "-z", "dc1", "-c", "1G", node)
        garage("layout", "apply", "--version", "1")
        key_id, secret = "GK" + os.urandom(12).hex(), os.urandom(32).hex()
        garage("key", "import", "--yes", "-n", "pannier", key_id, secret)
        garage("bucket", "create", "pannier")
        garage("bucket", "allow", "--read", "--write", "--owner", "pannier", "--key", "pannier")
        log(f"Garage on 127.0.0.1:{s3} (node {node})")
        return dict(PANNIER_S3_ENDPOINT=f"http://127.0.0.1:{s3}", PANNIER_S3_ACCESS_KEY=key_id,
                    PANNIER_S3_SECRET_KEY=secret)

    def spawn(self, name: str, argv: list, env: dict) -> subprocess.Popen:
        logfile = open(self.work / f"{name}.log", "ab")
        process = subprocess.Popen(argv, env=env, stdout=logfile, stderr=logfile)
        self.processes[name] = process
        return process

    def pannier(self, *args: str, stdin: bytes | None = None) -> str:
        done = subprocess.run([BIN, *args], env=self.env, input=stdin, capture_output=True)
        if done.returncode != 0:
            raise SystemExit(f"FAILED: pannier {' '.join(args)}: {done.stderr.decode()}")
        return done.stdout.decode()

    def start_instance(self, i: int) -> float:
        """Starts instance i; seconds until its /readyz answers 200."""
        env = dict(self.env, PANNIER_BIND=f"127.0.0.1:{self.ports[i]}",
                   PANNIER_METRICS_BIND=f"127.0.0.1:{self.metrics_ports[i]}")
        self.spawn(f"instance{i}", [BIN, "serve"], env)
        return wait_until(lambda: readyz(self.ports[i])["http"] == 200, 30, f"instance {i} ready")

    def start_nginx(self) -> None:
        conf = self.work / "nginx"
        shutil.copytree(ROOT / "deploy/nginx", conf)
        (self.work / "logs").mkdir()
        make_certificate(conf / "tls")
        self.upstreams = (conf / "upstreams.conf").read_text()
        self.set_upstreams(self.ports, reload=False)
        main = (conf / "nginx.conf").read_text()
        main = main.replace("listen 80;", f"listen 127.0.0.1:{self.nginx_port};")
        main = main.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{self.tls_port} ssl http2;")
        main = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", main)
        # This test speaks plain HTTP to nginx (no redirect to HTTPS); TLS is checked once.
        main = main.replace("location / { return 308 https://$host$request_uri; }",
                            "include proxy.conf;").replace("location = /healthz { proxy_pass http://pannier; }", "")
        (conf / "nginx.conf").write_text(main)
        self.spawn("nginx", ["nginx", "-p", str(self.work), "-c", str(conf / "nginx.conf"),
                             "-g", "daemon off;"], os.environ)
        wait_until(lambda: request(self.nginx_port, "GET", "/healthz")[0] == 200, 10, "nginx")
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        tls = http.client.HTTPSConnection("127.0.0.1", self.tls_port, context=context, timeout=10)
        tls.request("GET", "/healthz")
        assert tls.getresponse().status == 200, "TLS termination"
        log(f"nginx on 127.0.0.1:{self.nginx_port} (TLS on {self.tls_port}) → {self.ports}")

    def set_upstreams(self, ports: list, reload: bool = True) -> None:
        """nginx's upstreams: the instances on `ports` (reloaded when running)."""
        conf = self.work / "nginx"
        servers = "\n".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports)
        upstreams = re.sub(r"(    server 10\.0\.0\.\d+:3000[^\n]*\n)+", servers + "\n", self.upstreams)
        (conf / "upstreams.conf").write_text(upstreams)
        if reload:
            subprocess.run(["nginx", "-p", str(self.work), "-c", str(conf / "nginx.conf"), "-s", "reload"],
                           check=True, capture_output=True)
            time.sleep(1)  # the old workers finish, the new ones take over

    def stop_all(self) -> None:
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM if name != "redis" else signal.SIGKILL)
                try:
                    process.wait(25)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    # --- failures -------------------------------------------------------------------------

    def kill_instance(self, i: int) -> None:
        self.processes[f"instance{i}"].send_signal(signal.SIGKILL)
        self.processes[f"instance{i}"].wait()

    def rolling_restart(self, i: int) -> tuple[float, float]:
        """SIGTERM instance i, wait for its clean exit, start it again: (stop s, start s)."""
        process = self.processes[f"instance{i}"]
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
        if code != 0:
            raise SystemExit(f"FAILED: instance {i} exited {code} on SIGTERM")
        stopped = time.monotonic() - started
        return stopped, self.start_instance(i)

    def stop_redis(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.redis_port), "shutdown", "nosave"],
                       capture_output=True)

    def start_redis(self) -> None:
        self.spawn("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"], os.environ)

    def pg_ctl(self, *args: str) -> None:
        pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        argv = [str(pg_bin / "pg_ctl"), "-D", str(self.replica_dir), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True)

    def stop_replica(self) -> None:
        self.pg_ctl("-m", "immediate", "-w", "stop")

    def start_replica(self) -> None:
        options = (f"-p {self.replica_port} -k {self.replica_dir.parent} "
                   "-c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300")
        self.pg_ctl("-w", "-l", str(self.replica_dir.parent / "replica.log"), "-o", options, "start")


def make_certificate(directory: Path) -> None:
    directory.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-keyout", str(directory / "privkey.pem"),
                    "-out", str(directory / "fullchain.pem")], check=True, capture_output=True)


class Load:
    """A mixed load through nginx by `threads` clients until stopped."""

    def __init__(self, port: int, token: str, cookie: str, fixtures: dict):
        self.port, self.token, self.cookie, self.fixtures = port, token, cookie, fixtures
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.first_errors: list[str] = []
        self.failures: list[str] = []
        self.uploads: dict[str, str] = {}  # name → sha256 of what was sent
        self.upload_retries = 0
        self.large: dict = {}

    def run(self, threads: int, seconds: float, events) -> float:
        workers = [threading.Thread(target=self.client, args=(n,)) for n in range(threads)]
        workers.append(threading.Thread(target=self.large_upload))
        started = time.monotonic()
        for worker in workers:
            worker.start()
        events(started)
        remaining = seconds - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)
        self.stop.set()
        for worker in workers:
            worker.join()
        return time.monotonic() - started

    def note(self, latency: float) -> None:
        with self.lock:
            self.latencies.append(latency)

    def get(self, path: str, headers: dict, ok: tuple) -> None:
        """One idempotent GET; a client retries once (as browsers and download managers do)
        when the connection broke. Both failures are reported."""
        for attempt in range(2):
            started = time.monotonic()
            try:
                status, _, _ = request(self.port, "GET", path, headers)
                self.note(time.monotonic() - started)
                if status in ok:
                    return
                error = f"GET {path} → {status}"
            except (OSError, http.client.HTTPException) as err:
                error = f"GET {path} → {type(err).__name__}: {err}"
            with self.lock:
                (self.first_errors if attempt == 0 else self.failures).append(error)
            time.sleep(0.05)

    def client(self, n: int) -> None:
        bearer = {"Authorization": f"Bearer {self.token}"}
        f = self.fixtures
        kinds = ["listing"] * 5 + ["page"] * 3 + ["range"] * 4 + ["share_file"] * 3 + \
                ["share_page"] * 2 + ["upload"] * 3 + ["picture"] * (1 if n == 0 else 0)
        rng = random.Random(n)
        count = 0
        while not self.stop.is_set():
            kind = rng.choice(kinds)
            if kind == "listing":
                self.get("/api/v1/folders/root?limit=50", bearer, (200,))
            elif kind == "page":
                self.get("/files", {"Cookie": self.cookie}, (200,))
            elif kind == "range":
                start = rng.randrange(0, f["big_size"] - 65536)
                self.get(f"/api/v1/files/{f['big_id']}/content",
                         dict(bearer, Range=f"bytes={start}-{start + 65535}"), (206,))
            elif kind == "share_file":
                self.get(f"/s/{f['slug']}/files/{f['big_id']}", {"Range": "bytes=0-65535"}, (206,))
            elif kind == "share_page":
                self.get(f"/s/{f['slug']}", {}, (200,))
            elif kind == "picture":
                count += 1
                self.upload(f"picture-{n}-{count}.png", png(rng))
            else:
                count += 1
                self.upload(f"small-{n}-{count}.bin", os.urandom(4096))

    def upload(self, name: str, data: bytes) -> None:
        """A small PUT. Retried with its Idempotency-Key until it is answered 201: an attempt
        stored but whose answer was lost with a killed instance answers with that file."""
        with self.lock:
            self.uploads[name] = hashlib.sha256(data).hexdigest()
        path = f"/api/v1/files?name={name}&folder_id={self.fixtures['folder_id']}"
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/octet-stream",
                   "Idempotency-Key": name}
        for _ in range(10):
            started = time.monotonic()
            try:
                status, _, body = request(self.port, "PUT", path, headers, data)
                self.note(time.monotonic() - started)
                if status == 201:
                    return
                error = f"PUT {name} → {status} {body[:200]!r}"
            except (OSError, http.client.HTTPException) as err:
                error = f"PUT {name} → {type(err).__name__}"
            with self.lock:
                self.upload_retries += 1
                self.first_errors.append(error)
            time.sleep(0.2)
        with self.lock:
            self.failures.append(f"PUT {name} never stored")

    def large_upload(self) -> None:
        """One tus upload of 48 MiB in 1 MiB chunks, paced over the run: it goes on (from the
        offset the server has) whatever instance answers after a failure."""
        size, chunk = 48 << 20, 1 << 20
        data = random.Random(7).randbytes(size)
        self.large = {"sha256": hashlib.sha256(data).hexdigest(), "resumes": 0, "done": False}
        tus = {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {self.token}"}
        meta = "filename " + base64.b64encode(b"large.bin").decode() + \
               ",folder_id " + base64.b64encode(self.fixtures["folder_id"].encode()).decode()
        status, headers, _ = request(self.port, "POST", "/api/v1/uploads",
                                     dict(tus, **{"Upload-Length": str(size), "Upload-Metadata": meta}))
        assert status == 201, status
        location = urllib.parse.urlparse(headers["location"]).path
        offset = 0
        while offset < size:
            try:
                patch = dict(tus, **{"Upload-Offset": str(offset),
                                     "Content-Type": "application/offset+octet-stream"})
                status, headers, body = request(self.port, "PATCH", location, patch,
                                                data[offset:offset + chunk])
                if status != 204:
                    raise OSError(f"PATCH → {status} {body[:100]!r}")
                offset = int(headers["upload-offset"])
            except (OSError, http.client.HTTPException, KeyError):
                self.large["resumes"] += 1
                time.sleep(0.3)
                status, headers, _ = request(self.port, "HEAD", location, tus)
                if status == 200:
                    offset = int(headers["upload-offset"])
            if not self.stop.is_set():
                time.sleep(0.25)
        self.large["done"] = True


def n_last(cluster: Cluster) -> int:
    return len(cluster.ports) - 1


def tus_across_instances(ports: list, token: str) -> None:
    """Created on the first instance, half sent to the second, finished on the last."""
    data = os.urandom(3 << 20)
    tus = {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {token}"}
    meta = "filename " + base64.b64encode(b"across.bin").decode()
    status, headers, _ = request(ports[0], "POST", "/api/v1/uploads",
                                 dict(tus, **{"Upload-Length": str(len(data)), "Upload-Metadata": meta}))
    assert status == 201, status
    location = urllib.parse.urlparse(headers["location"]).path
    half = len(data) // 2
    patch = dict(tus, **{"Content-Type": "application/offset+octet-stream"})
    status, headers, _ = request(ports[1], "PATCH", location, dict(patch, **{"Upload-Offset": "0"}), data[:half])
    assert status == 204 and headers["upload-offset"] == str(half), status
    status, headers, _ = request(ports[-1], "HEAD", location, tus)
    assert status == 200 and headers["upload-offset"] == str(half), (status, headers)
    status, headers, _ = request(ports[-1], "PATCH", location, dict(patch, **{"Upload-Offset": str(half)}),
                                 data[half:])
    assert status == 204 and headers["upload-offset"] == str(len(data)), status


def png(rng: random.Random, size: int = 96) -> bytes:
    """A small picture of random colour bands (a real PNG: the worker makes its previews)."""
    import struct
    import zlib
    rows = b"".join(b"\x00" + bytes(rng.randrange(256) for _ in range(3)) * size for _ in range(size))
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data  # noqa: E731
                                + struct.pack(">I", zlib.crc32(kind + data)))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + \
        chunk(b"IEND", b"")


def post_json(port: int, path: str, token: str, body: dict) -> dict:
    """A JSON POST with the bearer token that must answer 201; the answer."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    status, _, answer = request(port, "POST", path, headers, json.dumps(body).encode())
    assert status == 201, (path, status, answer[:200])
    return json.loads(answer)


def sign_in(port: int) -> str:
    form = urllib.parse.urlencode({"email": EMAIL, "password": PASSWORD})
    status, headers, body = request(port, "POST", "/api/sign_in", {
        "Origin": f"http://127.0.0.1:{port}", "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded"}, form.encode())
    cookie = headers.get("set-cookie", "")
    assert "pannier_session=" in cookie, (status, body[:200])
    return cookie.split(";", 1)[0]


def wrk_rate(port: int, token: str, seconds: int = 5) -> float:
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "-H", f"Authorization: Bearer {token}",
                          f"http://127.0.0.1:{port}/api/v1/folders/root?limit=50"],
                         check=True, capture_output=True, text=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--outage", type=float, default=10, help="seconds Redis and the replica are down")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--garage", action="store_true", help="Garage instead of s3s-fs")
    args = parser.parse_args()
    if not BIN.is_file():
        raise SystemExit(f"{BIN} missing: run `make build` first")
    work = Path(tempfile.mkdtemp(prefix="pannier-cluster."))
    cluster = Cluster(args, work)
    try:
        run(cluster, args)
    except BaseException:
        for logfile in sorted([*work.glob("*.log"), work / "logs/error.log"]):
            if not logfile.is_file():
                continue
            tail = logfile.read_text(errors="replace").splitlines()[-15:]
            print(f"--- {logfile.name}\n" + "\n".join(tail), file=sys.stderr)
        raise
    finally:
        cluster.stop_all()
        shutil.rmtree(work, ignore_errors=True)


def run(cluster: Cluster, args) -> None:
    cluster.pannier("migrate", "up")
    cluster.pannier("user", "create", "--email", EMAIL, "--password-stdin", stdin=PASSWORD.encode())
    created = cluster.pannier("token", "create", "--email", EMAIL, "--name", "cluster", "--scope", "write")
    token = next(word for word in created.split() if word.startswith("pnr_"))
    for i in range(args.instances):
        cluster.start_instance(i)
    cluster.spawn("worker", [BIN, "worker"], dict(cluster.env, PANNIER_WORKERS="1"))
    cluster.start_nginx()
    port = cluster.nginx_port
    bearer = {"Authorization": f"Bearer {token}"}

    # 1. A session made through nginx works on every instance.
    cookie = sign_in(port)
    for instance in cluster.ports:
        status, _, body = request(instance, "GET", "/api/v1/me", {"Cookie": cookie})
        assert status == 200 and EMAIL.encode() in body, (instance, status, body[:200])
    log(f"1. the session made through nginx works on all {args.instances} instances")
    tus_across_instances(cluster.ports, token)
    log(f"   a tus upload made on instance 0 went on on instance 1 and ended on instance {n_last(cluster)}")

    # Fixtures: a folder for the uploads, a 4 MiB file and an open link to it.
    folder_id = post_json(port, "/api/v1/folders", token, {"name": "load"})["id"]
    big = random.Random(1).randbytes(4 << 20)
    status, _, body = request(port, "PUT", "/api/v1/files?name=big.bin", dict(bearer), big)
    assert status == 201, (status, body)
    big_id = json.loads(body)["id"]
    slug = post_json(port, "/api/v1/shares", token, {"file_ids": [big_id]})["slug"]
    fixtures = {"folder_id": folder_id, "big_id": big_id, "big_size": len(big), "slug": slug}

    # 2. Load, and failures during it.
    load = Load(port, token, cookie, fixtures)
    recovery: dict[str, float] = {}
    n = args.instances

    def events(started: float) -> None:
        def at(fraction: float) -> None:
            delay = started + args.seconds * fraction - time.monotonic()
            if delay > 0:
                time.sleep(delay)

        def outage(what: str, stop, start, check: str) -> None:
            """`what` down for the outage, then back: how long until every instance uses it."""
            stop()
            log(f"   {what} stopped for {args.outage:g} s")
            time.sleep(args.outage)
            start()
            back = lambda i: readyz(cluster.ports[i]).get("checks", {}).get(check, {}).get("status") == "ok"  # noqa: E731
            recovery[f"{what} back → every instance uses it"] = max(
                wait_until(lambda i=i: back(i), 30, f"{what} used again") for i in range(n))

        def chaos() -> None:
            at(0.15)
            cluster.kill_instance(0)
            log("   SIGKILL instance 0")
            time.sleep(3)
            recovery["instance restart after SIGKILL (to ready)"] = cluster.start_instance(0)
            at(0.35)
            outage("Redis", cluster.stop_redis, cluster.start_redis, "redis")
            at(0.55)
            outage("replica", cluster.stop_replica, cluster.start_replica, "replica")
            at(0.75)
            stop, start = cluster.rolling_restart(n - 1)
            log(f"   rolling restart of instance {n - 1}: drained in {stop:.1f} s, ready in {start:.1f} s")
            recovery["rolling restart (SIGTERM → ready again)"] = stop + start

        thread = threading.Thread(target=chaos)
        thread.start()
        events.thread = thread

    elapsed = load.run(args.threads, args.seconds, events)
    events.thread.join()
    total = len(load.latencies)
    log(f"2. {total} requests in {elapsed:.0f} s: {total / elapsed:.0f} req/s, p50 "
        f"{percentile(load.latencies, 0.5):.0f} ms, p99 {percentile(load.latencies, 0.99):.0f} ms; "
        f"errors a client retried: {len(load.first_errors)}, failed after retry: {len(load.failures)}, "
        f"upload retries {load.upload_retries}, tus resumes {load.large['resumes']}")
    for error in sorted(set(load.first_errors))[:10]:
        log(f"   retried: {error}")
    assert not load.failures, f"FAILED requests: {load.failures[:10]}"
    assert load.large.get("done"), "the large tus upload did not finish"

    # Every upload is there once, with exactly its bytes; the large one too.
    listed, cursor = {}, ""
    while True:
        _, _, body = request(port, "GET", f"/api/v1/folders/{folder_id}?limit=200{cursor}", bearer)
        page = json.loads(body)
        listed.update({f["name"]: f["id"] for f in page["files"]})
        if not page.get("next_cursor"):
            break
        cursor = f"&cursor={page['next_cursor']}"
    expected = dict(load.uploads, **{"large.bin": load.large["sha256"]})
    missing = set(expected) - set(listed)
    assert not missing, f"uploads missing: {sorted(missing)[:10]}"

    def bytes_differ(name: str) -> bool:
        _, _, body = request(port, "GET", f"/api/v1/files/{listed[name]}/content", bearer)
        return hashlib.sha256(body).hexdigest() != expected[name]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        differ = [name for name, bad in zip(expected, pool.map(bytes_differ, expected)) if bad]
    assert not differ, f"bytes differ: {differ[:10]}"
    assert set(listed) == set(expected), f"unexpected files: {set(listed) - set(expected)}"
    log(f"   {len(expected)} uploads (one of 48 MiB by tus) all there with exact SHA-256")
    # The worker made every picture's previews (jobs queued by whichever instance took it).
    pictures = [name for name in expected if name.endswith(".png")]
    for name in pictures:
        wait_until(lambda name=name: request(port, "GET", f"/api/v1/files/{listed[name]}/thumbnail?size=small",
                                             bearer)[0] == 200, 60, f"{name}'s thumbnail")
    log(f"   the worker made the previews of all {len(pictures)} pictures")
    check = subprocess.run([BIN, "storage", "check"], env=cluster.env, capture_output=True, text=True)
    assert check.returncode == 0, f"storage check: {check.stdout}{check.stderr}"
    jobs = cluster.pannier("jobs", "run")
    log(f"   storage check: consistent; jobs: {jobs.strip()}")

    # 3. Limits hold across instances.
    unlock_limit = 5
    locked = post_json(port, "/api/v1/shares", token, {"file_ids": [big_id], "password": "right password"})["slug"]
    answers = []
    for attempt in range(unlock_limit * 2):
        instance = cluster.ports[attempt % n]
        form = urllib.parse.urlencode({"password": "wrong"}).encode()
        status, _, _ = request(instance, "POST", f"/s/{locked}/unlock", {
            "Origin": f"http://127.0.0.1:{port}", "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded"}, form)
        answers.append(status)
    assert answers.count(429) == unlock_limit, f"password attempts across instances: {answers}"
    limited_n = 5
    limited = post_json(port, "/api/v1/shares", token, {"file_ids": [big_id], "max_downloads": limited_n})["slug"]
    results: list[int] = []
    def download(i: int) -> None:
        status, _, _ = request(cluster.ports[i % n], "GET", f"/s/{limited}/files/{big_id}")
        results.append(status)
    threads = [threading.Thread(target=download, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(200) == limited_n, f"limited link: {sorted(results)}"
    log(f"3. wrong passwords: {answers.count(429)} of {len(answers)} refused across instances "
        f"(budget {unlock_limit}); a {limited_n}-download link under 40 concurrent requests on "
        f"{n} instances: exactly {results.count(200)} downloads")

    # 4. Figures: the same listing through nginx with one instance behind it, then all.
    many = wrk_rate(port, token)
    cluster.set_upstreams(cluster.ports[:1])
    one = wrk_rate(port, token)
    cluster.set_upstreams(cluster.ports)
    hits, misses = 0.0, 0.0
    for metrics_port in cluster.metrics_ports:
        _, _, text = request(metrics_port, "GET", "/metrics")
        for line in text.decode().splitlines():
            if line.startswith("pannier_cache_requests_total{"):
                value = float(line.rsplit(" ", 1)[1])
                if 'result="hit"' in line:
                    hits += value
                else:
                    misses += value
    log(f"4. listing req/s through nginx: 1 instance {one:.0f}, {n} instances {many:.0f} "
        f"({many / one:.2f}×; 2 cores shared by everything)")
    for what, seconds in recovery.items():
        log(f"   recovery: {what}: {seconds:.1f} s")
    log(f"   in-process caches: {hits / max(hits + misses, 1):.1%} hits of {hits + misses:.0f} "
        "lookups (counters since each instance's last start)")
    log("PASSED")


if __name__ == "__main__":
    main()
