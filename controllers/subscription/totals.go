package subscription

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
)

// policyTotals enforces an ApprovalPolicy's limits that splitting a purchase
// cannot get around (maxQuantityPerCustomer, where an Azure subscription
// counts 1 of the Azure plan; maxSubscriptionsPerCustomer): what the policy
// authorized before counts against what it may authorize now, including
// what its authorizations bought and a later spec change no longer asks for.
// Workers authorize concurrently and the cache shows their writes late, so
// each grant is also kept here, under one lock, until the cache shows the
// subscription written since.
type policyTotals struct {
	mu     sync.Mutex
	grants map[types.UID]policyGrant
}

// policyGrant is one authorization this process recorded: by which policy,
// on what terms, over which resourceVersion of which namespace's subscription.
type policyGrant struct {
	by, namespace string
	terms         v1alpha1.Terms
	baseRV        string
}

func newPolicyTotals() *policyTotals { return &policyTotals{grants: map[types.UID]policyGrant{}} }

// reserve says whether policy p may authorize terms for sub within its
// totals, and if so counts it at once; otherwise it says which limit.
func (t *policyTotals) reserve(ctx context.Context, c client.Reader, p *v1alpha1.ApprovalPolicy, sub *v1alpha1.CustomerSubscription, terms *v1alpha1.Terms) (bool, string) {
	maxQty, maxSubs := p.Spec.MaxQuantityPerCustomer, p.Spec.MaxSubscriptionsPerCustomer
	if maxQty == nil && maxSubs == nil {
		return true, ""
	}
	by := v1alpha1.PolicyAuthorizationBy(p.Name)
	// Listed under the lock: a grant recorded by another worker is either
	// in this list or still kept here.
	t.mu.Lock()
	defer t.mu.Unlock()
	list := &v1alpha1.CustomerSubscriptionList{}
	if err := c.List(ctx, list, client.InNamespace(sub.Namespace)); err != nil {
		return false, fmt.Sprintf("could not count what it authorized before (%v)", err)
	}
	listed := make(map[types.UID]bool, len(list.Items))
	quantity, subscriptions := terms.Quantity, int32(1)
	for i := range list.Items {
		m := &list.Items[i]
		listed[m.UID] = true
		if m.UID == sub.UID {
			continue
		}
		counted := countedTerms(m, by)
		if g, kept := t.grants[m.UID]; kept && g.by == by && g.baseRV == m.ResourceVersion {
			counted = append(counted, g.terms) // written by this process; the cache shows it later
		} else if kept {
			delete(t.grants, m.UID) // the cache has caught up
		}
		counts := false
		for _, ct := range counted {
			if ct.CustomerTenantID != terms.CustomerTenantID {
				continue
			}
			counts = true
			if ct.OfferID == terms.OfferID {
				quantity += ct.Quantity
			}
		}
		if counts {
			subscriptions++
		}
	}
	for uid, g := range t.grants {
		if g.namespace == sub.Namespace && !listed[uid] {
			delete(t.grants, uid) // deleted
		}
	}
	switch {
	case maxQty != nil && quantity > *maxQty:
		return false, fmt.Sprintf("allows at most %d licenses of %s per customer in total, and %d would be authorized for customer %s", *maxQty, terms.OfferID, quantity, terms.Customer)
	case maxSubs != nil && subscriptions > *maxSubs:
		return false, fmt.Sprintf("allows at most %d subscriptions per customer in total, and this would be customer %s's %dth", *maxSubs, terms.Customer, subscriptions)
	}
	t.grants[sub.UID] = policyGrant{by: by, namespace: sub.Namespace, terms: *terms, baseRV: sub.ResourceVersion}
	return true, ""
}

// countedTerms: what policy by authorized for m and still counts: the
// terms of every operation of m that Partner Center confirmed under its
// authorization (what was bought stays bought whatever the spec says now),
// and its current authorization unless an operation already counts it.
func countedTerms(m *v1alpha1.CustomerSubscription, by string) []v1alpha1.Terms {
	var out []v1alpha1.Terms
	ops := m.Status.PreviousOperations
	if m.Status.Operation != nil {
		ops = append(ops[:len(ops):len(ops)], *m.Status.Operation)
	}
	for _, op := range ops {
		if op.Terms != nil && op.ExternalID != "" && strings.HasPrefix(op.AuthorizedBy, by+" (") {
			out = append(out, *op.Terms)
		}
	}
	a := m.Status.Authorization
	if a == nil || a.Source != v1alpha1.AuthorizationFromPolicy || a.By != by || a.Decision != v1alpha1.DecisionAuthorized || a.Terms == nil {
		return out
	}
	if op := m.Status.Operation; op != nil && op.ExternalID != "" && core.SameTerms(op.Terms, a.Terms) {
		return out // the operation bought what it authorized: counted once
	}
	return append(out, *a.Terms)
}
