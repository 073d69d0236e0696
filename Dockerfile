# syntax=docker/dockerfile:1
#
# med-z1: one image holding every binary of the Cargo workspace. The compose
# services pick the binary with `command:` (web, ccow, vista, etl, mock); the
# default command is the all-in-one launcher on embedded defaults.
#
#   docker build -t medz1:local .          (BuildKit is required for the cache mounts)

ARG RUST_VERSION=1

# ---------------------------------------------------------------------------
# Builder
# ---------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src

# The binaries this image ships. A workspace that does not (yet) build one of
# them still produces an image; only the launcher is mandatory.
ARG MEDZ1_BINS="web ccow vista etl mock medz1"

COPY . .

# Registry, git checkouts and target/ live in BuildKit cache mounts, so
# rebuilds are incremental. target/ is not part of any layer: the binaries are
# copied out of it in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    set -eu; \
    cargo build --release --workspace --locked; \
    mkdir -p /out/bin /out/share; \
    for bin in $MEDZ1_BINS; do \
        if [ -x "target/release/$bin" ]; then \
            cp "target/release/$bin" /out/bin/; \
            echo "packaged: $bin"; \
        else \
            echo "not built by this workspace, skipped: $bin"; \
        fi; \
    done; \
    if [ ! -x /out/bin/medz1 ]; then \
        echo "error: the launcher binary 'medz1' was not built" >&2; \
        exit 1; \
    fi; \
    for dir in static templates migrations; do \
        if [ -d "$dir" ]; then cp -r "$dir" /out/share/; fi; \
    done

# ---------------------------------------------------------------------------
# Runtime
# ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

# ca-certificates: TLS to external endpoints; curl: container healthchecks.
# Versions follow the bookworm point release of the base image.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 medz1 \
    && useradd --system --uid 10001 --gid medz1 --home-dir /var/lib/medz1 \
        --shell /usr/sbin/nologin medz1 \
    && mkdir -p /var/lib/medz1/data \
    && chown -R medz1:medz1 /var/lib/medz1

COPY --from=builder /out/bin/ /usr/local/bin/
# Runtime assets, for binaries that read them from disk rather than embedding
# them at compile time.
COPY --from=builder /out/share/ /usr/share/medz1/

# The medz1 user, numerically, so runtimes can verify it is not root.
USER 10001:10001
WORKDIR /var/lib/medz1

# 8000 web, 8001 ccow, 8003 vista (HTTP), 9430 vista (XWB RPC broker, TCP)
EXPOSE 8000 8001 8003 9430

ENV RUST_LOG=info

CMD ["medz1", "up"]
