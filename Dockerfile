# syntax=docker/dockerfile:1
#
# Container image for neighborhood-text.
#
# Checked in .ci/run by hadolint (./scripts/lint-deploy dockerfile); every rule
# it would report is fixed or ignored below with its reason. CI here has no
# Docker engine, so the image is built only elsewhere: by Fly.io on
# `fly deploy`, and by .github/workflows/release.yml on a version tag, which
# also runs it read-only and non-root before pushing it to ghcr.io.
#
# Build (BuildKit is required for the cache mounts; it is the default in
# Docker 23+ and in `docker buildx`):
#   docker build -t neighborhood-text .
#
# Run locally (secrets via an env file that is NOT committed), as Kubernetes
# runs it (deploy/kubernetes): read-only root filesystem, no capabilities. The
# service writes no file; /tmp is the only place left writable, for safety:
#   docker run --rm -p 8080:8080 --env-file .env --stop-timeout 15 \
#     --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
#     neighborhood-text
#   curl -fsS http://localhost:8080/health
#
# The builder and the runtime must use the same Debian release (bookworm), so
# the binary's glibc requirement matches the runtime's glibc.

ARG RUST_VERSION=1.95

# ---------------------------------------------------------------- builder ---
FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src

# Everything the release build reads: the manifest and lockfile, the sources,
# the UI embedded by rust-embed at compile time, the message catalogs
# (include_str!), and the OpenAPI documents.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY ui ./ui
COPY locales ./locales
COPY openapi ./openapi

# The registry, git checkouts and target dir live in BuildKit cache mounts, so
# rebuilds reuse downloaded crates and compiled dependencies. Cache mounts are
# not part of the image, so the binary is copied out of target/ in the same
# step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin neighborhood-text \
 && install -D -m 0755 target/release/neighborhood-text /out/neighborhood-text

# ---------------------------------------------------------------- runtime ---
FROM debian:bookworm-slim AS runtime

# CA certificates are required: outbound HTTPS (Twilio) verifies against the
# system store (rustls-platform-verifier) and Redis TLS (rediss://, Upstash)
# loads it via rustls-native-certs.
# DL3008 (pin apt versions) is ignored on purpose: Debian's archive keeps only
# the current version of a package, so a pinned ca-certificates fails the build
# at its next update; the release is pinned instead (bookworm), and a rebuild
# takes its security updates.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 nt \
 && useradd --system --uid 10001 --gid nt --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin nt

COPY --from=builder /out/neighborhood-text /usr/local/bin/neighborhood-text

# NT_SANDBOX=off: an image run without Twilio settings never becomes an open sandbox
# (run it with -e NT_SANDBOX=on to try the sandbox in a container on purpose).
ENV NT_BIND=0.0.0.0:8080 \
    NT_LOG_FORMAT=json \
    NT_SANDBOX=off

USER 10001:10001
EXPOSE 8080

# Liveness probe without extra packages (no curl/wget in the image): bash's
# /dev/tcp sends a plain HTTP/1.0 request to /health on the port taken from
# NT_BIND and succeeds only on a 200 status line. Fly.io ignores Docker
# HEALTHCHECKs and uses the checks in fly.toml instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>\"/dev/tcp/127.0.0.1/${NT_BIND##*:}\" && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

# The service drains in-flight requests on SIGTERM for up to
# NT_SHUTDOWN_GRACE_SECS (default 10 s), so give `docker stop` more than that
# (e.g. `--stop-timeout 15` / compose `stop_grace_period: 15s`).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/neighborhood-text"]
CMD ["serve"]
