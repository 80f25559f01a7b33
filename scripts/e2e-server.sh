#!/usr/bin/env bash
# The server Playwright tests against: the release build on a fresh data dir (started by
# end2end/playwright.config.ts, which waits for /healthz and stops it afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/pannier-target}"
DATA=end2end/.data
rm -rf "$DATA" && mkdir -p "$DATA"
export PANNIER_BIND="127.0.0.1:${E2E_PORT:-3100}"
export PANNIER_DATA_DIR="$DATA"
export PANNIER_SITE_ROOT=target/site
# Every journey runs from 127.0.0.1 within a minute or two: ~15 sign-ups and thousands of page,
# asset and API requests from one address, more than the defaults allow one person.
export PANNIER_RATE_SIGN_UPS=1000 PANNIER_RATE_REQUESTS=100000
export PANNIER_LOG_LEVEL="${PANNIER_LOG_LEVEL:-warn}"
BIN="$CARGO_TARGET_DIR/release/pannier"
# A new instance has no admin and is invite-only: the journeys sign up accounts of their own.
"$BIN" user create --email admin@e2e.test --admin --password-stdin <<<"e2e admin passphrase" >/dev/null
"$BIN" registration open >/dev/null
exec "$BIN" serve
