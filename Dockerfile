# syntax=docker/dockerfile:1
#
# The planeless image: the webhook (`planeless webhook`) and the init
# container of every injected pod (`planeless-pod init`, a small binary of
# the commands that run in pods, which starts in milliseconds where the
# webhook's takes tens), which installs the pod's iptables rules with
# whichever backend the node uses, so the image carries both iptables-nft
# and iptables-legacy (Debian's iptables package).
#
#   docker build -t ghcr.io/planeless/planeless:v0.1.0 .

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-trixie AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/planeless ./cmd/planeless \
 && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/planeless-pod ./cmd/planeless-pod

FROM debian:trixie-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables \
 && rm -rf /var/lib/apt/lists/* \
 && iptables-nft --version && iptables-legacy --version \
 && ip6tables-nft --version && ip6tables-legacy --version
COPY --from=build /out/planeless /usr/local/bin/planeless
COPY --from=build /out/planeless-pod /usr/local/bin/planeless-pod
# The webhook runs as this user; the init container's template runs it as
# root with NET_ADMIN and NET_RAW, which the kernel needs for the rules.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/planeless"]
