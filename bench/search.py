#!/usr/bin/env python3
"""Search at a million files: p50/p99 of 1,000 as-you-type queries through `GET
/api/v1/search`, beside a naive `LIKE '%q%'` scan of the same table in the same run.

The corpus — 1,000,000 files for one account in realistic trees (names from word lists, with
extensions, dates in names, some accented and non-Latin words) plus 100,000 of another
account — is written straight into the database (not through HTTP), then indexed by `pannier
search reindex` (its time is the "time to index the million"; on SQLite the search triggers are
set aside for the load). Then the cost of keeping the index: small-file uploads per second with
it and without it. SQLite always; PostgreSQL too when the run has one (`TEST_DATABASE_URL`,
as `scripts/with-services.sh` gives):

    make build && scripts/with-services.sh bench/search.py [--files 1000000] [--keep] [--no-uploads]
"""

import argparse
import csv
import datetime
import io
import http.client
import json
import os
import re
import random
import sqlite3
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

from common import BIN, ROOT, free_port, percentile, serve_with_token, server_env, wait_for
from fast import NO_BUDGETS, files_per_second

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


NOW = "2026-11-30T00:00:00+00:00"
FIRST_UPLOAD = datetime.datetime(2015, 1, 1, tzinfo=datetime.timezone.utc)
LAST_UPLOAD = datetime.datetime(2026, 11, 29, tzinfo=datetime.timezone.utc)


def corpus(owner: uuid.UUID, other: uuid.UUID, files: int):
    """("folder", id, owner, parent, name) and ("file", id, owner, folder, name, size, type,
    stamp) rows, the same for every engine."""
    rng = random.Random(42)
    for account, count in ((owner, files), (other, files // 10)):
        root = uuid.uuid4()
        yield ("folder", root, account, None, "")
        folders = [root]
        for i in range(max(count // 200, 1)):
            folder = uuid.uuid4()
            yield ("folder", folder, account, rng.choice(folders), f"{rng.choice(WORDS)} {i}")
            folders.append(folder)
        for i in range(count):
            ext_name = name(rng)
            # Uploaded over the years in order, as a real account fills (rows are written in
            # the order they came, which is also newest last on disk).
            stamp = (FIRST_UPLOAD + (LAST_UPLOAD - FIRST_UPLOAD) * (i / count)).isoformat()
            yield ("file", uuid.uuid4(), account, rng.choice(folders), f"{i}-{ext_name}",
                   rng.randint(100, 50_000_000), TYPES[ext_name.rsplit(".", 1)[1]], stamp)


def load_sqlite(db: Path, owner: uuid.UUID, other: uuid.UUID, files: int) -> float:
    """Writes the corpus; seconds."""
    started = time.monotonic()
    con = sqlite3.connect(db)
    # Random ids land on random index pages: with SQLite's 2 MB default cache each insert
    # reads and spills pages (tens of GB of I/O for the million).
    con.execute("PRAGMA cache_size = -2000000")
    triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                           "AND name LIKE 'search_%'").fetchall()
    for trigger, _ in triggers:
        con.execute(f"DROP TRIGGER {trigger}")
    rows = []
    for row in corpus(owner, other, files):
        if row[0] == "folder":
            _, id_, account, parent, label = row
            con.execute("INSERT INTO folders (id, owner_id, parent_id, name, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (id_.bytes, account.bytes, parent.bytes if parent else None, label, NOW, NOW))
            continue
        _, id_, account, folder, label, size, kind, stamp = row
        rows.append((id_.bytes, account.bytes, folder.bytes, label, size, kind, "0" * 64,
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


def psql(url: str, sql: str, stdin: str | None = None) -> str:
    return subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                          input=stdin, check=True, capture_output=True, text=True).stdout


def load_postgres(url: str, owner: uuid.UUID, other: uuid.UUID, files: int) -> float:
    """Writes the corpus with COPY; seconds."""
    started = time.monotonic()
    folders, rows = io.StringIO(), io.StringIO()
    folder_csv, file_csv = csv.writer(folders), csv.writer(rows)
    for row in corpus(owner, other, files):
        if row[0] == "folder":
            _, id_, account, parent, label = row
            folder_csv.writerow([id_, account, parent or "", label, NOW, NOW])
        else:
            _, id_, account, folder, label, size, kind, stamp = row
            file_csv.writerow([id_, account, folder, label, size, kind, "0" * 64, uuid.uuid4().hex,
                               "", stamp, stamp])
    psql(url, "\\copy folders (id, owner_id, parent_id, name, created_at, updated_at) "
              "FROM pstdin WITH (FORMAT csv, FORCE_NOT_NULL (name))", folders.getvalue())
    psql(url, "\\copy files (id, owner_id, folder_id, name, size, content_type, sha256, blob_key, "
              "description, created_at, updated_at) FROM pstdin WITH (FORMAT csv)", rows.getvalue())
    psql(url, "ANALYZE")
    return time.monotonic() - started


def queries(rng: random.Random) -> list[tuple[str, str]]:
    """As-you-type: prefixes of 1–3 words, substrings, and filters; (kind, query)."""
    out = []
    for _ in range(1000):
        kind = rng.random()
        word = rng.choice(WORDS)
        if kind < 0.3:
            out.append(("prefix", word[: rng.randint(2, len(word))]))
        elif kind < 0.5:
            out.append(("two words", f"{word} {rng.choice(WORDS)[:rng.randint(3, 5)]}"))
        elif kind < 0.65:
            start = rng.randint(0, max(len(word) - 3, 0))
            out.append(("substring", word[start:start + 3]))
        elif kind < 0.8:
            out.append(("word type:", f"{word} type:{rng.choice(['image', 'pdf', 'text', 'video'])}"))
        elif kind < 0.86:
            out.append(("word ext: modified:",
                        f"{word} ext:{rng.choice(EXTENSIONS)} modified:20{rng.randint(15, 26)}"))
        elif kind < 0.9:
            # A word of the name and a folder's (folders are "<word> <n>"): the paths phase.
            out.append(("word and folder", f"{word} {rng.choice(WORDS)[:4]} {rng.randint(0, 4999)}"))
        else:
            out.append(("three words", f"{word} {rng.choice(WORDS)} {rng.choice(WORDS)[:3]}"))
    return out


def measure(env: dict, token: str, port: int) -> tuple[list[tuple[float, str, str]], int]:
    """1,000 as-you-type queries through the API: (seconds, kind, query) of each, and how many
    found nothing."""
    server = subprocess.Popen([BIN, "serve"], env=env, stderr=subprocess.DEVNULL)
    wait_for(port)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies, empty = [], 0
        for kind, q in queries(random.Random(7)):
            path = "/api/v1/search?limit=20&q=" + urllib.parse.quote(q)
            begun = time.perf_counter()
            connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = connection.getresponse()
            body = response.read()
            latencies.append((time.perf_counter() - begun, kind, q))
            assert response.status == 200, (q, response.status, body[:200])
            empty += not json.loads(body)["hits"]
        return latencies, empty
    finally:
        server.terminate()
        server.wait()


def naive_words() -> list[str]:
    return [q.split()[0].lower() for _, q in queries(random.Random(7))[:100]]


def setup(env: dict) -> str:
    """The two accounts; the bench account's read token."""
    for email in ("bench@bench.test", "other@bench.test"):
        subprocess.run([BIN, "user", "create", "--email", email, "--password-stdin"],
                       input=b"bench account password", env=env, check=True, stdout=subprocess.DEVNULL)
    created = subprocess.run([BIN, "token", "create", "--email", "bench@bench.test", "--name", "b",
                              "--scope", "read"], env=env, check=True, capture_output=True, text=True).stdout
    return next(word for word in created.split() if word.startswith("pnr_"))


def reindex(env: dict) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run([BIN, "search", "reindex"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pannier search reindex failed: {done.stderr}")
    return time.monotonic() - started, done.stdout.strip()


def report(engine: str, files: int, loaded: float, indexed: float, out: str, size: str,
           measured: list[tuple[float, str, str]], empty: int, naive: list[float]) -> None:
    latencies = [seconds for seconds, _, _ in measured]
    print(f"{engine}: {files:,} files of one account + {files // 10:,} of another, loaded in "
          f"{loaded:.0f} s; `search reindex` ({out}) in {indexed:.1f} s; {size}")
    print(f"  1,000 queries through GET /api/v1/search: p50 {percentile(latencies, 0.5):.1f} ms, "
          f"p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies) * 1000:.0f} ms "
          f"({empty} found nothing)")
    for kind in dict.fromkeys(kind for _, kind, _ in measured):
        some = [seconds for seconds, of, _ in measured if of == kind]
        print(f"    {kind:<20} {len(some):>4} queries: p50 {percentile(some, 0.5):6.1f} ms, "
              f"p99 {percentile(some, 0.99):6.1f} ms")
    slowest = sorted(measured, reverse=True)[:8]
    print("    slowest: " + ", ".join(f"{q!r} {seconds * 1000:.0f} ms" for seconds, _, q in slowest))
    print(f"  reference, naive LIKE '%q%' scan of the same table (first word, 100 queries): "
          f"p50 {percentile(naive, 0.5):.1f} ms, p99 {percentile(naive, 0.99):.1f} ms")


def sqlite_run(files: int, keep: bool) -> None:
    work = Path(tempfile.mkdtemp(dir=ROOT / "target", prefix="bench-search."))
    port = free_port()
    env = server_env(str(work / "data"), port, PANNIER_RATE_REQUESTS="0", PANNIER_WORKERS="0")
    try:
        token = setup(env)
        db = work / "data/pannier.db"
        con = sqlite3.connect(db)
        owner, other = (uuid.UUID(bytes=row[0]) for row in con.execute("SELECT id FROM users ORDER BY email"))
        con.close()
        loaded = load_sqlite(db, owner, other, files)
        indexed, out = reindex(env)
        size = f"database {sum(p.stat().st_size for p in (work / 'data').glob('pannier.db*')) / 1e6:.0f} MB"
        latencies, empty = measure(env, token, port)
        con = sqlite3.connect(db)
        con.execute("PRAGMA cache_size = -2000000")  # the table in memory: a fair reference
        naive = []
        for word in naive_words():
            begun = time.perf_counter()
            con.execute("SELECT id FROM files WHERE owner_id = ? AND lower(name) LIKE ? "
                        "ORDER BY updated_at DESC LIMIT 20", (owner.bytes, f"%{word}%")).fetchall()
            naive.append(time.perf_counter() - begun)
        report("SQLite", files, loaded, indexed, out, size, latencies, empty, naive)
    finally:
        if keep:
            print(f"  kept: PANNIER_DATA_DIR={work / 'data'}")
        else:
            subprocess.run(["rm", "-rf", str(work)])


def new_database(admin_url: str) -> tuple[str, str]:
    """A fresh database on the server of `admin_url`: its name and URL."""
    name = f"pannier_bench_{uuid.uuid4().hex[:12]}"
    psql(admin_url, f"CREATE DATABASE {name}")
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


def settle(url: str) -> None:
    """Measures a running server's state, not the load's aftermath: the tables vacuumed (their
    first readers would set hint bits, and autovacuum would run during the queries) and a
    standby, if the server has one, done replaying the load (measured right after the load,
    three-word queries took p50 88 ms instead of 48)."""
    psql(url, "VACUUM (ANALYZE) files")
    psql(url, "VACUUM (ANALYZE) folders")
    lsn = psql(url, "SELECT pg_current_wal_lsn()").strip()
    for _ in range(600):
        behind = psql(url, f"SELECT count(*) FROM pg_stat_replication WHERE replay_lsn < '{lsn}'")
        if behind.strip() == "0":
            return
        time.sleep(0.5)
    raise SystemExit("the standby did not catch up in 5 minutes")


def postgres_run(admin_url: str, files: int, keep: bool) -> None:
    work = Path(tempfile.mkdtemp(dir=ROOT / "target", prefix="bench-search."))
    port = free_port()
    name, url = new_database(admin_url)
    env = server_env(str(work / "data"), port, PANNIER_RATE_REQUESTS="0", PANNIER_WORKERS="0",
                     PANNIER_DATABASE_URL=url)
    try:
        token = setup(env)
        owner, other = (uuid.UUID(line) for line in psql(url, "SELECT id FROM users ORDER BY email").split())
        loaded = load_postgres(url, owner, other, files)
        indexed, out = reindex(env)
        size = "indexes " + psql(url, "SELECT pg_size_pretty(sum(pg_relation_size(indexrelid))) FROM pg_index "
                                      "WHERE indrelid = 'files'::regclass").strip()
        settle(url)
        latencies, empty = measure(env, token, port)
        script = "".join(
            f"EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM files WHERE owner_id = '{owner}' AND "
            f"lower(name) LIKE '%{word.replace(chr(39), chr(39) * 2)}%' ORDER BY updated_at DESC LIMIT 20;\n"
            for word in naive_words())
        plans = subprocess.run(["psql", "-X", "-q", "-t", "-A", url], input=script, check=True,
                               capture_output=True, text=True).stdout
        naive = [float(t) / 1000 for t in re.findall(r'"Execution Time": ([0-9.]+)', plans)]
        report("PostgreSQL", files, loaded, indexed, out, size, latencies, empty, naive)
    finally:
        if keep:
            print(f"  kept: PANNIER_DATA_DIR={work / 'data'} PANNIER_DATABASE_URL={url}")
        else:
            subprocess.run(["rm", "-rf", str(work)])
            psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# What keeps the index, per engine: removed for the reference run of `upload_cost`.
UNINDEX_SQLITE = [f"DROP TRIGGER {trigger}" for trigger in (
    "search_files_insert", "search_files_rename", "search_files_describe", "search_files_delete",
    "search_texts_insert", "search_texts_update", "search_texts_delete", "search_folders_insert",
    "search_folders_update", "search_folders_delete")]
UNINDEX_POSTGRES = ["DROP INDEX idx_files_name_fold_trgm, idx_files_description_trgm, "
                    "idx_file_texts_tsv, idx_folders_name_trgm, idx_files_described",
                    "ALTER TABLE files DROP COLUMN name_fold"]


def upload_cost(admin_url: str | None) -> None:
    """Small-file uploads per second with the search index kept and, as the reference, with
    everything that keeps it removed — the same server binary, the same run."""
    rates = {}
    for indexed in (True, False):
        work = Path(tempfile.mkdtemp(dir=ROOT / "target", prefix="bench-search."))
        port = free_port()
        settings = dict(NO_BUDGETS, PANNIER_WORKERS="0")
        if admin_url:
            name, settings["PANNIER_DATABASE_URL"] = new_database(admin_url)
        env = server_env(str(work / "data"), port, **settings)
        token, server = serve_with_token(env, port)
        try:
            if not indexed:
                server.terminate()
                server.wait()
                if admin_url:
                    for statement in UNINDEX_POSTGRES:
                        psql(settings["PANNIER_DATABASE_URL"], statement)
                else:
                    con = sqlite3.connect(work / "data/pannier.db")
                    for statement in UNINDEX_SQLITE:
                        con.execute(statement)
                    con.commit()
                    con.close()
                server = subprocess.Popen([BIN, "serve"], env=env, stderr=subprocess.DEVNULL)
                wait_for(port)
            rates[indexed] = max(files_per_second(port, f"/api/v1/files?name=r{round}-{{name}}", token)
                                 for round in range(3))
        finally:
            server.terminate()
            server.wait()
            subprocess.run(["rm", "-rf", str(work)])
            if admin_url:
                psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    print(f"  uploads, 2,000 × 4 KiB by 8 clients (best of three): {rates[True]:.0f} files/s keeping "
          f"the index, {rates[False]:.0f} without it ({rates[True] / rates[False]:.2f}×)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true",
                        help="keep the data (and PostgreSQL database) to look into afterwards")
    parser.add_argument("--no-uploads", action="store_true",
                        help="skip the cost of the index per upload (queries only)")
    args = parser.parse_args()
    sqlite_run(args.files, args.keep)
    if not args.no_uploads:
        upload_cost(None)
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if admin_url:
        postgres_run(admin_url, args.files, args.keep)
        if not args.no_uploads:
            upload_cost(admin_url)
    else:
        print("PostgreSQL: not measured (run under scripts/with-services.sh)")
    print("target: p99 < 50 ms on both")


if __name__ == "__main__":
    main()
