package core

import (
	"strings"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// ConsentGiven: the relationship carries the customer's consent: what
// Partner Center showed, or, where the operator cannot call Partner Center
// for the partner (observable false: neither it nor, for an indirect
// reseller, its provider has credentials), a decision a person with verb
// approve recorded. Consent counts only for the tenant that gave it.
func ConsentGiven(rr *v1alpha1.ResellerRelationship, observable bool, customer *v1alpha1.Customer) bool {
	a := rr.Status.Approval
	if rr.Status.Phase != v1alpha1.RelationshipApproved || a == nil || a.Decision != v1alpha1.DecisionApproved ||
		!strings.EqualFold(a.TenantID, customer.Spec.TenantID) {
		return false
	}
	return a.Source == v1alpha1.ApprovalFromPartnerCenter || (a.Source == v1alpha1.ApprovalManual && !observable)
}

// CustomerTenantBy prefixes status.approval.by for a decision seen in Partner Center.
const CustomerTenantBy = "customer tenant "

// RelationshipRank orders phases by relevance: approved, then waiting, then refused.
func RelationshipRank(p v1alpha1.RelationshipPhase) int {
	switch p {
	case v1alpha1.RelationshipApproved:
		return 0
	case v1alpha1.RelationshipDenied, v1alpha1.RelationshipExpired:
		return 2
	default:
		return 1
	}
}

// BestRelationship prefers an approved relationship, then one still waiting,
// then a final refusal, newest first within each.
func BestRelationship(items []v1alpha1.ResellerRelationship, partner string) *v1alpha1.ResellerRelationship {
	rank := RelationshipRank
	var best *v1alpha1.ResellerRelationship
	for i := range items {
		rr := &items[i]
		if rr.Spec.PartnerRef != partner || !rr.DeletionTimestamp.IsZero() {
			continue
		}
		if best == nil || rank(rr.Status.Phase) < rank(best.Status.Phase) ||
			(rank(rr.Status.Phase) == rank(best.Status.Phase) && best.CreationTimestamp.Before(&rr.CreationTimestamp)) {
			best = rr
		}
	}
	return best
}
