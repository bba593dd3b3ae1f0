// Package policy holds the partner's own gate as pure rules: which paths
// need the partner's authorization, and whether an ApprovalPolicy gives it.
// The operator applies them (controllers) and kubectl multichannel plan
// shows them; one place, so the two agree.
package policy

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// NeedsAuthorization: every path that buys or transfers. The
// ResellerRelationship path only needs the customer's consent.
func NeedsAuthorization(path v1alpha1.SwitchPath) bool {
	switch path {
	case v1alpha1.PathNewAzureSubscription, v1alpha1.PathPartnerSwitch, v1alpha1.PathNewLicenseSubscription:
		return true
	}
	return false
}

// CancelsSource: the subscription's disposition asks for the source to be cancelled.
func CancelsSource(sub *v1alpha1.CustomerSubscription) bool {
	a := sub.Spec.Azure
	return a != nil && (a.SourceDisposition == v1alpha1.SourceCancelServices || a.SourceDisposition == v1alpha1.SourceCancelSubscription)
}

// CoversPartner: the policy names the support partner, or its selector
// matches the partner's labels.
func CoversPartner(p *v1alpha1.ApprovalPolicy, partner *v1alpha1.Partner) bool {
	if slices.Contains(p.Spec.PartnerRefs, partner.Name) {
		return true
	}
	if p.Spec.PartnerSelector == nil {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(p.Spec.PartnerSelector)
	return err == nil && sel.Matches(labels.Set(partner.Labels))
}

// Authorizes says whether the policy authorizes the subscription on
// path with its support partner, and if not, the first rule that refuses.
func Authorizes(p *v1alpha1.ApprovalPolicy, sub *v1alpha1.CustomerSubscription, target *v1alpha1.Partner, path v1alpha1.SwitchPath) (bool, string) {
	switch {
	case !CoversPartner(p, target):
		return false, fmt.Sprintf("does not cover partner %s", target.Name)
	case len(p.Spec.Paths) > 0 && !slices.Contains(p.Spec.Paths, v1alpha1.ActingPath(path)):
		return false, fmt.Sprintf("does not cover path %s", path)
	case len(p.Spec.Offers) > 0 && !slices.Contains(p.Spec.Offers, sub.Spec.Offer.ID):
		return false, fmt.Sprintf("does not cover offer %s", sub.Spec.Offer.ID)
	case p.Spec.MaxQuantity != nil && sub.Spec.Quantity != nil && *sub.Spec.Quantity > *p.Spec.MaxQuantity:
		return false, fmt.Sprintf("allows at most %d licenses, the subscription has %d", *p.Spec.MaxQuantity, *sub.Spec.Quantity)
	case CancelsSource(sub) && !p.Spec.AllowSourceCancellation:
		return false, fmt.Sprintf("does not allow source cancellation (%s)", sub.Spec.Azure.SourceDisposition)
	}
	return true, ""
}
