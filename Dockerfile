# Multi-stage build: the release binary built on Debian, run on a slim Debian as a non-root user.
#   docker build -t sessiongate .
#   docker run -p 8080:8080 -v $PWD/conf/gateway.yaml:/etc/sessiongate/gateway.yaml:ro sessiongate
FROM rust:1-bookworm AS build
# bookworm's cmake has stayed 3.25.1-1 since its release; the pin makes the build repeatable.
RUN apt-get update && apt-get install -y --no-install-recommends cmake=3.25.1-1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY conf ./conf
COPY benches ./benches
RUN cargo build --release --locked --bin sessiongate

FROM debian:bookworm-slim
# No apt here: the public CA bundle comes from the build stage (for HTTPS servers signed by a
# public CA; private CAs are given with `ca_file`), so the image has nothing to pin or update.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN groupadd --system --gid 10001 sessiongate \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin sessiongate
COPY --from=build /src/target/release/sessiongate /usr/local/bin/sessiongate
COPY conf/gateway.yaml /etc/sessiongate/gateway.yaml
# Numeric, so an orchestrator can verify runAsNonRoot without reading /etc/passwd.
USER 10001:10001
# The configuration is read from /etc/sessiongate/gateway.yaml: mount yours there (the reference
# copied here names key files under /etc/sessiongate that only you can provide). Its
# admin_listen must stay 127.0.0.1:9100 (or adjust the health check below).
EXPOSE 8080 9100
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9100 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["sessiongate"]
CMD ["-c", "/etc/sessiongate/gateway.yaml"]
