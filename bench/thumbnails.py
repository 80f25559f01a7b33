#!/usr/bin/env python3
"""Previews through the job queue, beside ImageMagick doing the same work in the same run.

1. Throughput: 200 camera-size JPEGs (4000 × 3000, made here by ImageMagick, 8 different
   pictures) are uploaded to a server running no workers; then one `pannier worker` (one job at
   a time, like `serve`'s default worker) makes their thumbnails (1024 px and 256 px) until the
   queue is empty: images per second and the worker's peak RSS. Reference: ImageMagick's
   `convert IN -thumbnail 1024x1024 -write L -thumbnail 256x256 S`, one image at a time, on the
   same 200 files (it may use both cores; it writes both sizes, as the worker does).
2. Latency: one image uploaded to a server with its default worker, until its thumbnail is
   served — 20 times idle, then 20 times while 8 clients keep uploading small files (p50, p99).

    make build && bench/thumbnails.py
"""

import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import BIN, ROOT, free_port, percentile, serve_with_token, server_env
from common import http as request

SCRATCH = ROOT / "target"
IMAGES, DISTINCT = 200, 8
CONVERT = shutil.which("convert", path="/usr/bin") or "convert"  # not a stand-in earlier on PATH


def camera_jpegs(work: Path) -> list[Path]:
    """DISTINCT 4000 × 3000 JPEGs of noisy gradients (photographs compress about as badly)."""
    paths = []
    for i in range(DISTINCT):
        path = work / f"camera-{i}.jpg"
        subprocess.run([CONVERT, "-size", "4000x3000", f"gradient:hsb({i * 40},80%,70%)-navy",
                        "-attenuate", "0.4", "+noise", "Gaussian", "-quality", "90", str(path)],
                       check=True)
        paths.append(path)
    return paths


def rss_peak(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def queued(env: dict) -> int:
    out = subprocess.run([BIN, "jobs", "list"], env=env, check=True, capture_output=True,
                         text=True).stdout
    counts = dict(part.split(": ") for part in out.splitlines()[0].split(", "))
    assert counts["dead"] == "0", out
    return int(counts["queued"]) + int(counts["running"])


def throughput(images: list[Path], work: Path) -> None:
    port = free_port()
    env = server_env(str(work / "data"), port, PANNIER_WORKERS="0", PANNIER_RATE_UPLOADS="0",
                     PANNIER_RATE_REQUESTS="0")
    token, server = serve_with_token(env, port)
    try:
        for n in range(IMAGES):
            body = images[n % DISTINCT].read_bytes()
            status, _, _ = request(port, "PUT", f"/api/v1/files?name=photo-{n:03}.jpg", token, body)
            assert status == 201, status
        assert queued(env) == IMAGES + 1, "one previews job each, and the housekeeping"
        start = time.perf_counter()
        worker = subprocess.Popen([BIN, "worker"], env=dict(env, PANNIER_WORKERS="1"),
                                  stderr=subprocess.DEVNULL)
        peak = 0.0
        while queued(env) > 1:  # the recurring housekeeping stays queued for its next run
            peak = max(peak, rss_peak(worker.pid))
            time.sleep(0.2)
        ours = time.perf_counter() - start
        peak = max(peak, rss_peak(worker.pid))
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    out = work / "magick"
    out.mkdir()
    start = time.perf_counter()
    peak_magick = 0.0
    for n in range(IMAGES):
        source = images[n % DISTINCT]
        process = subprocess.Popen([CONVERT, str(source), "-thumbnail", "1024x1024", "-write",
                                    str(out / f"{n}-l.jpg"), "-thumbnail", "256x256",
                                    str(out / f"{n}-s.jpg")])
        _, status, usage = os.wait4(process.pid, 0)
        assert status == 0, status
        peak_magick = max(peak_magick, usage.ru_maxrss / 1024)
    theirs = time.perf_counter() - start
    print(f"thumbnails of {IMAGES} JPEGs of 4000 × 3000 (1024 px and 256 px each)")
    print(f"  pannier worker (1 job at a time)  {IMAGES / ours:6.1f} images/s  "
          f"peak RSS {peak:5.0f} MiB (target < 300 MiB)")
    print(f"  ImageMagick convert (reference)   {IMAGES / theirs:6.1f} images/s  "
          f"peak RSS {peak_magick:5.0f} MiB")
    print(f"  ratio {theirs / ours:.2f}× ImageMagick (target ≥ 1×)")


def latency(image: bytes, work: Path) -> None:
    port = free_port()
    env = server_env(str(work / "data-latency"), port, PANNIER_RATE_UPLOADS="0",
                     PANNIER_RATE_REQUESTS="0", PANNIER_MAX_CONNECTIONS_PER_ADDRESS="100000")
    token, server = serve_with_token(env, port)

    def one(n: int) -> float:
        start = time.perf_counter()
        status, body, _ = request(port, "PUT", f"/api/v1/files?name=latency-{n}.jpg", token, image)
        assert status == 201, status
        file_id = body.split(b'"id":"', 1)[1].split(b'"', 1)[0].decode()
        while True:
            status, _, _ = request(port, "GET", f"/api/v1/files/{file_id}/thumbnail", token)
            if status == 200:
                return time.perf_counter() - start
            assert status == 404, status
            time.sleep(0.005)

    stop = threading.Event()

    def uploader(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = 0
        while not stop.is_set():
            connection.request("PUT", f"/api/v1/files?name=load-{n}-{i}.txt", body=b"x" * 4096,
                               headers={"Authorization": f"Bearer {token}"})
            connection.getresponse().read()
            i += 1

    try:
        idle = [one(n) for n in range(20)]
        threads = [threading.Thread(target=uploader, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        loaded = [one(100 + n) for n in range(20)]
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(f"upload to thumbnail served, one 4000 × 3000 JPEG ({len(image) >> 10} KiB), "
          f"serve's default worker")
    print(f"  idle                         p50 {percentile(idle, 0.5):6.0f} ms  "
          f"p99 {percentile(idle, 0.99):6.0f} ms")
    print(f"  8 clients uploading 4 KiB    p50 {percentile(loaded, 0.5):6.0f} ms  "
          f"p99 {percentile(loaded, 0.99):6.0f} ms")


def main() -> None:
    if not BIN.exists():
        sys.exit(f"{BIN} is missing: run `make build` first")
    work = Path(tempfile.mkdtemp(dir=SCRATCH, prefix="bench-thumbs."))
    try:
        images = camera_jpegs(work)
        what = sys.argv[1] if len(sys.argv) > 1 else "all"
        if what in ("all", "throughput"):
            throughput(images, work)
        if what in ("all", "latency"):
            latency(images[0].read_bytes(), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
