# syntax=docker/dockerfile:1
# ticketd's production image: a static binary built without the dev server
# (-tags nodev: no embedded Temporal server, no Temporal Web UI) on an empty
# base, running as an unprivileged user.
#
#   docker build -t ticketd:0.1.0 .
#   docker run ticketd:0.1.0 serve | worker | migrate up | user add ... | token ...

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux GOFLAGS=-buildvcs=false \
    go build -tags nodev -trimpath -ldflags="-s -w" -o /out/ticketd ./cmd/ticketd
# The runtime has no shell or tools: give it a user and CA certificates.
RUN mkdir -p /out/etc /out/tmp && chmod 1777 /out/tmp && \
    echo "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin" > /out/etc/passwd && \
    echo "nonroot:x:65532:" > /out/etc/group

FROM scratch
ARG VERSION=dev
LABEL org.opencontainers.image.title="ticketd" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/etc/passwd /out/etc/group /etc/
COPY --from=build /out/tmp /tmp
COPY --from=build --chown=65532:65532 /out/ticketd /ticketd
USER 65532:65532
ENV TICKETD_DATA_DIR=/tmp/ticketd
EXPOSE 8080 9091
ENTRYPOINT ["/ticketd"]
CMD ["serve"]
