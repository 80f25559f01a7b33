#!/usr/bin/env bash
# Checks deploy/ as shipped: nginx accepts the load-balancer configuration (`nginx -t`, with a
# throwaway certificate for the TLS server), systemd accepts the units (`systemd-analyze
# verify`, with ExecStart pointed at the built binary), compose.yaml and garage.toml parse and
# name files that exist. Run by `make test` after `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${CARGO_TARGET_DIR:-$HOME/.cache/pannier-target}/release/pannier"
WORK="$(mktemp -d /tmp/pannier-deploy.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

cp -r deploy/nginx "$WORK/nginx"
mkdir -p "$WORK/nginx/tls" "$WORK/logs"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -keyout "$WORK/nginx/tls/privkey.pem" -out "$WORK/nginx/tls/fullchain.pem" 2>/dev/null
nginx -t -q -p "$WORK" -c "$WORK/nginx/nginx.conf"
echo "[check-deploy] nginx -t: deploy/nginx/nginx.conf ok"

for unit in deploy/systemd/*.service; do
  sed "s|/usr/local/bin/pannier|$BIN|" "$unit" > "$WORK/$(basename "$unit")"
  out="$(systemd-analyze verify "$WORK/$(basename "$unit")" 2>&1 || true)"
  # Complaints about the host's own units are not ours; ours must be clean.
  if grep -F "$(basename "$unit")" <<<"$out"; then
    echo "[check-deploy] systemd-analyze verify: $unit has problems" >&2
    exit 1
  fi
  echo "[check-deploy] systemd-analyze verify: $unit ok"
done

# The venv of the tests (scripts/bootstrap.sh) has PyYAML.
PY="$HOME/.cache/pannier-venv/bin/python"
"$PY" - <<'CHECK'
import pathlib, tomllib
import yaml
deploy = pathlib.Path("deploy")
garage = tomllib.loads((deploy / "garage.toml").read_text())
assert garage["s3_api"]["s3_region"] == "us-east-1", "s3_region must match PANNIER_S3_REGION"
assert "rpc_secret" not in garage and "admin_token" not in garage.get("admin", {}), "secrets come from the environment"
print("[check-deploy] garage.toml ok")
compose = yaml.safe_load((deploy / "compose.yaml").read_text())
services = compose["services"]
wanted = {"nginx", "pannier-1", "pannier-2", "pannier-3", "pannier-worker", "postgres",
          "postgres-replica", "redis", "garage"}
assert wanted <= set(services), sorted(wanted - set(services))
for name, service in services.items():
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith("./") and source != "./tls":
            assert (deploy / source).exists(), f"{name} mounts {source}, which is not in deploy/"
    for key, value in service.get("environment", {}).items():
        if key.startswith("PANNIER_") and "PASSWORD" in str(value) and "${" not in str(value):
            raise AssertionError(f"{name}: {key} holds a literal secret")
print("[check-deploy] compose.yaml: services and mounted files ok")
CHECK
