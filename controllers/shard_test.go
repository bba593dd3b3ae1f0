package controllers_test

import (
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// TestShards: two managers, one per shard, in one namespace: each
// subscription, customer, relationship and policy is reconciled by exactly
// one, the one of its shard label, and the relationships the operator
// creates keep their subscription's shard.
func TestShards(t *testing.T) {
	h := start(t)
	h.stopManager() // the unsharded manager takes no part
	contoso := h.contoso()
	h.customerAccepts(contosoTenant)
	wrote := map[string]*sync.Map{"a": {}, "b": {}}
	for shard, m := range wrote {
		h.startShardManager(shard, m)
	}
	label := func(shard string) map[string]string { return map[string]string{v1alpha1.LabelShard: shard} }
	for _, shard := range []string{"a", "b"} {
		h.create(&v1alpha1.ApprovalPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "policy-" + shard, Labels: label(shard)},
			Spec: v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{contoso.Name}}})
		c := h.customer("customer-"+shard, func(c *v1alpha1.Customer) { c.Labels = label(shard) })
		h.simPost("/sim/v1/relationships/accept", map[string]string{"partnerTenantId": contosoTenant, "customerTenantId": c.Spec.TenantID})
		for _, name := range []string{"azure-" + shard + "1", "azure-" + shard + "2"} {
			s := &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: name, Labels: label(shard)},
				Spec: azure("customer-"+shard, contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, "")}
			h.create(s)
		}
	}
	for _, name := range []string{"azure-a1", "azure-a2", "azure-b1", "azure-b2"} {
		h.waitPhase(name, v1alpha1.PhaseCompleted)
	}
	for _, shard := range []string{"a", "b"} {
		rr := &v1alpha1.ResellerRelationship{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "customer-" + shard + "-" + contoso.Name}, rr); err != nil {
			t.Fatal(err)
		}
		if rr.Labels[v1alpha1.LabelShard] != shard {
			t.Errorf("relationship %s has shard %q, want %q", rr.Name, rr.Labels[v1alpha1.LabelShard], shard)
		}
	}
	for shard, m := range wrote {
		other := map[string]string{"a": "b", "b": "a"}[shard]
		n := 0
		m.Range(func(k, _ any) bool {
			key := k.(string)
			if !strings.HasPrefix(key, h.ns+"/") {
				return true // Partners are cluster-scoped: every shard checks them
			}
			n++
			name := strings.TrimPrefix(key, h.ns+"/")
			if strings.HasPrefix(name, "customer-"+other) || strings.HasPrefix(name, "azure-"+other) || name == "policy-"+other {
				t.Errorf("shard %s wrote the status of %s, which is shard %s's", shard, key, other)
			}
			return true
		})
		if n < 5 { // its policy, customer, relationship and two subscriptions
			t.Errorf("shard %s wrote the status of %d namespaced objects, want at least 5", shard, n)
		}
	}
}
