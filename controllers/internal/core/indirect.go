package core

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// An indirect reseller has no Partner Center API access of its own: what
// it declares is done with its indirect provider's credentials and request
// budget, and the reseller is named where Partner Center records it: as
// the transaction reseller (partner of record) of a cart's line items, and
// as indirectResellerId in the request link. Its own credentials, if it has
// any, serve Microsoft Graph (GDAP) only.

// CallerOf is the Partner whose credentials call Partner Center for
// partner: its indirect provider for an indirect reseller, itself for any
// other. A reseller whose provider is missing or not an IndirectProvider
// has no caller: the error says why, as a CredentialsError.
func CallerOf(ctx context.Context, c client.Reader, partner *v1alpha1.Partner) (*v1alpha1.Partner, error) {
	if partner.Spec.CSPType != v1alpha1.CSPTypeIndirectReseller {
		return partner, nil
	}
	ref := partner.Spec.IndirectProviderRef
	provider := &v1alpha1.Partner{}
	err := c.Get(ctx, client.ObjectKey{Name: ref}, provider)
	switch {
	case apierrors.IsNotFound(err):
		return nil, &CredentialsError{string(v1alpha1.ReasonResellerWithoutProvider), fmt.Sprintf(
			"indirect reseller %s has no Partner Center API access of its own, and its indirect provider %s (spec.indirectProviderRef) does not exist", partner.Name, ref)}
	case err != nil:
		return nil, err
	case provider.Spec.CSPType != v1alpha1.CSPTypeIndirectProvider:
		return nil, &CredentialsError{string(v1alpha1.ReasonResellerWithoutProvider), fmt.Sprintf(
			"indirect reseller %s has no Partner Center API access of its own, and %s (spec.indirectProviderRef) has cspType %s, not IndirectProvider", partner.Name, ref, provider.Spec.CSPType)}
	}
	return provider, nil
}

// CallsPartnerCenter: the operator can call Partner Center for partner (so
// the customer's consent is what Partner Center shows): partner, or for an
// indirect reseller its indirect provider, has credentials.
func CallsPartnerCenter(ctx context.Context, c client.Reader, partner *v1alpha1.Partner) (bool, error) {
	caller, err := CallerOf(ctx, c, partner)
	if err = ignoreCredentialsError(err); err != nil {
		return false, err
	}
	return caller != nil && caller.HasCredentials(), nil
}

// CallerClient is the Partner Center client that calls for partner, and
// the Partner it belongs to.
func (p *PartnerClients) CallerClient(ctx context.Context, c client.Reader, partner *v1alpha1.Partner) (*pc.Client, *v1alpha1.Partner, error) {
	caller, err := CallerOf(ctx, c, partner)
	if err != nil {
		return nil, partner, err
	}
	if caller != partner && partner.Spec.PartnerID == "" {
		// Declared before partnerID was required: nothing is sent that
		// would name no partner of record.
		return nil, caller, &CredentialsError{string(v1alpha1.ReasonResellerWithoutProvider), fmt.Sprintf(
			"indirect reseller %s has no spec.partnerID, which Partner Center records as the partner of record of what its indirect provider %s does for it; set it", partner.Name, caller.Name)}
	}
	cl, err := p.Get(ctx, caller)
	return cl, caller, err
}

// OnRecord is what a cart line item names for partner: its Partner ID as
// transaction reseller when it is an indirect reseller, nothing otherwise
// (the partner buying is then the partner of record).
func OnRecord(partner *v1alpha1.Partner) []pc.Participant {
	if partner == nil || partner.Spec.CSPType != v1alpha1.CSPTypeIndirectReseller {
		return nil
	}
	return []pc.Participant{{Key: pc.ParticipantTransactionReseller, Value: partner.Spec.PartnerID}}
}

// PartnerIDOnRecord is the Partner ID a transfer names as partner of
// record: an indirect reseller's, or none.
func PartnerIDOnRecord(partner *v1alpha1.Partner) string {
	if partner.Spec.CSPType != v1alpha1.CSPTypeIndirectReseller {
		return ""
	}
	return partner.Spec.PartnerID
}

// ActingFor says, for messages, whose credentials act for partner.
func ActingFor(caller, partner *v1alpha1.Partner) string {
	if caller == nil || caller.Name == partner.Name {
		return "partner " + partner.Name
	}
	return fmt.Sprintf("indirect provider %s (for indirect reseller %s)", caller.Name, partner.Name)
}

// Capitalize starts a sentence with s.
func Capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
