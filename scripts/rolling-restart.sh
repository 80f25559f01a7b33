#!/usr/bin/env bash
# Rolling restart of Pannier instances run by systemd, one at a time: stop (SIGTERM: /readyz
# fails, in-flight requests finish, jobs are released), start, wait until /readyz answers 200,
# then the next. nginx skips the instance while it is down (proxy_next_upstream), so clients
# see no error. Use it to deploy a new binary: install it, then run this.
#   scripts/rolling-restart.sh host1:3000 host2:3000 host3:3000
# Each argument is an instance's address; the unit is restarted over ssh on that host
# (`UNIT`, default pannier.service; `SSH`, default `ssh`; `LOCAL=1` runs systemctl here).
set -euo pipefail
UNIT="${UNIT:-pannier.service}"
SSH="${SSH:-ssh}"
[ $# -gt 0 ] || { echo "usage: $0 HOST:PORT…" >&2; exit 2; }
for instance in "$@"; do
  host="${instance%:*}"
  echo "[rolling-restart] $instance: restarting $UNIT"
  if [ "${LOCAL:-0}" = 1 ]; then systemctl restart "$UNIT"; else $SSH "$host" systemctl restart "$UNIT"; fi
  for _ in $(seq 120); do
    if curl -fsS -o /dev/null --max-time 2 "http://$instance/readyz"; then
      echo "[rolling-restart] $instance: ready"
      continue 2
    fi
    sleep 1
  done
  echo "[rolling-restart] $instance: not ready after 120 s; stopping here (the others are untouched)" >&2
  exit 1
done
