#!/usr/bin/env bash
# Fails if a server-only crate reaches the WASM bundle (scripts/wasm-budget.py weighs it).
set -euo pipefail
cd "$(dirname "$0")/.."

FORBIDDEN='^(sea-orm|sea-query|sqlx|sqlx-[a-z-]+|tokio|mio|aws-[a-z0-9-]+|argon2|hyper|reqwest|axum|figment)$'
deps="$(cargo tree -p frontend --target wasm32-unknown-unknown -e normal --prefix none --format '{p}' \
  | awk '{print $1}' | sort -u)"
bad="$(grep -E "$FORBIDDEN" <<<"$deps" || true)"
if [ -n "$bad" ]; then
  echo "error: server-only crates in the WASM bundle's dependency tree:" >&2
  echo "$bad" | sed 's/^/  /' >&2
  echo "hint: cargo tree -p frontend --target wasm32-unknown-unknown -i <crate>" >&2
  exit 1
fi
echo "wasm bundle: $(wc -l <<<"$deps") crates, none server-only"

