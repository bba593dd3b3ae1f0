package core

import (
	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

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
