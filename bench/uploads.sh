#!/usr/bin/env bash
# Resumable uploads (tus) on the release build, local disk, beside their reference measured in
# the same run:
#   - a 4 GiB upload through tus in 16 MiB PATCHes vs the simple streaming PUT of the same
#     file (target ≥ 0.7×), and the server's peak RSS during the tus upload (target < 100 MiB);
#   - resume after `kill -9`: the server is killed mid-upload, started again, the client asks
#     for the offset and continues, and the stored file's SHA-256 must match the source.
# Usage: make build && bench/uploads.sh        (SIZE_MB=1024 bench/uploads.sh for a quicker run)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pannier-target}"
BIN="$CARGO_TARGET_DIR/release/pannier"
SIZE_MB="${SIZE_MB:-4096}"
CHUNK_MB="${CHUNK_MB:-16}"
[ -x "$BIN" ] || { echo "build first: make build" >&2; exit 1; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
WORK="$(mktemp -d -p "$PWD/target" bench-uploads.XXXXXX)" # same disk as the data dir
PORT="$(free_port)"
SERVER=""
SAMPLER=""
cleanup() {
  for pid in $SAMPLER $SERVER; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
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
start_server() {
  "$BIN" serve >>"$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.1; done
  echo "server did not start" >&2; exit 1
}
start_server
URL="http://127.0.0.1:$PORT/api/v1"
AUTH="Authorization: Bearer $TOKEN"

# A tus client on the standard library: creates (or continues) an upload and PATCHes the file
# in chunks over one keep-alive connection. Continuing, it asks for the offset (HEAD) and waits
# out a 409 (the killed server's hold on the upload lapses) as real clients do.
# Prints "<upload path> <file id or -> <seconds>".
cat >"$WORK/tus.py" <<'EOF'
import base64, http.client, os, sys, time
port, token, path, chunk = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]) << 20
location = sys.argv[5] if len(sys.argv) > 5 else None
size = os.path.getsize(path)
headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
conn = http.client.HTTPConnection("127.0.0.1", port)
start = time.time()

def ask(method, url, body=None, extra={}):
    conn.request(method, url, body=body, headers={**headers, **extra})
    response = conn.getresponse(); response.read()
    return response

if location is None:
    name = base64.b64encode(os.path.basename(path).encode()).decode()
    response = ask("POST", "/api/v1/uploads", extra={"Upload-Length": str(size), "Upload-Metadata": f"filename {name}"})
    assert response.status == 201, response.status
    location, offset = response.getheader("Location"), 0
else:
    offset = int(ask("HEAD", location).getheader("Upload-Offset"))
    print(f"resuming at {offset}", file=sys.stderr)
file_id, waited, interrupted = "-", 0.0, None
with open(path, "rb") as source:
    while offset < size:
        source.seek(offset)
        body = source.read(chunk)
        try:
            response = ask("PATCH", location, body, {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
            busy = response.status == 409
        except (ConnectionError, http.client.HTTPException) as err:
            busy = True  # a 409 sent before the body was read closes the connection
            interrupted = err
        if busy and waited < 60:
            time.sleep(1); waited += 1
            conn.close(); conn = http.client.HTTPConnection("127.0.0.1", port)
            try:
                offset = int(ask("HEAD", location).getheader("Upload-Offset"))
            except (ConnectionError, http.client.HTTPException):
                print(f"interrupted at {offset}: {interrupted!r}", file=sys.stderr)
                break
            continue
        assert response.status == 204, response.status
        offset = int(response.getheader("Upload-Offset"))
        file_id = response.getheader("Pannier-File-Id") or "-"
if waited:
    print(f"waited {waited:.0f} s for the upload to be free", file=sys.stderr)
print(location, file_id, time.time() - start)
EOF

echo "[bench] generating ${SIZE_MB} MiB of random bytes"
head -c "${SIZE_MB}M" /dev/urandom >"$WORK/source.bin"
SOURCE_SHA=$(sha256sum "$WORK/source.bin" | cut -d' ' -f1)
mbps() { python3 -c "print(f'{$1 / $2:8.0f} MiB/s')"; }
delete_file() { curl -fsS -X DELETE -H "$AUTH" "$URL/files/$1" >/dev/null; }

# The reference: the simple streaming route, same bytes, same disk.
sync
simple_secs=$(curl -sS -T "$WORK/source.bin" -H "$AUTH" -o "$WORK/simple.json" -w "%{time_total}" "$URL/files?name=simple.bin")
grep -q "$SOURCE_SHA" "$WORK/simple.json" || { echo "simple upload failed: $(cat "$WORK/simple.json")" >&2; exit 1; }
delete_file "$(python3 -c "import json; print(json.load(open('$WORK/simple.json'))['id'])")"
sync

# tus, sampling the server's RSS every 50 ms.
(peak=0; while kill -0 "$SERVER" 2>/dev/null; do
   rss=$(ps -o rss= -p "$SERVER" | tr -d ' '); [ "${rss:-0}" -gt "$peak" ] && peak=$rss && echo "$peak" >"$WORK/peak"
   sleep 0.05; done) &
SAMPLER=$!
read -r _ tus_file tus_secs < <(python3 "$WORK/tus.py" "$PORT" "$TOKEN" "$WORK/source.bin" "$CHUNK_MB")
kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""
peak_kib=$(cat "$WORK/peak")
tus_sha=$(curl -fsS -H "$AUTH" "$URL/files/$tus_file" | python3 -c "import json, sys; print(json.load(sys.stdin)['sha256'])")
[ "$tus_sha" = "$SOURCE_SHA" ] || { echo "tus upload stored the wrong bytes" >&2; exit 1; }
delete_file "$tus_file"
sync

# Resume after kill -9: stop the server hard once 40 % is stored, start it again, continue.
python3 "$WORK/tus.py" "$PORT" "$TOKEN" "$WORK/source.bin" "$CHUNK_MB" >"$WORK/first.out" 2>"$WORK/first.err" &
CLIENT=$!
target=$((SIZE_MB * 1024 * 1024 * 2 / 5))
for _ in $(seq 6000); do
  stored=$(find "$WORK/data/uploads" -type f -printf '%s\n' 2>/dev/null | head -n1)
  [ "${stored:-0}" -ge "$target" ] && break
  sleep 0.01
done
kill -9 "$SERVER"; wait "$SERVER" 2>/dev/null || true
wait "$CLIENT" || true
read -r location _ _ <"$WORK/first.out"
killed_at=$(grep -o 'interrupted at [0-9]*' "$WORK/first.err" | grep -o '[0-9]*$' || echo "?")
start_server
read -r _ resumed_file _ < <(python3 "$WORK/tus.py" "$PORT" "$TOKEN" "$WORK/source.bin" "$CHUNK_MB" "$location" 2>"$WORK/second.err")
resumed_at=$(grep -o 'resuming at [0-9]*' "$WORK/second.err" | grep -o '[0-9]*$')
waited=$(grep -o 'waited [0-9]* s' "$WORK/second.err" || echo "waited 0 s")
[ "$resumed_file" != "-" ] || { cat "$WORK/second.err" "$WORK/server.log" >&2; exit 1; }
resumed_sha=$(curl -fsS -H "$AUTH" "$URL/files/$resumed_file" | python3 -c "import json, sys; print(json.load(sys.stdin)['sha256'])")
verdict=$([ "$resumed_sha" = "$SOURCE_SHA" ] && echo "SHA-256 matches" || echo "SHA-256 WRONG")

echo
echo "Pannier resumable uploads, release build, local disk, $(nproc) cores, ${SIZE_MB} MiB file"
printf '  %-44s %s\n' "simple streaming PUT (reference)" "$(mbps "$SIZE_MB" "$simple_secs")"
printf '  %-44s %s   (%.2f× simple; target ≥ 0.7×)\n' "tus, ${CHUNK_MB} MiB PATCHes" "$(mbps "$SIZE_MB" "$tus_secs")" \
  "$(python3 -c "print($simple_secs / $tus_secs)")"
printf '  %-44s %6d MiB   (target < 100 MiB)\n' "server peak RSS during the tus upload" $((peak_kib / 1024))
printf '  %-44s %s\n' "kill -9 mid-upload, restart, continue" \
  "killed at ${killed_at} bytes, resumed at ${resumed_at} (${waited}): $verdict"
[ "$resumed_sha" = "$SOURCE_SHA" ]
