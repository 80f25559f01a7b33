#!/usr/bin/env bash
# Sign-in latency: what argon2id (m=19456 KiB, t=2, p=1) costs a person signing in.
# Starts the release build on a fresh data dir, creates an account, then times N sign-ins
# (server fn, the same request the form sends) beside N requests to /healthz in the same run.
#   make build && bench/sign-in.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-20}"
: "${CARGO_TARGET_DIR:=$HOME/.cache/pannier-target}"
BIN="$CARGO_TARGET_DIR/release/pannier"
DATA="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"
export PANNIER_DATA_DIR="$DATA" PANNIER_BIND="127.0.0.1:$PORT" PANNIER_SITE_ROOT=target/site PANNIER_LOG_LEVEL=warn
# These measure throughput from one address, far past what the rate-limit budgets give one
# client (bench/edge.py measures the limits themselves): turn the budgets and the cap on
# connections per address off.
export PANNIER_RATE_REQUESTS=0 PANNIER_RATE_UPLOADS=0 PANNIER_RATE_DOWNLOADS=0 PANNIER_RATE_SIGN_INS=0 PANNIER_MAX_CONNECTIONS_PER_ADDRESS=4096

echo "bench password" | "$BIN" user create --email bench@example.com --password-stdin >/dev/null
"$BIN" serve & PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 50); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.1; done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ms() { curl -s -o /dev/null -w '%{time_total}\n' "$@" | awk '{printf "%.1f\n", $1 * 1000}'; }

healthz=$(for _ in $(seq "$N"); do time_ms "$URL/healthz"; done | median)
sign_in=$(for _ in $(seq "$N"); do
  time_ms -X POST "$URL/api/sign_in" -H "origin: $URL" -H "accept: application/json" \
    --data-urlencode "email=bench@example.com" --data-urlencode "password=bench password"
done | median)
wrong=$(for _ in $(seq 5); do
  time_ms -X POST "$URL/api/sign_in" -H "origin: $URL" -H "accept: application/json" \
    --data-urlencode "email=nobody-$RANDOM@example.com" --data-urlencode "password=bench password"
done | median)

bad_password=$(for _ in $(seq 5); do
  time_ms -X POST "$URL/api/sign_in" -H "origin: $URL" -H "accept: application/json" \
    --data-urlencode "email=bench@example.com" --data-urlencode "password=not the password"
done | median)

printf 'sign-in (argon2id verify + session), median of %s: %6s ms\n' "$N" "$sign_in"
printf 'wrong password (argon2id verify), median of 5:   %6s ms\n' "$bad_password"
printf 'unknown email (dummy-hash verify), median of 5:  %6s ms\n' "$wrong"
printf 'reference: GET /healthz, median of %s:           %6s ms\n' "$N" "$healthz"
