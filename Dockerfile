# The manager's image, for those who build with Docker. 'make image' builds the
# same shape without Docker (internal/ociimage): a static manager as the
# entrypoint, user 65532, CA certificates, no shell, the same OCI labels.
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH

WORKDIR /workspace
# Cache dependencies before copying the source, so a source change does not
# download them again.
COPY go.mod go.sum ./
RUN go mod download

COPY *.go ./
COPY api/ api/
COPY controllers/ controllers/
COPY internal/ internal/

RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w" -o manager .

# A distroless base holds nothing but CA certificates, /etc/passwd with the
# nonroot user and the binary: no shell, no package manager.
FROM gcr.io/distroless/static:nonroot
ARG VERSION=dev
ARG REVISION=""
ARG CREATED=""
LABEL org.opencontainers.image.title="multichannel-operator" \
      org.opencontainers.image.description="Kubernetes operator for Partner Center multichannel support: CSP partners take on subscriptions customers bought elsewhere." \
      org.opencontainers.image.source="https://github.com/partnerops/multichannel-operator" \
      org.opencontainers.image.url="https://github.com/partnerops/multichannel-operator" \
      org.opencontainers.image.vendor="partnerops" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
WORKDIR /
COPY --from=builder /workspace/manager /manager
USER 65532:65532

ENTRYPOINT ["/manager"]
