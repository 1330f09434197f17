# The sandbox as an image, for docker run, compose and Testcontainers:
#   docker build -t spine-sandbox .
#   docker run --rm -p 4000:4000 -e SPINE_SANDBOX_ADMIN_TOKEN=$(openssl rand -hex 16) spine-sandbox
# Without --public-url every URL the sandbox hands out is built on the
# address it was asked on, so a random host port works as it is.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/spine-sandbox ./cmd/spine-sandbox && \
    CGO_ENABLED=0 go build -trimpath -o /out/gpc-consumer ./cmd/gpc-consumer

# distroless's "nonroot" variant: no shell, no package manager, uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="spine-sandbox" \
      org.opencontainers.image.description="A simulated NHS Spine for GP Connect 1.6: PDS, SDS (FHIR and LDAP), the Spine Secure Proxy and a GP Connect provider, driven by YAML scenarios" \
      org.opencontainers.image.source="https://github.com/spine-sandbox/spine-sandbox" \
      org.opencontainers.image.url="https://github.com/spine-sandbox/spine-sandbox" \
      org.opencontainers.image.documentation="https://github.com/spine-sandbox/spine-sandbox#use-it-as-a-container"
WORKDIR /app
COPY --from=build /out/ /usr/local/bin/
COPY scenarios/ /app/scenarios/
COPY fixtures/ /app/fixtures/
USER nonroot:nonroot
# 4000: PDS, SDS, SSP, provider, admin API and live UI; 4389: SDS's LDAP directory.
EXPOSE 4000 4389
# distroless has no curl: the binary checks itself (GET /_admin/health,
# which needs no admin token). Set SPINE_SANDBOX_HEALTH_URL if serve
# listens elsewhere than port 4000.
HEALTHCHECK --interval=2s --timeout=3s --start-period=10s --retries=5 CMD ["spine-sandbox", "health", "-q"]
ENTRYPOINT ["spine-sandbox"]
# Listening on every interface of the container, the admin API needs a
# token: pass SPINE_SANDBOX_ADMIN_TOKEN (16+ characters), or
# SPINE_SANDBOX_INSECURE_ADMIN=true for a throwaway container.
CMD ["serve", "--addr", "0.0.0.0:4000", "--ldap-addr", "0.0.0.0:4389"]
