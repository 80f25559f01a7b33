#!/usr/bin/env python3
"""The fast paths, on the release build, each beside its reference measured in the same run.

1. Requests (wrk, 50 keep-alive connections, 6 s each; 100 files in the folder), as a
   percentage of `GET /healthz` measured the same way: `GET /api/v1/folders/root` (bearer
   token), the signed-in `/files` page, a public share page `/s/{slug}` and a small file from
   it `/s/{slug}/files/{id}` — on SQLite, then the listing on PostgreSQL when the run has one
   (`scripts/with-services.sh` sets TEST_DATABASE_URL). And the `/files` page's weight: raw,
   gzip and brotli.
2. 100 concurrent Range downloads (wrk -c100, random 1 MiB ranges of a 16 MiB file, bearer
   token) vs nginx (sendfile) serving the same file: aggregate throughput and p99.
3. Small files: 2,000 × 4 KiB PUTs from 8 keep-alive clients (one process each), Pannier vs
   copyparty (from PyPI, in a throwaway virtualenv) on the same disk; best of two each.

    make build && scripts/with-services.sh bench/fast.py
"""

import multiprocessing
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, free_port, http, serve_with_token, server_env, session_cookie, wait_for, wrk

# Throughput from one address, far past the per-client budgets (bench/edge.py measures those).
NO_BUDGETS = dict(PANNIER_RATE_REQUESTS="0", PANNIER_RATE_DOWNLOADS="0", PANNIER_RATE_UPLOADS="0",
                  PANNIER_MAX_CONNECTIONS_PER_ADDRESS="100000")
# Same disk as the data dirs of real installs (not a tmpfs /tmp).
SCRATCH = ROOT / "target"


class Server:
    """A release server on a free port with an account, its token, and data in a scratch dir."""

    def __init__(self, **settings: str):
        self.work = tempfile.mkdtemp(dir=SCRATCH, prefix="bench-fast.")
        self.port = free_port()
        env = server_env(f"{self.work}/data", self.port, **NO_BUDGETS, **settings)
        self.token, self.process = serve_with_token(env, self.port)
        self.base = f"http://127.0.0.1:{self.port}"

    def call(self, method: str, path: str, body: bytes = b"", **headers: str) -> dict:
        status, data, _ = http(self.port, method, path, self.token, body, headers)
        assert status in (200, 201), (method, path, status, data[:300])
        return json.loads(data)

    def put(self, name: str, body: bytes) -> dict:
        return self.call("PUT", f"/api/v1/files?name={name}", body)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        subprocess.run(["rm", "-rf", self.work])


def line(name: str, load, reference, target: str) -> None:
    print(f"  {name:34} {load.rate:8.0f} req/s  p99 {load.p99:6.1f} ms   "
          f"{100 * load.rate / reference.rate:5.1f} % of /healthz  ({target})")


def requests(database_url: str | None) -> None:
    engine = "PostgreSQL" if database_url else "SQLite"
    server = Server(**({"PANNIER_DATABASE_URL": database_url} if database_url else {}))
    try:
        files = [server.put(f"f{i:03}.txt", b"x" * 100) for i in range(100)]
        auth = [f"Authorization: Bearer {server.token}"]
        healthz = wrk(f"{server.base}/healthz", [])
        print(f"requests on {engine}, 100 files in the folder, 50 connections")
        print(f"  {'GET /healthz (reference)':34} {healthz.rate:8.0f} req/s  p99 {healthz.p99:6.1f} ms")
        listing = wrk(f"{server.base}/api/v1/folders/root", auth)
        line("GET /api/v1/folders/root", listing, healthz, "target ≥ 25 %, p99 < 20 ms")
        if database_url:
            return
        cookie = [f"Cookie: {session_cookie(server.port)}", "Accept: text/html"]
        line("GET /files (page)", wrk(f"{server.base}/files", cookie), healthz,
             "target ≥ 15 %, p99 < 30 ms")
        slug = server.call("POST", "/api/v1/shares", b'{"folder_id": "root"}',
                           **{"Content-Type": "application/json"})["slug"]
        line("GET /s/{slug} (share page)", wrk(f"{server.base}/s/{slug}", []), healthz,
             "target ≥ 25 %")
        small = f"{server.base}/s/{slug}/files/{files[0]['id']}"
        line("GET /s/{slug}/files/{id} (100 B)", wrk(small, []), healthz, "target ≥ 25 %")
        page_weight(server, cookie[0])
    finally:
        server.stop()


def page_weight(server: Server, cookie: str) -> None:
    sizes = {}
    for encoding in ("identity", "gzip", "br"):
        out = subprocess.run(
            ["curl", "-fsS", "-o", "/dev/null", "-w", "%{size_download} %header{content-encoding}",
             "-H", cookie, "-H", f"Accept-Encoding: {encoding}", f"{server.base}/files"],
            check=True, capture_output=True, text=True).stdout.split()
        sizes[encoding] = (int(out[0]), out[1] if len(out) > 1 else "none")
    raw = sizes["identity"][0]
    print(f"  /files page, 100 items: {raw / 1000:.1f} KB of HTML (target < 60 KB); on the wire "
          + ", ".join(f"{e}: {n / 1000:.1f} KB (Content-Encoding {got})"
                      for e, (n, got) in sizes.items() if e != "identity"))


NGINX_CONF = """daemon off; worker_processes auto; pid {work}/nginx.pid; error_log {work}/nginx.log;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on;
  server {{ listen 127.0.0.1:{port}; location = /big.bin {{ alias {blob}; }} }} }}
"""

RANGES = """math.randomseed(os.time())
request = function()
  local start = math.random(0, 15) * 1048576
  return wrk.format("GET", nil, {{["Range"] = "bytes=" .. start .. "-" .. (start + 1048575),
                                 ["Authorization"] = "{auth}"}})
end
"""


def range_downloads() -> None:
    server = Server()
    nginx = public = None
    try:
        file = server.put("big.bin", os.urandom(16 << 20))
        stored = next(p for p in Path(f"{server.work}/data/blobs").rglob("*") if p.is_file())
        # The same bytes where nginx's workers (another user, when run as root) may read them.
        public = Path(tempfile.mkdtemp(dir=SCRATCH, prefix="bench-nginx."))
        public.chmod(0o755)
        blob = public / "big.bin"
        shutil.copyfile(stored, blob)
        blob.chmod(0o644)
        nginx_port = free_port()
        Path(f"{server.work}/nginx.conf").write_text(
            NGINX_CONF.format(work=server.work, port=nginx_port, blob=blob))
        nginx = subprocess.Popen(["nginx", "-c", f"{server.work}/nginx.conf", "-p", server.work])
        wait_for(nginx_port)
        script = Path(f"{server.work}/ranges.lua")
        results = {}
        for name, url, auth in [("nginx", f"http://127.0.0.1:{nginx_port}/big.bin", ""),
                                ("Pannier", f"{server.base}/api/v1/files/{file['id']}/content",
                                 f"Bearer {server.token}")] * 2:
            script.write_text(RANGES.format(auth=auth))
            load = wrk(url, [], seconds=6, connections=100, script=str(script))
            if name not in results or load.transfer > results[name].transfer:
                results[name] = load
        ours, theirs = results["Pannier"], results["nginx"]
        print("100 concurrent Range downloads (random 1 MiB ranges of a 16 MiB file), best of two")
        for name, load in [("nginx (reference)", theirs), ("Pannier", ours)]:
            print(f"  {name:18} {load.transfer / 1e9:5.2f} GB/s  {load.rate:6.0f} req/s  "
                  f"p99 {load.p99:6.1f} ms")
        print(f"  Pannier / nginx: throughput {ours.transfer / theirs.transfer:.2f}× (target ≥ 0.90), "
              f"p99 {ours.p99 / theirs.p99:.2f}× (target ≤ 1.50)")
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait()
            shutil.rmtree(public)
        server.stop()


def put_many(args: tuple[int, str, str, int, int]) -> int:
    """One client: `count` PUTs of 4 KiB on one keep-alive connection; how many were 201."""
    import http.client
    port, prefix, token, client, count = args
    body = os.urandom(4096)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    stored = 0
    for i in range(count):
        connection.request("PUT", prefix.format(name=f"s{client}-{i}.bin"), body, headers)
        response = connection.getresponse()
        response.read()
        stored += response.status == 201
    return stored


def files_per_second(port: int, prefix: str, token: str, files: int = 2000, clients: int = 8) -> float:
    with multiprocessing.Pool(clients) as pool:
        start = time.perf_counter()
        stored = sum(pool.map(put_many, [(port, prefix, token, c, files // clients)
                                         for c in range(clients)]))
        took = time.perf_counter() - start
    assert stored == files, f"only {stored} of {files} stored"
    return files / took


def copyparty() -> tuple[subprocess.Popen, int, str]:
    """copyparty from PyPI in a throwaway virtualenv, anonymous read-write on a scratch dir."""
    venv = tempfile.mkdtemp(dir=SCRATCH, prefix="bench-copyparty.")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([f"{venv}/bin/pip", "install", "-q", "copyparty"], check=True)
    port = free_port()
    process = subprocess.Popen([f"{venv}/bin/copyparty", "-q", "-i", "127.0.0.1", "-p", str(port),
                                "-v", f"{venv}/data::rw"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_for(port)
    return process, port, venv


def small_uploads() -> None:
    print("small files: 2,000 × 4 KiB PUTs, 8 keep-alive clients, same disk, best of two")
    peer, peer_port, venv = copyparty()
    server = Server()
    try:
        theirs = ours = 0.0
        for round in range(2):
            theirs = max(theirs, files_per_second(peer_port, f"/r{round}-{{name}}", ""))
            ours = max(ours, files_per_second(server.port, f"/api/v1/files?name=r{round}-{{name}}",
                                              server.token))
        print(f"  copyparty (reference) {theirs:7.0f} files/s")
        print(f"  Pannier               {ours:7.0f} files/s   {ours / theirs:.2f}× (target ≥ 2.00)")
    finally:
        peer.kill()
        peer.wait()
        server.stop()
        subprocess.run(["rm", "-rf", venv])


def main() -> None:
    only = sys.argv[1:] or ["requests", "ranges", "uploads"]
    if "requests" in only:
        requests(None)
        if os.environ.get("TEST_DATABASE_URL"):
            requests(os.environ["TEST_DATABASE_URL"])
        else:
            print("  (PostgreSQL: run under scripts/with-services.sh)")
    if "ranges" in only:
        range_downloads()
    if "uploads" in only:
        small_uploads()


if __name__ == "__main__":
    main()
