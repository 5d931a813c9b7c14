# syntax=docker/dockerfile:1.7
# repin's own image: the practices repin exists for. Multi-stage (build in the Rust image, run
# in Debian slim with only git and CA certificates), both on Debian's current stable release,
# base images pinned by tag and digest (repin keeps these pins fresh in its own pull requests:
# .github/workflows/repin.yml), a non-root user, no build tools at run time. Packages are not
# pinned to versions: Debian's security updates replace them, and a pin would fail the build at
# the next one; the base image's digest is what makes a build repeatable.
#
# scripts/check-image-build replays the build stage from the .dockerignore context without
# Docker (CI runs it), so a file the build needs cannot be left out of the context unnoticed.

ARG RUST_IMAGE=rust:1.98-trixie@sha256:620dbcd124499c59e2406d3741574b5c5838cf9eb9656f0c3a03948f79b02959
ARG RUNTIME_IMAGE=debian:trixie-slim@sha256:d7e12182ce18b85b93007c1dedf31f2d29e01ccf3182cc4017c709b6259bc132

FROM ${RUST_IMAGE} AS build
# The context has no .git: `repin --version` takes the commit and its date from these (the
# release workflow passes them).
ARG REPIN_BUILD_COMMIT=""
ARG REPIN_BUILD_DATE=""
WORKDIR /src
# Dependencies first, so source edits do not rebuild them.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
# data/ holds what the code embeds at compile time (release and end-of-life dates).
COPY data ./data
COPY src ./src
RUN touch src/main.rs src/lib.rs && cargo build --release --locked && strip target/release/repin

FROM ${RUNTIME_IMAGE} AS runtime
# No version pins (DL3008): see the top of this file.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 repin
COPY --from=build --chown=10001:10001 /src/target/release/repin /usr/local/bin/repin
USER 10001:10001
WORKDIR /home/repin
ENTRYPOINT ["/usr/local/bin/repin"]
CMD ["--help"]
