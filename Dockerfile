# syntax=docker/dockerfile:1.7
# repin's own image: the practices repin exists for. Multi-stage (build in the Rust image, run
# in Debian slim with only git and CA certificates), base images pinned by tag and digest (repin
# keeps these pins fresh in its own pull requests), a non-root user, no build tools at run time.

ARG RUST_IMAGE=rust:1.99-bookworm@sha256:fbc3a359627c6b5d9c8b20aae5c413a87392954f020006d7a9f7d95938964b23
ARG RUNTIME_IMAGE=debian:bookworm-slim@sha256:4b50eb66f977b4062683ff434ef18ac191da862dbe966961bc11990cf5791a8d

FROM ${RUST_IMAGE} AS build
WORKDIR /src
# Dependencies first, so source edits do not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY src ./src
RUN touch src/main.rs src/lib.rs && cargo build --release --locked && strip target/release/repin

FROM ${RUNTIME_IMAGE} AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends git=1:2.39.5-0+deb12u3 ca-certificates=20230311+deb12u1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 repin
COPY --from=build --chown=10001:10001 /src/target/release/repin /usr/local/bin/repin
USER 10001:10001
WORKDIR /home/repin
ENTRYPOINT ["/usr/local/bin/repin"]
CMD ["--help"]
