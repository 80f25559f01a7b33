#!/usr/bin/env python3
"""Search at a million files: p50/p99 of 1,000 as-you-type queries through `GET
/api/v1/search`, beside a naive `LIKE '%q%'` scan of the same table in the same run.

The corpus — 1,000,000 files for one account in realistic trees (names from word lists, with
extensions, dates in names, some accented and non-Latin words) plus 100,000 of another
account — is written straight into the database (not through HTTP): the search triggers are
set aside for the load and the index is then built by `pannier search reindex` (its time is
the "time to index the million"). SQLite here; PostgreSQL is the next step of the search work.

    make build && bench/search.py [--files 1000000]
"""

import argparse
import http.client
import json
import os
import random
import sqlite3
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

from common import BIN, ROOT, free_port, percentile, server_env, wait_for

WORDS = ("invoice report budget meeting notes holiday photo scan contract draft final summary "
         "project plan agenda minutes receipt statement letter memo proposal design sketch "
         "backup archive export import music track album video clip lecture slides thesis "
         "chapter résumé café naïve jalapeño façade smörgåsbord straße Привет 東京 garden "
         "kitchen mountain river ocean forest city family wedding birthday travel").split()
EXTENSIONS = ["pdf", "jpg", "png", "txt", "md", "docx", "xlsx", "mp4", "mp3", "zip", "csv", "heic"]
TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png", "txt": "text/plain",
         "md": "text/markdown", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "mp4": "video/mp4", "mp3": "audio/mpeg", "zip": "application/zip", "csv": "text/csv",
         "heic": "image/heic"}


def name(rng: random.Random) -> str:
    words = rng.sample(WORDS, rng.randint(1, 3))
    if rng.random() < 0.4:
        words.append(f"{rng.randint(2015, 2026)}-{rng.randint(1, 12):02}")
    return "-".join(words) + "." + rng.choice(EXTENSIONS)


def load(db: Path, owner: bytes, other: bytes, files: int) -> float:
    """Writes the corpus; seconds."""
    started = time.monotonic()
    con = sqlite3.connect(db)
    triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                           "AND name LIKE 'search_%'").fetchall()
    for trigger, _ in triggers:
        con.execute(f"DROP TRIGGER {trigger}")
    now = "2026-11-30T00:00:00.000000000+00:00"
    rng = random.Random(42)
    for account, count in ((owner, files), (other, files // 10)):
        root = uuid.uuid4().bytes
        con.execute("INSERT INTO folders (id, owner_id, parent_id, name, created_at, updated_at) "
                    "VALUES (?, ?, NULL, '', ?, ?)", (root, account, now, now))
        folders = [root]
        for i in range(max(count // 200, 1)):
            folder = uuid.uuid4().bytes
            con.execute("INSERT INTO folders (id, owner_id, parent_id, name, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (folder, account, rng.choice(folders), f"{rng.choice(WORDS)} {i}", now, now))
            folders.append(folder)
        rows = []
        for i in range(count):
            ext_name = name(rng)
            stamp = f"20{rng.randint(15, 26)}-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}T12:00:00.000000000+00:00"
            rows.append((uuid.uuid4().bytes, account, rng.choice(folders), f"{i}-{ext_name}",
                         rng.randint(100, 50_000_000), TYPES[ext_name.rsplit(".", 1)[1]], "0" * 64,
                         uuid.uuid4().hex, None, stamp, stamp))
            if len(rows) == 50_000:
                con.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                rows.clear()
        con.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    for _, sql in triggers:
        con.execute(sql)
    con.commit()
    con.close()
    return time.monotonic() - started


def queries(rng: random.Random) -> list[str]:
    """As-you-type: prefixes of 1–3 words, substrings, and filters."""
    out = []
    for _ in range(1000):
        kind = rng.random()
        word = rng.choice(WORDS)
        if kind < 0.3:
            out.append(word[: rng.randint(2, len(word))])
        elif kind < 0.5:
            out.append(f"{word} {rng.choice(WORDS)[:rng.randint(3, 5)]}")
        elif kind < 0.65:
            start = rng.randint(0, max(len(word) - 3, 0))
            out.append(word[start:start + 3])
        elif kind < 0.8:
            out.append(f"{word} type:{rng.choice(['image', 'pdf', 'text', 'video'])}")
        elif kind < 0.9:
            out.append(f"{word} ext:{rng.choice(EXTENSIONS)} modified:20{rng.randint(15, 26)}")
        else:
            out.append(f"{word} {rng.choice(WORDS)} {rng.choice(WORDS)[:3]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(dir=ROOT / "target", prefix="bench-search."))
    port = free_port()
    env = server_env(str(work / "data"), port, PANNIER_RATE_REQUESTS="0", PANNIER_WORKERS="0")
    subprocess.run([BIN, "user", "create", "--email", "bench@bench.test", "--password-stdin"],
                   input=b"bench account password", env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([BIN, "user", "create", "--email", "other@bench.test", "--password-stdin"],
                   input=b"bench account password", env=env, check=True, stdout=subprocess.DEVNULL)
    created = subprocess.run([BIN, "token", "create", "--email", "bench@bench.test", "--name", "b",
                              "--scope", "read"], env=env, check=True, capture_output=True, text=True).stdout
    token = next(word for word in created.split() if word.startswith("pnr_"))
    db = work / "data/pannier.db"
    con = sqlite3.connect(db)
    owner, other = (row[0] for row in con.execute("SELECT id FROM users ORDER BY email"))
    con.close()
    loaded = load(db, owner, other, args.files)
    started = time.monotonic()
    out = subprocess.run([BIN, "search", "reindex"], env=env, check=True, capture_output=True, text=True).stdout
    indexed = time.monotonic() - started
    size = sum(p.stat().st_size for p in (work / "data").glob("pannier.db*"))
    print(f"corpus: {args.files:,} files of one account + {args.files // 10:,} of another, loaded in "
          f"{loaded:.0f} s; `search reindex` ({out.strip()}) in {indexed:.1f} s; database {size / 1e6:.0f} MB")
    con = sqlite3.connect(db)
    fts_pages = con.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_%'").fetchone()[0] \
        if con.execute("SELECT 1 FROM pragma_compile_options WHERE compile_options = 'ENABLE_DBSTAT_VTAB'").fetchone() else None
    if fts_pages:
        print(f"index: {fts_pages / 1e6:.0f} MB")

    server = subprocess.Popen([BIN, "serve"], env=env, stderr=subprocess.DEVNULL)
    wait_for(port)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies, empty = [], 0
        for q in queries(random.Random(7)):
            path = "/api/v1/search?limit=20&q=" + urllib.parse.quote(q)
            begun = time.perf_counter()
            connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = connection.getresponse()
            body = response.read()
            latencies.append(time.perf_counter() - begun)
            assert response.status == 200, (q, response.status, body[:200])
            empty += not json.loads(body)["hits"]
        naive = []
        for q in queries(random.Random(7))[:100]:
            word = q.split()[0].lower()
            begun = time.perf_counter()
            con.execute("SELECT id FROM files WHERE owner_id = ? AND lower(name) LIKE ? "
                        "ORDER BY updated_at DESC LIMIT 20", (owner, f"%{word}%")).fetchall()
            naive.append(time.perf_counter() - begun)
        print(f"1,000 queries through GET /api/v1/search: p50 {percentile(latencies, 0.5):.1f} ms, "
              f"p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies) * 1000:.0f} ms "
              f"({empty} found nothing)")
        print(f"reference, naive LIKE '%q%' scan of the same table (first word, 100 queries): "
              f"p50 {percentile(naive, 0.5):.1f} ms, p99 {percentile(naive, 0.99):.1f} ms")
        print("target: p99 < 50 ms")
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
