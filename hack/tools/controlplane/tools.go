//go:build tools

// Package controlplane pins the commands hack/envtest.sh builds.
package controlplane

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
