package core

import (
	"context"
	"errors"
	"fmt"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

// Who may act for whom. A customer tenant belongs to one namespace: the
// first Customer to claim it holds it, through a Lease named for the tenant
// in the operator's namespace (the API server's unique names make the claim
// race-free). A Partner serves the namespaces its spec.namespaceSelector
// selects: nothing is done through its credentials or request budget for an
// object elsewhere.

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=multichannel-system,resources=leases,verbs=get;create;update

// claimLabel marks the Leases that hold tenant claims.
const claimLabel = "multichannel.partnerops.io/tenant-claim"

// claimName is the Lease holding tenant's claim.
func claimName(tenant string) string { return "tenant-" + strings.ToLower(tenant) }

// claimHolder identifies a Customer as a claim's holder: its namespace,
// name and UID (a Customer recreated under the same name claims anew).
func claimHolder(c *v1alpha1.Customer) string {
	return c.Namespace + "/" + c.Name + "/" + string(c.UID)
}

// ClaimTenant claims customer's tenant for it, or says which Customer holds
// it. A claim whose holder no longer exists is taken over with an
// optimistic lock, so two claimants cannot both win it.
func ClaimTenant(ctx context.Context, c client.Client, live client.Reader, operatorNamespace string, customer *v1alpha1.Customer) (held bool, holder string, err error) {
	me := claimHolder(customer)
	lease := &coordinationv1.Lease{}
	key := client.ObjectKey{Namespace: operatorNamespace, Name: claimName(customer.Spec.TenantID)}
	err = live.Get(ctx, key, lease) // one read per pass once claimed
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
			Labels: map[string]string{claimLabel: "true"}}, Spec: coordinationv1.LeaseSpec{HolderIdentity: &me}}
		err = c.Create(ctx, lease)
		if err == nil {
			return true, me, nil
		}
		if apierrors.IsAlreadyExists(err) {
			err = live.Get(ctx, key, lease) // another claimant was first
		}
	}
	if err != nil {
		return false, "", fmt.Errorf("claiming tenant %s for Customer %s/%s: %w", customer.Spec.TenantID, customer.Namespace, customer.Name, err)
	}
	current := ""
	if lease.Spec.HolderIdentity != nil {
		current = *lease.Spec.HolderIdentity
	}
	if current == me {
		return true, me, nil
	}
	if alive, err := holderExists(ctx, live, current); err != nil || alive {
		return false, current, err
	}
	lease.Spec.HolderIdentity = &me // the holder is gone: take it over, unless another claimant did first
	if err := c.Update(ctx, lease); err != nil {
		return false, current, fmt.Errorf("taking over the claim on tenant %s from deleted Customer %s: %w", customer.Spec.TenantID, current, err)
	}
	return true, me, nil
}

// holderExists: the Customer a claim names still exists (same UID).
func holderExists(ctx context.Context, live client.Reader, holder string) (bool, error) {
	parts := strings.SplitN(holder, "/", 3)
	if len(parts) != 3 {
		return false, nil
	}
	other := &v1alpha1.Customer{}
	err := live.Get(ctx, client.ObjectKey{Namespace: parts[0], Name: parts[1]}, other)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil && string(other.UID) == parts[2], client.IgnoreNotFound(err)
}

// HolderName is a claim holder as people read it: namespace/name.
func HolderName(holder string) string {
	if i := strings.LastIndex(holder, "/"); i > 0 {
		return holder[:i]
	}
	return holder
}

// MayActFor says whether the operator may act through partner for customer
// in namespace; when it may not, blocker says why (Stalled) and ok is false.
func MayActFor(ctx context.Context, c client.Reader, blocker *pass.Verdict, partner *v1alpha1.Partner, customer *v1alpha1.Customer, namespace string) (ok bool, err error) {
	claim := meta.FindStatusCondition(customer.Status.Conditions, v1alpha1.ConditionTenantClaimed)
	switch {
	case claim == nil:
		*blocker = pass.Progressing(v1alpha1.ReasonAwaitingTenantClaim, fmt.Sprintf("Customer %s's tenant %s is not claimed for it yet; the operator does so next.", customer.Name, customer.Spec.TenantID))
		return false, nil
	case claim.Status != metav1.ConditionTrue:
		*blocker = pass.Stalled(v1alpha1.ReasonTenantClaimedElsewhere, fmt.Sprintf("Customer %s: %s", customer.Name, claim.Message))
		return false, nil
	}
	// Every partner whose credentials may act here must serve the
	// namespace: the partner's own (Partner Center, or for an indirect
	// reseller Microsoft Graph only) and, for an indirect reseller, its
	// provider's (Partner Center).
	caller, err := CallerOf(ctx, c, partner)
	if err = ignoreCredentialsError(err); err != nil {
		return false, err
	}
	for _, p := range []*v1alpha1.Partner{partner, caller} {
		if p == nil || !p.HasCredentials() {
			continue // reference data: nothing is sent through it
		}
		serves, err := PartnerServes(ctx, c, p, namespace)
		if err != nil {
			return false, err
		}
		if !serves {
			*blocker = pass.Stalled(v1alpha1.ReasonPartnerNotAllowed, fmt.Sprintf(
				"Partner %s does not serve namespace %s (its spec.namespaceSelector does not select it), so nothing is done through its credentials here%s; a cluster admin who may edit Partners can add the namespace.",
				p.Name, namespace, map[bool]string{true: "", false: " for indirect reseller " + partner.Name}[p.Name == partner.Name]))
			return false, nil
		}
	}
	return true, nil
}

// PartnerServes: partner's spec.namespaceSelector selects namespace.
func PartnerServes(ctx context.Context, c client.Reader, partner *v1alpha1.Partner, namespace string) (bool, error) {
	if partner.Spec.NamespaceSelector == nil {
		return false, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(partner.Spec.NamespaceSelector)
	if err != nil {
		return false, nil // an invalid selector selects nothing; the Partner says why
	}
	ns := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		return false, fmt.Errorf("reading namespace %s's labels for partner %s's namespaceSelector: %w", namespace, partner.Name, err)
	}
	return sel.Matches(labels.Set(ns.Labels)), nil
}

// ignoreCredentialsError: a partner that cannot have a client is reported
// where its client is asked for, not here.
func ignoreCredentialsError(err error) error {
	var credErr *CredentialsError
	if errors.As(err, &credErr) {
		return nil
	}
	return err
}
