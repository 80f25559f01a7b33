#!/usr/bin/env python3
"""Page weight and Lighthouse scores on the release build, beside the targets of the UI issue.

1. The WASM each page loads (the split bundle's main module and its group's chunks), brotli as
   served, against 150 KiB for share and home pages and 250 KiB for the file manager.
2. Lighthouse 12 (from npm, in a throwaway directory; Chromium from Debian) on the pages a
   visitor and an owner open first — home, sign-in, a shared folder of pictures, a shared file,
   the files page and a file page (signed in through a session cookie) — on its mobile profile
   (slow 4G, a mid phone) and on desktop: performance, accessibility, best practices and SEO,
   against 95.

    make build && bench/pages.py
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from common import ROOT, free_port, http, serve_with_token, server_env, session_cookie

TARGET_KIB = 250
TARGET_LIGHT_KIB = 150
TARGET_SCORE = 95
FLAGS = ("--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
         "--disable-background-networking --disable-component-update --disable-sync")


def bundle() -> None:
    """What each group of pages downloads of the split WASM bundle (scripts/wasm-budget.py)."""
    print(f"WASM per page, brotli — targets: share and home pages ≤ {TARGET_LIGHT_KIB} KiB, "
          f"the file manager ≤ {TARGET_KIB} KiB")
    subprocess.run([str(ROOT / "scripts/wasm-budget.py"), str(ROOT / "target/site/pkg")],
                   check=False)


def lighthouse_binary(workdir: str) -> str:
    """Lighthouse from npm, installed into `workdir`."""
    subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", workdir,
                    "lighthouse@12"], check=True, stdout=subprocess.DEVNULL)
    return str(Path(workdir) / "node_modules/.bin/lighthouse")


def site(port: int, token: str) -> dict[str, str]:
    """Pictures, a text file and links to them; the pages to score by name."""
    import struct
    import zlib

    def png(colour: tuple[int, int, int], width: int = 1200, height: int = 800) -> bytes:
        row = b"\x00" + bytes(colour) * width
        chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data  # noqa: E731
                                    + struct.pack(">I", zlib.crc32(kind + data)))
        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(row * height, 9)) + chunk(b"IEND", b""))

    folder = json.loads(http(port, "POST", "/api/v1/folders", token,
                             json.dumps({"name": "Holiday"}).encode(),
                             {"Content-Type": "application/json"})[1])["id"]
    ids = []
    for n, colour in enumerate([(200, 40, 40), (40, 120, 200), (40, 160, 80), (220, 180, 40)]):
        status, body, _ = http(port, "PUT", f"/api/v1/files?name=photo-{n}.png&folder_id={folder}",
                               token, png(colour))
        assert status == 201, body
        ids.append(json.loads(body)["id"])
    status, body, _ = http(port, "PUT", "/api/v1/files?name=notes.md", token,
                           b"# Notes\n\nA few **words**.\n")
    notes = json.loads(body)["id"]

    def share(data: dict) -> str:
        status, body, _ = http(port, "POST", "/api/v1/shares", token, json.dumps(data).encode(),
                               {"Content-Type": "application/json"})
        assert status == 201, body
        return "/s/" + json.loads(body)["slug"]

    gallery = share({"folder_id": folder, "label": "Holiday", "allow_zip": True})
    one = share({"file_ids": [ids[0]]})
    return {"home": "/", "sign-in": "/sign-in", "shared folder": gallery, "shared file": one,
            "files": "/files", "file page": f"/file/{notes}"}


def category_score(result: dict, category: str, noindex: bool) -> int:
    """A category's score out of 100. Share pages are `noindex` on purpose (a link is for the
    people it is sent to), so their SEO is scored without the "page is crawlable" audit, as the
    issue asks: the weighted mean of the other audits, as Lighthouse weighs them."""
    if not (noindex and category == "seo"):
        return round((result["categories"][category]["score"] or 0) * 100)
    refs = [ref for ref in result["categories"]["seo"]["auditRefs"]
            if ref["weight"] and ref["id"] != "is-crawlable"
            and result["audits"][ref["id"]]["score"] is not None]
    total = sum(ref["weight"] for ref in refs)
    return round(100 * sum(ref["weight"] * result["audits"][ref["id"]]["score"]
                           for ref in refs) / total)


def main() -> None:
    bundle()
    chromium = shutil.which("chromium")
    assert chromium, "Chromium (apt-get install chromium) is needed for Lighthouse"
    with tempfile.TemporaryDirectory() as data, tempfile.TemporaryDirectory() as tools:
        lighthouse = lighthouse_binary(tools)
        port = free_port()
        env = server_env(data, port)
        token, server = serve_with_token(env, port)
        try:
            pages = site(port, token)
            # Thumbnails are made by the job queue (one worker in `serve`): let it finish.
            time.sleep(5)
            cookie = session_cookie(port)
            print(f"\nLighthouse 12, scores out of 100 (target ≥ {TARGET_SCORE}); "
                  "perf / a11y / best practices / SEO")
            for name, path in pages.items():
                scores = []
                for preset in ("mobile", "desktop"):
                    report = Path(tools) / "report.json"
                    args = [lighthouse, f"http://127.0.0.1:{port}{path}", "--quiet",
                            "--output=json", f"--output-path={report}", f"--chrome-flags={FLAGS}",
                            "--only-categories=performance,accessibility,best-practices,seo",
                            "--extra-headers", json.dumps({"Cookie": cookie})]
                    if preset == "desktop":
                        args.append("--preset=desktop")
                    run = subprocess.run(args, env=dict(os.environ, CHROME_PATH=chromium),
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         text=True)
                    if run.returncode != 0:
                        lines = run.stderr.strip().splitlines() or ["no output"]
                        scores.append(f"{preset} failed: {lines[-1][:80]}")
                        continue
                    result = json.loads(report.read_text())
                    values = [category_score(result, c, noindex=path.startswith("/s/")) for c in
                              ("performance", "accessibility", "best-practices", "seo")]
                    low = [v for v in values if v < TARGET_SCORE]
                    scores.append(f"{preset} {'/'.join(map(str, values))}{' ✗' if low else ''}")
                print(f"  {name:14} {path[:30]:30} {'   '.join(scores)}")
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
