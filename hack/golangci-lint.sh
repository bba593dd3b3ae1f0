#!/usr/bin/env bash
# Builds golangci-lint v2 with the Kube API Linter compiled in, at the
# versions of hack/tools/lint/go.mod, from the Go module proxy, into a cache
# outside the clone, and prints the binary's path. A cached build is reused:
# the first build takes about 7 minutes on 2 cores.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tools="$here/tools/lint"
gl=$(cd "$tools" && go list -m -f '{{.Version}}' github.com/golangci/golangci-lint/v2)
kal=$(cd "$tools" && go list -m -f '{{.Version}}' sigs.k8s.io/kube-api-linter)
cache_root=${MULTICHANNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/multichannel-operator}
bin="$cache_root/tools/golangci-lint-$gl-kal-$kal"
if [ ! -x "$bin" ]; then
  echo "building golangci-lint $gl with kube-api-linter $kal into $bin (first time only)" >&2
  mkdir -p "$(dirname "$bin")"
  (cd "$tools" && go build -trimpath -o "$bin.tmp" sigs.k8s.io/kube-api-linter/cmd/golangci-lint-kube-api-linter)
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
