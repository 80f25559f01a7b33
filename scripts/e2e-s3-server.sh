#!/usr/bin/env bash
# The second server Playwright tests against: the release build on S3 (a throwaway s3s-fs
# started here) with direct-to-S3 uploads on. Started and stopped by end2end/playwright.config.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/pannier-target}"
DATA=end2end/.data-s3
S3_PORT="${E2E_S3_PORT:-3102}"
rm -rf "$DATA" && mkdir -p "$DATA/s3/pannier" # s3s-fs: a bucket is a directory
"$HOME/.cargo/bin/s3s-fs" --host 127.0.0.1 --port "$S3_PORT" \
  --access-key e2e-key --secret-key e2e-secret-key "$DATA/s3" >"$DATA/s3.log" 2>&1 &
S3_PID=$!
trap 'kill "$S3_PID" 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/" && break; sleep 0.1; done
export PANNIER_BIND="127.0.0.1:${E2E_DIRECT_PORT:-3101}"
export PANNIER_DATA_DIR="$DATA/app"
export PANNIER_SITE_ROOT=target/site
# Every journey runs from 127.0.0.1 within a minute or two: ~15 sign-ups and thousands of page,
# asset and API requests from one address, more than the defaults allow one person.
export PANNIER_RATE_SIGN_UPS=1000 PANNIER_RATE_REQUESTS=100000
# error: s3s-fs lacks ListMultipartUploads, which the janitor warns about at start.
export PANNIER_LOG_LEVEL="${PANNIER_LOG_LEVEL:-error}"
export PANNIER_STORAGE=s3 PANNIER_S3_ENDPOINT="http://127.0.0.1:$S3_PORT" PANNIER_S3_BUCKET=pannier
export PANNIER_S3_ACCESS_KEY=e2e-key PANNIER_S3_SECRET_KEY=e2e-secret-key PANNIER_S3_PATH_STYLE=true
export PANNIER_S3_PART_SIZE=8MiB PANNIER_S3_DIRECT_UPLOADS=true
BIN="$CARGO_TARGET_DIR/release/pannier"
# A new instance has no admin and is invite-only: the journeys sign up accounts of their own.
"$BIN" user create --email admin@e2e.test --admin --password-stdin <<<"e2e admin passphrase" >/dev/null
"$BIN" registration open >/dev/null
"$BIN" serve
