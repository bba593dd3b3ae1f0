package controllers

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// policyTotals enforces an ApprovalPolicy's limits that splitting a purchase
// cannot get around (maxQuantityPerCustomer, where an Azure subscription
// counts 1 of the Azure plan; maxSubscriptionsPerCustomer):
// what the policy authorized before counts against what it may authorize
// now. Workers authorize concurrently and the cache shows their writes
// late, so each grant is also kept here, under one lock, until the cache
// shows the subscription written since.
type policyTotals struct {
	mu     sync.Mutex
	grants map[types.UID]policyGrant
}

// policyGrant is one authorization this process recorded: by which policy,
// on what terms, over which resourceVersion of the subscription.
type policyGrant struct {
	by     string
	terms  v1alpha1.Terms
	baseRV string
}

func newPolicyTotals() *policyTotals { return &policyTotals{grants: map[types.UID]policyGrant{}} }

// reserve says whether policy p may authorize terms for sub within its
// totals, and if so counts it at once; otherwise it says which limit.
func (t *policyTotals) reserve(ctx context.Context, c client.Reader, p *v1alpha1.ApprovalPolicy, sub *v1alpha1.CustomerSubscription, terms *v1alpha1.Terms) (bool, string) {
	maxQty, maxSubs := p.Spec.MaxQuantityPerCustomer, p.Spec.MaxSubscriptionsPerCustomer
	if maxQty == nil && maxSubs == nil {
		return true, ""
	}
	list := &v1alpha1.CustomerSubscriptionList{}
	if err := c.List(ctx, list, client.InNamespace(sub.Namespace)); err != nil {
		return false, fmt.Sprintf("could not count what it authorized before (%v)", err)
	}
	by := policyAuthorizationBy(p.Name)
	t.mu.Lock()
	defer t.mu.Unlock()
	quantity, subscriptions := terms.Quantity, int32(1)
	for i := range list.Items {
		m := &list.Items[i]
		if m.UID == sub.UID {
			continue
		}
		counted, ok := authorizedTerms(m, by)
		if g, kept := t.grants[m.UID]; kept && g.by == by && g.baseRV == m.ResourceVersion {
			counted, ok = &g.terms, true // written by this process; the cache shows it later
		}
		if !ok || counted.CustomerTenantID != terms.CustomerTenantID {
			continue
		}
		subscriptions++
		if counted.OfferID == terms.OfferID {
			quantity += counted.Quantity
		}
	}
	switch {
	case maxQty != nil && quantity > *maxQty:
		return false, fmt.Sprintf("allows at most %d licenses of %s per customer in total, and %d would be authorized for customer %s", *maxQty, terms.OfferID, quantity, terms.Customer)
	case maxSubs != nil && subscriptions > *maxSubs:
		return false, fmt.Sprintf("allows at most %d subscriptions per customer in total, and this would be customer %s's %dth", *maxSubs, terms.Customer, subscriptions)
	}
	t.grants[sub.UID] = policyGrant{by: by, terms: *terms, baseRV: sub.ResourceVersion}
	return true, ""
}

// authorizedTerms: the terms policy by authorized for m, if it did.
func authorizedTerms(m *v1alpha1.CustomerSubscription, by string) (*v1alpha1.Terms, bool) {
	a := m.Status.Authorization
	if a == nil || a.Source != v1alpha1.AuthorizationFromPolicy || a.By != by || a.Decision != v1alpha1.DecisionAuthorized || a.Terms == nil {
		return nil, false
	}
	return a.Terms, true
}
