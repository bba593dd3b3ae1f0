package controllers

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// Sharding, as Flux shards its controllers (docs/performance.md): a replica
// started with --shard=NAME caches, and so reconciles, only the namespaced
// objects labelled multichannel.partnerops.io/shard=NAME. Label every object
// of a customer alike; the ResellerRelationships the operator creates carry
// their subscription's label. Partners are cluster-scoped reference data that
// every replica reads (and checks). Without --shard a replica takes every object.

// ShardCache returns the cache options that restrict a replica to shard; an
// empty shard restricts nothing.
func ShardCache(shard string) (map[client.Object]cache.ByObject, error) {
	if shard == "" {
		return nil, nil
	}
	req, err := labels.NewRequirement(v1alpha1.LabelShard, selection.Equals, []string{shard})
	if err != nil {
		return nil, fmt.Errorf("--shard %q is not a label value: %w", shard, err)
	}
	sel := labels.NewSelector().Add(*req)
	by := map[client.Object]cache.ByObject{}
	for _, o := range []client.Object{&v1alpha1.Customer{}, &v1alpha1.CustomerSubscription{}, &v1alpha1.ResellerRelationship{},
		&v1alpha1.ApprovalPolicy{}, &v1alpha1.DelegatedAdminRelationship{}} {
		by[o] = cache.ByObject{Label: sel}
	}
	return by, nil
}

// LeaderElectionID is the Lease a replica of shard competes for: replicas of
// one shard elect a leader among themselves.
func LeaderElectionID(shard string) string {
	if shard == "" {
		return "multichannel.partnerops.io"
	}
	return "multichannel.partnerops.io-" + shard
}
