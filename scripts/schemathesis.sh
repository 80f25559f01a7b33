#!/usr/bin/env bash
# Fuzzes the API with schemathesis against its own OpenAPI document, on the release build
# (SQLite + local disk), authenticated with a write token: no answer may be a 5xx and every
# answer must match its documented schema.
#   scripts/schemathesis.sh            a bounded run (make test): 25 examples per operation
#   scripts/schemathesis.sh 400        a long run: 400 per operation (≥ 10,000 cases)
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES="${1:-25}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pannier-target}"
BIN="$CARGO_TARGET_DIR/release/pannier"
ST="$HOME/.cache/pannier-venv/bin/schemathesis"
[ -x "$BIN" ] || { echo "build first: make build" >&2; exit 1; }
[ -x "$ST" ] || { echo "install the test tools first: scripts/bootstrap.sh test" >&2; exit 1; }

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
WORK="$(mktemp -d /tmp/pannier-schemathesis.XXXXXX)"
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export PANNIER_DATA_DIR="$WORK/data" PANNIER_BIND="127.0.0.1:$PORT" PANNIER_LOG_LEVEL=warn
export PANNIER_SITE_ROOT="$PWD/target/site" PANNIER_METRICS_BIND=""
# One client sends thousands of requests: the budgets would answer 429 long before the end.
export PANNIER_RATE_REQUESTS=0 PANNIER_RATE_UPLOADS=0 PANNIER_RATE_DOWNLOADS=0
echo "correct horse battery staple" | "$BIN" user create --email fuzz@example.com --password-stdin >/dev/null
TOKEN="$("$BIN" token create --email fuzz@example.com --name fuzz --scope write | grep -o 'pnr_[A-Za-z0-9_-]*')"
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
# Something to find: a folder and a file.
curl -fs -o /dev/null -H "Authorization: Bearer $TOKEN" -X PUT --data-binary 'hello' \
  "http://127.0.0.1:$PORT/api/v1/files?name=hello.txt"

echo "[schemathesis] $EXAMPLES examples per operation against http://127.0.0.1:$PORT"
status=0
PYTHONPATH="$PWD/scripts" SCHEMATHESIS_HOOKS=schemathesis_hooks "$ST" --no-color run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  --url "http://127.0.0.1:$PORT" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "$EXAMPLES" \
  --phases examples,coverage,fuzzing \
  --suppress-health-check all || status=$?
if grep -q "panicked" "$WORK/server.log"; then
  echo "[schemathesis] the server panicked:" >&2
  grep -A3 "panicked" "$WORK/server.log" >&2
  status=1
fi
exit "$status"
