package core

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

// GetReference reads into obj the object a spec field names. When it does
// not exist, blocker says that waiter waits for it (GitOps tools apply objects in
// any order; a watch wakes the waiter when it appears) and found is false.
func GetReference(ctx context.Context, c client.Reader, blocker *pass.Verdict, key client.ObjectKey, obj client.Object, field, waiter string) (found bool, err error) {
	err = c.Get(ctx, key, obj)
	if !apierrors.IsNotFound(err) {
		return err == nil, err
	}
	kind, reason, where := "Partner", v1alpha1.ReasonPartnerNotFound, ""
	if _, ok := obj.(*v1alpha1.Customer); ok {
		kind, reason, where = "Customer", v1alpha1.ReasonCustomerNotFound, " in namespace "+key.Namespace
	}
	*blocker = pass.Progressing(reason, fmt.Sprintf("%s %s named by %s does not exist%s; the %s waits until it does.", kind, key.Name, field, where, waiter))
	return false, nil
}

// GetPartnerAndCustomer reads the Partner and the Customer (in namespace) a
// relationship's spec names; found is false while either is missing, or
// while the operator may not act through the partner for the customer there
// (MayActFor).
func GetPartnerAndCustomer(ctx context.Context, c client.Reader, blocker *pass.Verdict, namespace, partnerRef, customerRef, waiter string) (*v1alpha1.Partner, *v1alpha1.Customer, bool, error) {
	partner, customer := &v1alpha1.Partner{}, &v1alpha1.Customer{}
	if found, err := GetReference(ctx, c, blocker, client.ObjectKey{Name: partnerRef}, partner, "spec.partnerRef", waiter); !found {
		return nil, nil, false, err
	}
	if found, err := GetReference(ctx, c, blocker, client.ObjectKey{Namespace: namespace, Name: customerRef}, customer, "spec.customerRef", waiter); !found {
		return nil, nil, false, err
	}
	if ok, err := MayActFor(ctx, c, blocker, partner, customer, namespace); !ok {
		return nil, nil, false, err
	}
	return partner, customer, true, nil
}

// Usable sorts out why a partner's client could not be had: a partner
// without credentials is left to onReferenceOnly, which says what that means
// for the caller; credentials that cannot be used as declared make the object
// wait (Reconciling, with the partner's reason: fixing the Secret or the
// Partner wakes it); any other error fails the pass. ok is true when the
// client can be used.
func Usable(err error, blocker *pass.Verdict, partner *v1alpha1.Partner, service string, onReferenceOnly func()) (ok bool, _ error) {
	var credErr *CredentialsError
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrReferenceOnly):
		onReferenceOnly()
		return false, nil
	case errors.As(err, &credErr):
		*blocker = pass.Progressing(v1alpha1.ReasonPartnerNotReady, fmt.Sprintf("Partner %s cannot call %s: %s.", partner.Name, service, credErr.Error()))
		return false, nil
	}
	return false, err
}
