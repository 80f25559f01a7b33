#!/usr/bin/env python3
"""The edge under abuse, on the release build with its default limits (stdlib only).

1. Slowloris: 2,000 connections from 40 addresses (127.0.0.10-49) trickle a request head one
   byte a second, while a normal client (127.0.0.2) requests /healthz 100 times: its p50/p99
   beside the same 100 requests with no attack, and how long the longest slow connection
   lived (the header timeout is 10 s). Then 200 more from ONE address: how many it holds.
2. Sign-up flood: 3,000 sign-ups, 400 at a time, from 300 addresses (so the per-address
   budget lets them through to the password hashing): answers by status, the server's peak
   RSS, and /healthz p99 during the flood.

    make build && bench/edge.py
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/pannier-target"))
BIN = TARGET / "release/pannier"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


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


def memory(pid: int) -> str:
    """Resident and peak memory of the server, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    mib = lambda key: int(fields[key].split()[0]) / 1024  # noqa: E731
    return f"RSS {mib('VmRSS'):.0f} MiB, peak {mib('VmHWM'):.0f} MiB"


def main() -> None:
    data = tempfile.mkdtemp()
    port = free_port()
    env = dict(os.environ, PANNIER_DATA_DIR=data, PANNIER_BIND=f"127.0.0.1:{port}",
               PANNIER_SITE_ROOT=str(ROOT / "target/site"), PANNIER_LOG_LEVEL="error")
    subprocess.run([BIN, "user", "create", "--email", "admin@bench.test", "--admin",
                    "--password-stdin"], input=b"bench admin password", env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([BIN, "registration", "open"], env=env, check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen([BIN, "serve"], env=env, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        asyncio.run(slowloris(port))
        print(f"  server memory after it: {memory(server.pid)}")
        asyncio.run(flood(port, server.pid))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        subprocess.run(["rm", "-rf", data])


if __name__ == "__main__":
    sys.exit(main())
