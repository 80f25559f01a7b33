#!/usr/bin/env bash
# Runs a command against throwaway services started here and removed afterwards:
# a PostgreSQL cluster with a streaming replica, an S3 server (s3s-fs: real SigV4 and
# presigned-URL checks) and Redis.
# The command sees TEST_DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres,
# TEST_DATABASE_READ_URL (the replica), TEST_REPLICA_DIR (its data dir, for pausing it),
# TEST_S3_ENDPOINT / TEST_S3_ACCESS_KEY / TEST_S3_SECRET_KEY / TEST_S3_DIR and TEST_REDIS_URL.
#   scripts/with-services.sh cargo test -p server --test api
set -euo pipefail

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PG_PORT="$(free_port)"
REPLICA_PORT="$(free_port)"
S3_PORT="$(free_port)"
REDIS_PORT="$(free_port)"
DIR="$(mktemp -d /tmp/pannier-services.XXXXXX)"
S3_PID=""
REDIS_PID=""

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
  as_postgres "$PG_BIN/pg_ctl" -D "$DIR/replica" -m fast -w stop >/dev/null 2>&1 || true
  as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null 2>&1 || true
  if [ -n "$REDIS_PID" ]; then kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; fi
  if [ -n "$S3_PID" ]; then kill "$S3_PID" 2>/dev/null || true; wait "$S3_PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
as_postgres "$PG_BIN/initdb" -D "$DIR/pg" -U postgres --auth=trust --no-sync -E UTF8 >/dev/null
as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -w -l "$DIR/pg.log" \
  -o "-p $PG_PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
echo "[with-services] PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
# A streaming replica of it (read-only, follows within milliseconds).
as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$DIR/replica" -R -X stream
as_postgres "$PG_BIN/pg_ctl" -D "$DIR/replica" -w -l "$DIR/replica.log" \
  -o "-p $REPLICA_PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
echo "[with-services] PostgreSQL replica on 127.0.0.1:$REPLICA_PORT"

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$DIR/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 50); do
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done
echo "[with-services] Redis on 127.0.0.1:$REDIS_PORT"

S3_KEY="pannier-test"
S3_SECRET="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
mkdir -p "$DIR/s3"
"$HOME/.cargo/bin/s3s-fs" --host 127.0.0.1 --port "$S3_PORT" \
  --access-key "$S3_KEY" --secret-key "$S3_SECRET" "$DIR/s3" >"$DIR/s3.log" 2>&1 &
S3_PID=$!
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/" && break
  sleep 0.1
done
echo "[with-services] s3s-fs on 127.0.0.1:$S3_PORT"

export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export TEST_DATABASE_READ_URL="postgres://postgres@127.0.0.1:$REPLICA_PORT/postgres"
export TEST_REPLICA_DIR="$DIR/replica"
export TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export TEST_S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
export TEST_S3_ACCESS_KEY="$S3_KEY"
export TEST_S3_SECRET_KEY="$S3_SECRET"
# s3s-fs keeps unfinished multipart uploads as .upload-<id>.json here: tests check none leak.
export TEST_S3_DIR="$DIR/s3"
"$@"
