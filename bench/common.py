"""What the benchmarks share: the release binary, servers on free ports with their data in a
throwaway directory, an account with a token, a signed-in session, wrk (stdlib only)."""

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/pannier-target"))
BIN = TARGET / "release/pannier"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


def memory(pid: int) -> str:
    """Resident and peak memory of the server, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    mib = lambda key: int(fields[key].split()[0]) / 1024  # noqa: E731
    return f"RSS {mib('VmRSS'):.0f} MiB, peak {mib('VmHWM'):.0f} MiB"


def server_env(data_dir: str, port: int, **settings: str) -> dict:
    """The environment of a server on `port` keeping its data in `data_dir` (no metrics
    listener unless `settings` name one), plus `settings`."""
    return dict(os.environ, PANNIER_DATA_DIR=data_dir, PANNIER_BIND=f"127.0.0.1:{port}",
                PANNIER_SITE_ROOT=str(ROOT / "target/site"), PANNIER_LOG_LEVEL="error",
                **{"PANNIER_METRICS_BIND": "", **settings})


def wait_for(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            return
        except OSError:
            time.sleep(0.1)


def http(port: int, method: str, path: str, token: str, body: bytes = b"",
         headers: dict | None = None) -> tuple[int, bytes, float]:
    """One request on its own connection (with the bearer `token`, unless empty); (status,
    body, seconds)."""
    import http.client
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data, time.perf_counter() - start


def serve_with_token(env: dict, port: int) -> tuple[str, subprocess.Popen]:
    """An account with a write token in `env`'s data dir, then the server, answering."""
    subprocess.run([BIN, "user", "create", "--email", "bench@bench.test", "--password-stdin"],
                   input=b"bench account password", env=env, check=True, stdout=subprocess.DEVNULL)
    created = subprocess.run([BIN, "token", "create", "--email", "bench@bench.test", "--name",
                              "bench", "--scope", "write"], env=env, check=True,
                             capture_output=True, text=True).stdout
    token = next(word for word in created.split() if word.startswith("pnr_"))
    server = subprocess.Popen([BIN, "serve"], env=env, stderr=subprocess.DEVNULL)
    wait_for(port)
    return token, server


class Load(NamedTuple):
    """What wrk measured: requests per second, p99 latency (ms), bytes per second."""
    rate: float
    p99: float
    transfer: float


def wrk(url: str, headers: list[str], seconds: int = 6, connections: int = 50,
        script: str | None = None) -> Load:
    """GETs of `url` (or what the Lua `script` makes) by wrk, installed from apt when missing.
    Any answer but 2xx fails the benchmark."""
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"],
                       check=True, stdout=subprocess.DEVNULL)
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for header in headers:
        args += ["-H", header]
    if script is not None:
        args += ["-s", script]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    assert "Non-2xx" not in out, out
    unit = {"us": 0.001, "ms": 1, "s": 1000}
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, time_unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    size, size_unit = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", out).groups()
    scale = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[size_unit]
    return Load(rate, float(value) * unit[time_unit], float(size) * scale)


def session_cookie(port: int) -> str:
    """Signs the bench account in (the sign-in form's server fn); its session cookie."""
    import http.client
    import urllib.parse
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    form = urllib.parse.urlencode({"email": "bench@bench.test", "password": "bench account password"})
    connection.request("POST", "/api/sign_in", body=form, headers={
        "Origin": f"http://127.0.0.1:{port}", "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    cookie = response.getheader("set-cookie", "")
    assert "pannier_session=" in cookie, (response.status, cookie)
    return cookie.split(";", 1)[0]
