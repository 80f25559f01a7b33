#!/usr/bin/env bash
# Upload and download speed of the release build on local disk, each beside its reference
# measured in the same run on the same disk:
#   - a 2 GiB upload (PUT, streamed) vs `dd` writing the same bytes (with fsync, as we do);
#     the server's peak RSS during the upload;
#   - a 2 GiB download vs nginx serving the same file (best of three each);
#   - 1,000 uploads of 4 KiB from 8 concurrent clients (files/s).
# Usage: make build && bench/files.sh        (SIZE_MB=512 bench/files.sh for a quicker run)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pannier-target}"
BIN="$CARGO_TARGET_DIR/release/pannier"
SIZE_MB="${SIZE_MB:-2048}"
[ -x "$BIN" ] || { echo "build first: make build" >&2; exit 1; }
command -v nginx >/dev/null || {
  echo "[bench] installing nginx (reference server)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
WORK="$(mktemp -d -p "$PWD/target" bench-files.XXXXXX)" # same disk as the data dir
PORT="$(free_port)"
NGINX_PORT="$(free_port)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

export PANNIER_DATA_DIR="$WORK/data" PANNIER_BIND="127.0.0.1:$PORT" PANNIER_LOG_LEVEL=warn
export PANNIER_MAX_FILE_SIZE=0 PANNIER_SITE_ROOT="$PWD/target/site"
# These measure throughput from one address, far past what the rate-limit budgets give one
# client (bench/edge.py measures the limits themselves): turn the budgets and the cap on
# connections per address off.
export PANNIER_RATE_REQUESTS=0 PANNIER_RATE_UPLOADS=0 PANNIER_RATE_DOWNLOADS=0 PANNIER_RATE_SIGN_INS=0 PANNIER_MAX_CONNECTIONS_PER_ADDRESS=4096
echo "correct horse battery staple" | "$BIN" user create --email bench@example.com --password-stdin >/dev/null
TOKEN="$("$BIN" token create --email bench@example.com --name bench --scope write | grep -o 'pnr_[A-Za-z0-9_-]*')"
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/api/v1"
AUTH="Authorization: Bearer $TOKEN"

echo "[bench] generating ${SIZE_MB} MiB of random bytes"
head -c "${SIZE_MB}M" /dev/urandom >"$WORK/source.bin"
mbps() { python3 -c "print(f'{$SIZE_MB / $1:8.0f} MiB/s')"; }

# dd: the same bytes to the same disk, fsynced at the end (the upload fsyncs before it answers).
sync
start=$(date +%s.%N)
dd if="$WORK/source.bin" of="$WORK/dd.out" bs=1M conv=fsync status=none
dd_secs=$(python3 -c "import time; print(time.time() - $start)")
rm -f "$WORK/dd.out"
sync

# Upload, sampling the server's RSS every 50 ms.
(peak=0; while kill -0 "$SERVER" 2>/dev/null; do
   rss=$(ps -o rss= -p "$SERVER" | tr -d ' '); [ "${rss:-0}" -gt "$peak" ] && peak=$rss && echo "$peak" >"$WORK/peak"
   sleep 0.05; done) &
SAMPLER=$!
PIDS+=("$SAMPLER")
upload_secs=$(curl -sS -T "$WORK/source.bin" -H "$AUTH" -o "$WORK/upload.json" -w "%{time_total}" "$URL/files?name=big.bin")
grep -q sha256 "$WORK/upload.json" || { echo "upload failed: $(cat "$WORK/upload.json")" >&2; exit 1; }
kill "$SAMPLER" 2>/dev/null || true
peak_kib=$(cat "$WORK/peak")
FILE_ID=$(python3 -c "import json; print(json.load(open('$WORK/upload.json'))['id'])")
sync

# Download through Pannier and the same file through nginx (sendfile), both to /dev/null;
# alternating, best of three each (single runs on 2 cores vary by ±20 %).
BLOB=$(find "$WORK/data/blobs" -type f | head -n1)
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
$( [ "$(id -u)" = 0 ] && echo "user root;" )  # the worker must read the data dir
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location = /big.bin { alias $BLOB; }
  }
}
EOF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
PIDS+=("$!")
for _ in $(seq 50); do curl -fs -o /dev/null -r 0-0 "http://127.0.0.1:$NGINX_PORT/big.bin" && break; sleep 0.1; done
best() { python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }
pannier_runs=() nginx_runs=()
for _ in 1 2 3; do
  pannier_runs+=("$(curl -fsS -H "$AUTH" -o /dev/null -w '%{time_total}' "$URL/files/$FILE_ID/content")")
  nginx_runs+=("$(curl -fsS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$NGINX_PORT/big.bin")")
done
pannier_dl=$(best "${pannier_runs[@]}")
nginx_dl=$(best "${nginx_runs[@]}")

# 1,000 × 4 KiB uploads, 8 clients with keep-alive connections.
small_rate=$(python3 - "$PORT" "$TOKEN" <<'EOF'
import http.client, os, sys, threading, time
port, token = int(sys.argv[1]), sys.argv[2]
body = os.urandom(4096)
failures = []
def client(n):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(125):
        conn.request("PUT", f"/api/v1/files?name=small-{n}-{i}.bin", body, {"Authorization": f"Bearer {token}"})
        response = conn.getresponse(); response.read()
        if response.status != 201: failures.append(response.status)
threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
start = time.time()
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.time() - start
if failures: sys.exit(f"{len(failures)} uploads failed: {failures[:5]}")
print(f"{1000 / elapsed:.0f}")
EOF
)

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
echo
echo "Pannier files benchmark — ${SIZE_MB} MiB, local disk, $(nproc) cores"
printf '  %-34s %s   (reference: dd conv=fsync %s; ratio %s, target ≥ 0.80)\n' \
  "upload (PUT, streamed, SHA-256)" "$(mbps "$upload_secs")" "$(mbps "$dd_secs")" "$(ratio "$dd_secs" "$upload_secs")"
printf '  %-34s %s MiB      (target < 80 MiB)\n' "server peak RSS during upload" "$((peak_kib / 1024))"
printf '  %-34s %s   (reference: nginx sendfile %s; ratio %s, target ≥ 0.80)\n' \
  "download (GET content, best of 3)" "$(mbps "$pannier_dl")" "$(mbps "$nginx_dl")" "$(ratio "$nginx_dl" "$pannier_dl")"
printf '  %-34s %s files/s\n' "1,000 × 4 KiB uploads, 8 clients" "$small_rate"
