#!/usr/bin/env bash
# Installs what the browser end-to-end tests (crate browsertest) need, when it
# is missing; safe to run again:
#   - Debian's chromium and chromium-driver (chromedriver), from apt;
#   - axe-core (the accessibility engine), from the npm registry, pinned and
#     checked against its sha512, unpacked to
#     $HOME/.cache/medz1-tools/axe-core-<version>/axe.min.js.
# The browsertest crate finds axe.min.js there (or through MEDZ1_AXE_JS).
set -euo pipefail

AXE_VERSION=4.14.1
# dist.integrity of axe-core@4.14.1 in the npm registry, as hex.
AXE_SHA512=1477dafa598d8d065f273d6af302aa203c02e83131707b7fa648cd41bd3d6b734f8c22a0dab86ee6a6f64b8afbe804b214d36db85a2826965edfb3a0b9d546b5
AXE_TARBALL_URL="https://registry.npmjs.org/axe-core/-/axe-core-${AXE_VERSION}.tgz"

tools="$HOME/.cache/medz1-tools"
axe_dir="$tools/axe-core-$AXE_VERSION"

# --- chromium + chromedriver (Debian) -------------------------------------
need_pkgs=()
command -v chromium >/dev/null || need_pkgs+=(chromium)
command -v chromedriver >/dev/null || need_pkgs+=(chromium-driver)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "installing ${need_pkgs[*]} (Debian)"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  # dpkg is chatty even with -qq: keep its output for when it fails.
  apt_log=$(mktemp)
  if ! { "${sudo[@]}" apt-get update -qq \
         && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}"; \
       } >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    rm -f "$apt_log"
    exit 1
  fi
  rm -f "$apt_log"
fi

# --- axe-core (npm registry) ----------------------------------------------
if [ ! -s "$axe_dir/axe.min.js" ]; then
  echo "fetching axe-core $AXE_VERSION"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  tgz="$tmp/axe-core-$AXE_VERSION.tgz"
  if command -v npm >/dev/null; then
    # npm checks the registry's integrity itself; we check our pin below too.
    (cd "$tmp" && npm pack --silent "axe-core@$AXE_VERSION" >/dev/null 2>"$tmp/npm.err") \
      || { cat "$tmp/npm.err" >&2; exit 1; }
  else
    curl -fsSL --retry 3 -o "$tgz" "$AXE_TARBALL_URL"
  fi
  [ -s "$tgz" ] || { echo "axe-core tarball not found at $tgz" >&2; exit 1; }
  got=$(sha512sum "$tgz" | awk '{print $1}')
  if [ "$got" != "$AXE_SHA512" ]; then
    echo "axe-core $AXE_VERSION: sha512 mismatch (got $got)" >&2
    exit 1
  fi
  tar -xzf "$tgz" -C "$tmp" package/axe.min.js package/LICENSE package/package.json
  mkdir -p "$tools"
  rm -rf "$axe_dir.partial"
  mkdir -p "$axe_dir.partial"
  cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$tmp/package/package.json" "$axe_dir.partial/"
  rm -rf "$axe_dir"
  mv "$axe_dir.partial" "$axe_dir"
fi

echo "chromium:     $(command -v chromium) ($(chromium --version 2>/dev/null || echo '?'))"
echo "chromedriver: $(command -v chromedriver) ($(chromedriver --version 2>/dev/null | awk '{print $2}'))"
echo "axe-core:     $axe_dir/axe.min.js (set MEDZ1_AXE_JS to use another copy)"
