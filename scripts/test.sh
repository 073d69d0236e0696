#!/usr/bin/env bash
# Runs every check and test of the workspace, installing what the tests need
# when it is missing. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/medz1-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

step() { printf '\n== %s\n' "$*"; }

# Packages the test suites need, installed on demand (Debian).
need_pkgs=()
command -v python3 >/dev/null || need_pkgs+=(python3)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || need_pkgs+=(postgresql)
command -v redis-server >/dev/null || need_pkgs+=(redis-server)
command -v pkg-config >/dev/null || need_pkgs+=(pkg-config)
pkg-config --exists openssl 2>/dev/null || need_pkgs+=(libssl-dev)
command -v moto_server >/dev/null || [ -x "$HOME/.cache/medz1-tools/venv/bin/moto_server" ] \
  || python3 -c 'import venv, ensurepip' 2>/dev/null || need_pkgs+=(python3-venv)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  step "installing ${need_pkgs[*]}"
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq "${need_pkgs[@]}"
  else sudo apt-get update -qq && sudo apt-get install -y -qq "${need_pkgs[@]}"; fi
fi
# PostgreSQL's binaries live outside PATH on Debian; the pgtest crate finds them.
# moto (an S3 server, from PyPI) for the lake's S3 test.
if ! command -v moto_server >/dev/null; then
  venv="$HOME/.cache/medz1-tools/venv"
  if [ ! -x "$venv/bin/moto_server" ]; then
    step "installing moto[server] into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'moto[server]==5.*'
  fi
  export PATH="$venv/bin:$PATH"
fi

# Keep the shared target dir from filling the disk.
avail_kb=$(df -Pk "$CARGO_TARGET_DIR" | awk 'NR==2 {print $4}')
if [ "${avail_kb:-0}" -lt $((8 * 1024 * 1024)) ]; then
  step "less than 8 GiB free: cleaning $CARGO_TARGET_DIR"
  cargo clean
fi

step "rustfmt"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "dependency rules"
bash scripts/check-deps.sh

step "reference assets"
python3 mock/data/check_assets.py

step "browser tools (chromium, chromedriver, axe-core)"
bash scripts/install-browser-tools.sh

step "tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"
# One closing line for the whole workspace (cargo prints one per test binary).
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "\ntests: %d passed, %d failed, %d skipped\n", p, f, i }' "$log"

# The XWB frame parser's property-based fuzz targets, with many more cases
# than the regular test run (bounded: about half a minute).
step "fuzz: XWB frame parser (PROPTEST_CASES=${FUZZ_CASES:-20000})"
PROPTEST_CASES="${FUZZ_CASES:-20000}" timeout 600 cargo test -p xwb --locked --test props
