#!/usr/bin/env bash
# Idempotent bootstrap: installs every tool the build and the tests need, only when missing.
#   scripts/bootstrap.sh run    tools for `make run` / `make dev`
#   scripts/bootstrap.sh test   plus the test tools (Chromium, Playwright, PostgreSQL server)
# Facts behind each step are in the shared TOOLING.md notes (measured on this kind of machine).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${1:-run}"
CARGO_LEPTOS_VERSION="0.3.11"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1;34m[bootstrap]\033[0m %s\n' "$*"; }

have() { command -v "$1" >/dev/null 2>&1; }

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "apt: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# Rust toolchain and the WASM target (rust-toolchain.toml pins the channel).
TOOLCHAIN="$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)"
rustup toolchain list | grep -q "^$TOOLCHAIN" \
  || rustup toolchain install "$TOOLCHAIN" --profile minimal -c rustfmt,clippy
rustup target list --installed --toolchain "$TOOLCHAIN" | grep -q wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown --toolchain "$TOOLCHAIN"
rustup component list --installed --toolchain "$TOOLCHAIN" | grep -q clippy \
  || rustup component add rustfmt clippy --toolchain "$TOOLCHAIN"

# cargo-leptos: `cargo install --locked` fails on 1.95 (its lock wants a newer
# cargo-util-schemas), so unpack the published crate and pin that one dependency.
if ! have cargo-leptos || ! cargo-leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (one-time, ~25 min)"
  cargo info "cargo-leptos@$CARGO_LEPTOS_VERSION" >/dev/null
  crate="$(find "$HOME/.cargo/registry/cache" -name "cargo-leptos-$CARGO_LEPTOS_VERSION.crate" | head -n1)"
  tmp="$(mktemp -d)"
  tar -xzf "$crate" -C "$tmp"
  (
    cd "$tmp/cargo-leptos-$CARGO_LEPTOS_VERSION"
    cargo update -p cargo-util-schemas --precise 0.14.1
    env -u CARGO_TARGET_DIR cargo install --locked --path .
  )
  rm -rf "$tmp"
fi

# wasm-bindgen-cli must match the wasm-bindgen version in Cargo.lock exactly.
WB_VERSION="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' Cargo.lock)"
if ! have wasm-bindgen || ! wasm-bindgen --version | grep -q "$WB_VERSION"; then
  log "installing wasm-bindgen-cli $WB_VERSION"
  env -u CARGO_TARGET_DIR cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

# npm: Tailwind v4 CLI and binaryen (wasm-opt) for cargo-leptos. `npm install`, not `npm ci`.
if [ ! -x node_modules/.bin/tailwindcss ] || [ ! -x node_modules/.bin/wasm-opt ] \
  || [ package.json -nt node_modules/.package-lock.json ]; then
  log "npm install (tailwind, binaryen)"
  npm install --no-audit --no-fund --loglevel=error
fi

if [ "$MODE" = "test" ]; then
  apt_install chromium postgresql curl python3-venv
  # Previews of video, audio (ffmpeg) and PDF (pdftoppm); ImageMagick is the thumbnail
  # benchmark's reference (bench/thumbnails.py).
  apt_install ffmpeg poppler-utils imagemagick
  # Scale-out: Redis shared by instances, nginx as their load balancer (deploy/nginx.conf is
  # checked with `nginx -t`), wrk for the cluster test's load. systemd-analyze checks the units.
  apt_install redis-server nginx wrk systemd
  # The S3 server the tests run against (0.15+ need a newer rustc).
  if ! have s3s-fs; then
    log "installing s3s-fs 0.14.1 (one-time, ~4 min)"
    env -u CARGO_TARGET_DIR cargo install --locked s3s-fs@0.14.1 --features binary
  fi
  # Python tools of the tests, in a venv outside the clone: schemathesis (API fuzzing against
  # the OpenAPI document) and prometheus-client (its parser reads /metrics in the tests).
  VENV="$HOME/.cache/pannier-venv"
  if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "4.32.5" \
    || ! "$VENV/bin/python" -c 'import prometheus_client' 2>/dev/null; then
    log "python venv: schemathesis, prometheus-client"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "schemathesis==4.32.5" "prometheus-client==0.26.0"
  fi
  if [ ! -d end2end/node_modules/@playwright/test ] \
    || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    log "npm ci in end2end (Playwright, no browser download)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
log "ready ($MODE)"
