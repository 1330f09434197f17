# The sandbox as a container: docker compose up (see docker-compose.yml).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/spine-sandbox ./cmd/spine-sandbox && \
    CGO_ENABLED=0 go build -o /out/gpc-consumer ./cmd/gpc-consumer

FROM gcr.io/distroless/static-debian12
WORKDIR /app
COPY --from=build /out/ /usr/local/bin/
COPY scenarios/ /app/scenarios/
COPY fixtures/ /app/fixtures/
EXPOSE 4000
ENTRYPOINT ["spine-sandbox"]
CMD ["serve", "--addr", "0.0.0.0:4000", "--public-url", "http://spine:4000"]
