#!/usr/bin/env python3
"""The edge under abuse, on the release build with its default limits (stdlib only).

1. Slowloris: 2,000 connections from 40 addresses (127.0.0.10-49) trickle a request head one
   byte a second, while a normal client (127.0.0.2) requests /healthz 100 times: its p50/p99
   beside the same 100 requests with no attack, and how long the longest slow connection
   lived (the header timeout is 10 s). Then 200 more from ONE address: how many it holds.
2. Sign-up flood: 3,000 sign-ups, 400 at a time, from 300 addresses (so the per-address
   budget lets them through to the password hashing): answers by status, the server's peak
   RSS, and /healthz p99 during the flood.
3. Storage outage: a second server on S3 (s3s-fs) downloads a file every 50 ms; s3s-fs is
   killed after 2 s and started again 4 s later. How soon the answers turn 503, how long the
   slowest answer during the outage took (reference: 1 s), any 500, and how soon after S3 is
   back the downloads answer 200 again — without restarting Pannier.
4. The edge's cost: `GET /api/v1/folders/root` (100 files, bearer token) and the signed-in
   `/files` page, each by wrk (50 keep-alive connections, 6 s; three rounds, the median), with every rule on (the budgets counting, set too high to refuse;
   metrics recorded) and again with every rule that can be turned off off (rate-limit
   budgets, the per-address cap, the metrics recorder): req/s and p99 of each, and
   the ratio (target ≥ 0.9). What always runs (client address, request id, security headers,
   the head check, shedding's semaphore) is in both.

    make build && bench/edge.py
"""

import asyncio
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import (BIN, free_port, http, memory, percentile, serve_with_token, server_env,
                    session_cookie, wait_for, wrk)


async def request(port: int, raw: bytes, source: str = "127.0.0.1") -> tuple[int, float]:
    """One request on a fresh connection from `source`; (status, seconds)."""
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(raw)
    await writer.drain()
    line = await reader.readline()
    writer.close()
    status = int(line.split()[1]) if line.startswith(b"HTTP/") else 0
    return status, time.perf_counter() - start


def healthz() -> bytes:
    return b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"


async def probe(port: int, n: int = 100) -> list[float]:
    times = []
    for _ in range(n):
        status, took = await request(port, healthz(), "127.0.0.2")
        assert status == 200, status
        times.append(took)
    return times


async def slow_connection(port: int, source: str, lifetimes: list[float], held: list[int]):
    start = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    except OSError:
        return
    held.append(1)
    head = b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: " + b"a" * 1000
    try:
        for byte in head:
            writer.write(bytes([byte]))
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1024), 1.0) == b"":
                    break  # closed by the server
            except asyncio.TimeoutError:
                pass
    except (ConnectionError, OSError):
        pass
    lifetimes.append(time.perf_counter() - start)
    writer.close()


async def slowloris(port: int) -> None:
    quiet = await probe(port)
    lifetimes: list[float] = []
    held: list[int] = []
    attack = [
        asyncio.create_task(slow_connection(port, f"127.0.0.{10 + i // 50}", lifetimes, held))
        for i in range(2000)
    ]
    await asyncio.sleep(2)
    under_attack = await probe(port)
    await asyncio.gather(*attack)
    print(f"slowloris: 2,000 trickling connections from 40 addresses ({len(held)} opened)")
    print(f"  /healthz p50/p99 under attack: {percentile(under_attack, .5):6.1f} / "
          f"{percentile(under_attack, .99):6.1f} ms   (target p99 < 100 ms)")
    print(f"  reference, no attack:          {percentile(quiet, .5):6.1f} / "
          f"{percentile(quiet, .99):6.1f} ms")
    print(f"  longest slow connection lived: {max(lifetimes):6.1f} s      (header timeout 10 s)")

    lifetimes, held = [], []
    one = [asyncio.create_task(slow_connection(port, "127.0.0.9", lifetimes, held))
           for _ in range(200)]
    await asyncio.sleep(1.5)
    kept = sum(1 for t in one if not t.done())
    await asyncio.gather(*one)
    print(f"  200 more from one address: {kept} held open (cap per address 64)")


async def sign_up(port: int, n: int) -> int:
    body = (f"email=flood{n}%40example.com&display_name=Flood&"
            f"password=flood+password+{n}+long+enough").encode()
    raw = (b"POST /api/sign_up HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
           b"Origin: http://127.0.0.1:" + str(port).encode() + b"\r\n"
           b"Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n"
           b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    k = n % 300
    source = f"127.1.{k // 200}.{10 + k % 200}"
    try:
        status, _ = await request(port, raw, source)
    except (ConnectionError, OSError):
        status = -1
    return status


async def flood(port: int, pid: int) -> None:
    statuses: Counter = Counter()
    probes: list[float] = []
    done = asyncio.Event()

    async def keep_probing():
        while not done.is_set():
            status, took = await request(port, healthz(), "127.0.0.2")
            assert status == 200, status
            probes.append(took)
            await asyncio.sleep(0.05)

    prober = asyncio.create_task(keep_probing())
    gate = asyncio.Semaphore(400)

    async def one(n):
        async with gate:
            statuses[await sign_up(port, n)] += 1

    start = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(3000)))
    took = time.perf_counter() - start
    done.set()
    await prober
    print(f"sign-up flood: 3,000 sign-ups, 400 at a time, from 300 addresses, in {took:.1f} s")
    print(f"  answers: {dict(sorted(statuses.items()))}  (200 made, 429 budget, 503 busy)")
    print(f"  server memory: {memory(pid)}   (target: peak < 300 MiB)")
    print(f"  /healthz during the flood: {len(probes)} answered, p99 "
          f"{percentile(probes, .99):6.1f} ms")


def s3s_fs(port: int, root: str) -> subprocess.Popen:
    server = subprocess.Popen(
        [Path.home() / ".cargo/bin/s3s-fs", "--host", "127.0.0.1", "--port", str(port),
         "--access-key", "bench", "--secret-key", "bench-secret", root],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(port)
    return server


def outage() -> None:
    print("storage outage: s3s-fs killed at 2 s, started again at 6 s, a download every 50 ms")
    work = tempfile.mkdtemp()
    (Path(work) / "s3/pannier").mkdir(parents=True)
    s3_port, port = free_port(), free_port()
    s3 = s3s_fs(s3_port, f"{work}/s3")
    env = server_env(f"{work}/data", port, PANNIER_STORAGE="s3", PANNIER_S3_BUCKET="pannier",
               PANNIER_S3_ENDPOINT=f"http://127.0.0.1:{s3_port}", PANNIER_S3_PATH_STYLE="true",
               PANNIER_S3_ACCESS_KEY="bench", PANNIER_S3_SECRET_KEY="bench-secret",
               PANNIER_RATE_REQUESTS="0", PANNIER_RATE_DOWNLOADS="0")
    token, server = serve_with_token(env, port)
    try:
        status, body, _ = http(port, "PUT", "/api/v1/files?name=a.txt", token, b"hello")
        assert status == 201, (status, body)
        content = f"/api/v1/files/{__import__('json').loads(body)['id']}/content"
        answers = []  # (seconds since start, status, latency)
        start = time.perf_counter()
        stopped = restarted = None
        while (now := time.perf_counter() - start) < 12:
            if stopped is None and now >= 2:
                s3.kill()
                s3.wait()
                stopped = now
            if restarted is None and now >= 6:
                s3 = s3s_fs(s3_port, f"{work}/s3")
                restarted = time.perf_counter() - start
            status, _, took = http(port, "GET", content, token)
            answers.append((time.perf_counter() - start, status, took))
            time.sleep(0.05)
        during = [a for a in answers if stopped <= a[0] - a[2] and a[0] < restarted]
        first_503 = next(a[0] for a in answers if a[1] == 503) - stopped
        back = next(a[0] for a in answers if a[0] > restarted and a[1] == 200) - restarted
        codes = Counter(a[1] for a in answers)
        slowest = max(a[2] for a in during) * 1000
        print(f"  answers: {dict(sorted(codes.items()))}")
        print(f"  first 503 {first_503 * 1000:6.0f} ms after S3 stopped; slowest answer while "
              f"down {slowest:6.0f} ms (reference: 1000 ms); "
              f"p50 {percentile([a[2] for a in during], .5):5.1f} ms")
        print(f"  200 again {back * 1000:6.0f} ms after S3 was back (no restart of Pannier)")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        s3.kill()
        subprocess.run(["rm", "-rf", work])


def edge_cost() -> None:
    print("the edge's cost: 100 files in the root folder, 50 connections, 6 s per route")
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    # "on": every rule runs — the budgets too, set so high that they count but never refuse
    # (at the default 1,200 a minute one account would get 429s within a second).
    # Three rounds, alternating, the median of each: wrk shares the 2 cores with the server,
    # and one run's noise is larger than what the rules cost.
    configs = [("on", {"PANNIER_RATE_REQUESTS": "100000000"}),
               ("rules off", {"PANNIER_RATE_REQUESTS": "0", "PANNIER_RATE_DOWNLOADS": "0",
                              "PANNIER_RATE_UPLOADS": "0",
                              "PANNIER_MAX_CONNECTIONS_PER_ADDRESS": "100000"})]
    for name, extra in configs * 3:
        work, port = tempfile.mkdtemp(), free_port()
        metrics = f"127.0.0.1:{free_port()}" if name == "on" else ""
        env = server_env(work, port, PANNIER_METRICS_BIND=metrics, **extra)
        token, server = serve_with_token(env, port)
        try:
            for i in range(100):
                http(port, "PUT", f"/api/v1/files?name=f{i:03}.txt", token, b"x" * 100)
            cookie = session_cookie(port)
            base = f"http://127.0.0.1:{port}"
            routes = {
                "GET /api/v1/folders/root": (f"{base}/api/v1/folders/root",
                                             [f"Authorization: Bearer {token}"]),
                "GET /files (page)": (f"{base}/files", [f"Cookie: {cookie}", "Accept: text/html"]),
            }
            for route, (url, headers) in routes.items():
                rate, p99, _ = wrk(url, headers)
                results.setdefault((name, route), []).append((rate, p99))
                print(f"  {name:9} {route:25}: {rate:7.0f} req/s, p99 {p99:6.1f} ms")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            subprocess.run(["rm", "-rf", work])
    for route in ["GET /api/v1/folders/root", "GET /files (page)"]:
        (on, on_p99), (off, off_p99) = (sorted(results[(name, route)])[1] for name in ("on", "rules off"))
        print(f"  median of 3, {route:25}: on {on:5.0f} req/s (p99 {on_p99:5.1f} ms), off "
              f"{off:5.0f} req/s (p99 {off_p99:5.1f} ms): on / off = {on / off:.2f} (target ≥ 0.90)")


def main() -> None:
    data = tempfile.mkdtemp()
    port = free_port()
    env = server_env(data, port)
    subprocess.run([BIN, "user", "create", "--email", "admin@bench.test", "--admin",
                    "--password-stdin"], input=b"bench admin password", env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([BIN, "registration", "open"], env=env, check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen([BIN, "serve"], env=env, stderr=subprocess.DEVNULL)
    try:
        wait_for(port)
        asyncio.run(slowloris(port))
        print(f"  server memory after it: {memory(server.pid)}")
        asyncio.run(flood(port, server.pid))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        subprocess.run(["rm", "-rf", data])
    outage()
    edge_cost()


if __name__ == "__main__":
    sys.exit(main())
