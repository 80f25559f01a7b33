#!/usr/bin/env bash
# Streamed zips of a share, beside their reference measured in the same run: a folder of
# 1,000 files totalling 2 GiB downloaded as one zip (`/s/{slug}/zip`) vs the same bytes as one
# 2 GiB file (`/api/v1/files/{id}/content`), best of five each, alternating; the server's peak
# RSS while zipping. On local disk, then on S3 (a throwaway s3s-fs).
# Usage: make build && bench/shares.sh        (SIZE_MB=512 FILES=250 for a quicker run)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pannier-target}"
BIN="$CARGO_TARGET_DIR/release/pannier"
SIZE_MB="${SIZE_MB:-2048}"
FILES="${FILES:-1000}"
[ -x "$BIN" ] || { echo "build first: make build" >&2; exit 1; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
WORK="$(mktemp -d -p "$PWD/target" bench-shares.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "[bench] generating ${SIZE_MB} MiB of random bytes in ${FILES} files"
head -c "${SIZE_MB}M" /dev/urandom >"$WORK/whole.bin"
mkdir -p "$WORK/parts"
split -n "$FILES" -d -a 4 "$WORK/whole.bin" "$WORK/parts/part-"

# Uploads the parts over 8 keep-alive connections into folder $3.
cat >"$WORK/upload.py" <<'EOF'
import http.client, os, sys, threading
port, token, folder, parts = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
names = sorted(os.listdir(parts))
failures = []
def client(mine):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for name in mine:
        with open(os.path.join(parts, name), "rb") as f:
            conn.request("PUT", f"/api/v1/files?name={name}&folder_id={folder}", f.read(), {"Authorization": f"Bearer {token}"})
        response = conn.getresponse(); response.read()
        if response.status != 201: failures.append(response.status)
threads = [threading.Thread(target=client, args=(names[n::8],)) for n in range(8)]
for t in threads: t.start()
for t in threads: t.join()
if failures: sys.exit(f"{len(failures)} uploads failed: {failures[:5]}")
EOF

# Runs one backend; prints "single_secs zip_secs peak_kib".
run() {
  local name=$1 port data
  port="$(free_port)"
  data="$WORK/$name"
  mkdir -p "$data"
  export PANNIER_DATA_DIR="$data/app" PANNIER_BIND="127.0.0.1:$port" PANNIER_LOG_LEVEL=warn
  export PANNIER_MAX_FILE_SIZE=0 PANNIER_SITE_ROOT="$PWD/target/site"
  # These measure throughput from one address, far past what the rate-limit budgets give one
  # client (bench/edge.py measures the limits themselves): turn the budgets and the cap on
  # connections per address off.
  export PANNIER_RATE_REQUESTS=0 PANNIER_RATE_UPLOADS=0 PANNIER_RATE_DOWNLOADS=0 PANNIER_RATE_SIGN_INS=0 PANNIER_MAX_CONNECTIONS_PER_ADDRESS=4096
  echo "correct horse battery staple" | "$BIN" user create --email bench@example.com --password-stdin >/dev/null
  local token
  token="$("$BIN" token create --email bench@example.com --name bench --scope write | grep -o 'pnr_[A-Za-z0-9_-]*')"
  "$BIN" serve >"$data/server.log" 2>&1 &
  local server=$!
  PIDS+=("$server")
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  local url="http://127.0.0.1:$port" auth="Authorization: Bearer $token"
  local folder
  folder=$(curl -fsS -H "$auth" -H 'content-type: application/json' -d '{"name": "bench"}' "$url/api/v1/folders" \
    | python3 -c "import json, sys; print(json.load(sys.stdin)['id'])")
  python3 "$WORK/upload.py" "$port" "$token" "$folder" "$WORK/parts"
  local file
  file=$(curl -fsS -T "$WORK/whole.bin" -H "$auth" "$url/api/v1/files?name=whole.bin" \
    | python3 -c "import json, sys; print(json.load(sys.stdin)['id'])")
  local slug
  slug=$(curl -fsS -H "$auth" -H 'content-type: application/json' -d "{\"folder_id\": \"$folder\"}" "$url/api/v1/shares" \
    | python3 -c "import json, sys; print(json.load(sys.stdin)['slug'])")
  # A fresh process, so the peak RSS is the downloads' own (not what the uploads left).
  kill "$server"; wait "$server" 2>/dev/null || true
  "$BIN" serve >>"$data/server.log" 2>&1 &
  server=$!
  PIDS+=("$server")
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  (peak=0; while kill -0 "$server" 2>/dev/null; do
     rss=$(ps -o rss= -p "$server" | tr -d ' '); [ "${rss:-0}" -gt "$peak" ] && peak=$rss && echo "$peak" >"$data/peak"
     sleep 0.05; done) &
  local sampler=$!
  PIDS+=("$sampler")
  local single=() zip=() expected actual
  for _ in 1 2 3 4 5; do
    single+=("$(curl -fsS -H "$auth" -o /dev/null -w '%{time_total}' "$url/api/v1/files/$file/content")")
    read -r secs actual expected < <(curl -fsS -o /dev/null -w '%{time_total} %{size_download} %header{content-length}\n' "$url/s/$slug/zip")
    [ "$actual" = "$expected" ] || { echo "zip: $actual bytes, announced $expected" >&2; exit 1; }
    zip+=("$secs")
  done
  kill "$sampler" 2>/dev/null || true
  echo "$(python3 -c "import sys; print(min(map(float, sys.argv[1:])))" "${single[@]}") \
$(python3 -c "import sys; print(min(map(float, sys.argv[1:])))" "${zip[@]}") $(cat "$data/peak")"
  kill "$server"; wait "$server" 2>/dev/null || true
}

run local >"$WORK/local.out"
read -r local_single local_zip local_peak <"$WORK/local.out"

S3_PORT="$(free_port)"
mkdir -p "$WORK/s3/pannier"
"$HOME/.cargo/bin/s3s-fs" --host 127.0.0.1 --port "$S3_PORT" --access-key bench --secret-key bench-secret "$WORK/s3" >"$WORK/s3.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/" && break; sleep 0.1; done
export PANNIER_STORAGE=s3 PANNIER_S3_ENDPOINT="http://127.0.0.1:$S3_PORT" PANNIER_S3_BUCKET=pannier
export PANNIER_S3_ACCESS_KEY=bench PANNIER_S3_SECRET_KEY=bench-secret PANNIER_S3_PATH_STYLE=true
run s3 >"$WORK/s3.out"
read -r s3_single s3_zip s3_peak <"$WORK/s3.out"

row() { # name single zip peak
  python3 -c "
name, single, zip, peak = '$1', $2, $3, $4
mb = $SIZE_MB
print(f'  {name:<10} one file {mb / single:7.0f} MiB/s   zip of $FILES {mb / zip:7.0f} MiB/s   ({single / zip:.2f}×; target ≥ 0.7×)   peak RSS {peak // 1024} MiB (target < 100)')"
}
echo
echo "Pannier share zips, release build, $(nproc) cores, ${SIZE_MB} MiB in ${FILES} files, best of 5"
row "local disk" "$local_single" "$local_zip" "$local_peak"
row "S3 (s3s-fs)" "$s3_single" "$s3_zip" "$s3_peak"
