#!/usr/bin/env bash
# Builds kube-apiserver and etcd for envtest from the Go module proxy, at the
# Kubernetes version of hack/tools/controlplane/go.mod, into a cache outside
# the clone, and prints the directory (use it as KUBEBUILDER_ASSETS).
# A cached build is reused: the first build takes about 5 minutes on 2 cores.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tools="$here/tools/controlplane"
k8s_version=$(cd "$tools" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd_version=$(cd "$tools" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
cache_root=${MULTICHANNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/multichannel-operator}
dir="$cache_root/k8s/${k8s_version#v}"
mkdir -p "$dir"

build() { # name package version
  local name=$1 pkg=$2 version=$3
  if [ -x "$dir/$name" ] && [ "$(cat "$dir/$name.version" 2>/dev/null)" = "$version" ]; then
    return
  fi
  echo "building $name $version into $dir (first time only)" >&2
  (cd "$tools" && CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$dir/$name.tmp" "$pkg")
  mv "$dir/$name.tmp" "$dir/$name"
  echo "$version" > "$dir/$name.version"
}

build etcd go.etcd.io/etcd/server/v3 "$etcd_version"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$k8s_version"
echo "$dir"
