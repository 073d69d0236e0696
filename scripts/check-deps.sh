#!/usr/bin/env bash
# Architecture rules, checked with `cargo tree -i` (see docs/ARCHITECTURE.md):
#   - `domain` depends on no sqlx, axum, polars or tokio;
#   - `web` does not depend on polars;
#   - no service links another service's server crate.
# A rule whose packages do not exist yet is reported as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print("\n".join(p["name"] for p in json.load(sys.stdin)["packages"]))')
has() { grep -qx "$1" <<<"$packages"; }
fail=0

# forbid DEPENDENT FORBIDDEN: DEPENDENT must not (transitively) depend on FORBIDDEN.
forbid() {
  local dependent=$1 forbidden=$2
  if ! has "$dependent"; then
    echo "skip: $dependent does not exist yet ($dependent -/-> $forbidden)"; return
  fi
  # `cargo tree -i X` fails when X is not in the graph at all: that passes.
  if out=$(cargo tree --workspace -e normal,build -i "$forbidden" --prefix none 2>/dev/null) \
     && grep -q "^$dependent v" <<<"$out"; then
    echo "FAIL: $dependent depends on $forbidden:"; cargo tree -e normal,build -p "$dependent" -i "$forbidden" | head -20
    fail=1
  else
    echo "ok:   $dependent -/-> $forbidden"
  fi
}

for f in sqlx axum polars tokio; do forbid domain "$f"; done
forbid web polars
services=(web ccow vista etl)
for a in "${services[@]}"; do
  for b in "${services[@]}"; do
    [ "$a" = "$b" ] || forbid "$a" "$b"
  done
done
forbid cdw sqlx
forbid store polars
forbid columnar polars
forbid cdw tokio
# Apps talk to the vault through ccow-client; the vault's server crates stay
# out of them, and the client stays free of server frameworks.
for app in web vista etl; do forbid "$app" ccow-store; done
forbid ccow-client axum
forbid ccow-client sqlx
forbid ccow polars
for f in axum sqlx; do forbid vista-client "$f"; done
for f in tokio axum sqlx; do forbid xwb "$f"; done
forbid vista polars

exit $fail
