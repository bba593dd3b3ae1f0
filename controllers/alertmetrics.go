package controllers

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/graph"
)

// transferLifetime is how long the source partner has to accept a transfer
// before Partner Center expires it.
const transferLifetime = 30 * 24 * time.Hour

var (
	relationshipRequestedDesc = prometheus.NewDesc("multichannel_reseller_relationship_requested_timestamp_seconds",
		"When a ResellerRelationship still waiting for the customer's decision (phase Requested) was requested, in Unix seconds.",
		[]string{"namespace", "name", "customer", "partner"}, nil)
	transferExpiryDesc = prometheus.NewDesc("multichannel_transfer_expiry_timestamp_seconds",
		"When the pending transfer of a Switching CustomerSubscription expires unless the source partner accepts it (30 days after it was created), in Unix seconds.",
		[]string{"namespace", "name", "customer", "partner"}, nil)
	sourceRenewalDesc = prometheus.NewDesc("multichannel_source_renewal_timestamp_seconds",
		"When the source term of a license with another CSP partner that auto-renews ends, and renews unless the source partner turns auto-renew off, in Unix seconds.",
		[]string{"namespace", "name", "customer", "partner"}, nil)
	sourceAccessEndDesc = prometheus.NewDesc("multichannel_source_access_end_timestamp_seconds",
		"When the users of an expired license not yet bought anew lose access (30 days after it expired), in Unix seconds.",
		[]string{"namespace", "name", "customer", "partner"}, nil)
	invitationStateDesc = prometheus.NewDesc("multichannel_customer_invitation_state",
		"1 for each partner's invitation that asks a customer for something, by where it stands: Undelivered (no channel or no contact could be told), Delivering, DeliveryFailed, Reminding, RemindersExhausted.",
		[]string{"namespace", "customer", "partner", "state"}, nil)
	gdapEndDesc = prometheus.NewDesc("multichannel_gdap_relationship_end_timestamp_seconds",
		"When an Active or Expiring DelegatedAdminRelationship that will not auto-extend ends, in Unix seconds.",
		[]string{"namespace", "name", "customer", "partner"}, nil)
)

// alertCollector exports, for the objects that wait on another party, when
// the wait started or ends, read from the manager's cache at scrape time. Only
// objects in flight have a series, so the cardinality follows the work in
// progress, not the estate.
type alertCollector struct {
	cache atomic.Pointer[client.Reader]
}

var alertMetrics = &alertCollector{}

func (c *alertCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- relationshipRequestedDesc
	ch <- transferExpiryDesc
	ch <- gdapEndDesc
	ch <- sourceRenewalDesc
	ch <- sourceAccessEndDesc
	ch <- invitationStateDesc
}

func (c *alertCollector) Collect(ch chan<- prometheus.Metric) {
	cache := c.cache.Load()
	if cache == nil {
		return
	}
	ctx := context.Background()
	// The objects are only read: no deep copy of the cache's objects per scrape.
	rels := &v1alpha1.ResellerRelationshipList{}
	if err := (*cache).List(ctx, rels, client.UnsafeDisableDeepCopy); err == nil {
		for i := range rels.Items {
			r := &rels.Items[i]
			if r.Status.Phase != v1alpha1.RelationshipRequested || r.Status.RequestedAt == nil {
				continue
			}
			ch <- prometheus.MustNewConstMetric(relationshipRequestedDesc, prometheus.GaugeValue,
				unixSeconds(r.Status.RequestedAt.Time), r.Namespace, r.Name, r.Spec.CustomerRef, r.Spec.PartnerRef)
		}
	}
	subs := &v1alpha1.CustomerSubscriptionList{}
	if err := (*cache).List(ctx, subs, client.UnsafeDisableDeepCopy); err == nil {
		for i := range subs.Items {
			s := &subs.Items[i]
			if created, ok := transferCreated(s); ok {
				ch <- prometheus.MustNewConstMetric(transferExpiryDesc, prometheus.GaugeValue,
					unixSeconds(created.Add(transferLifetime)), s.Namespace, s.Name, s.Spec.CustomerRef, s.Spec.SupportPartnerRef)
			}
			if renews, ok := sourceRenewal(s); ok {
				ch <- prometheus.MustNewConstMetric(sourceRenewalDesc, prometheus.GaugeValue,
					unixSeconds(renews), s.Namespace, s.Name, s.Spec.CustomerRef, s.Spec.SupportPartnerRef)
			}
			if e := s.Status.Eligibility; e != nil && e.NotAfter != nil && s.Status.Phase != v1alpha1.PhaseCompleted {
				ch <- prometheus.MustNewConstMetric(sourceAccessEndDesc, prometheus.GaugeValue,
					unixSeconds(e.NotAfter.Time), s.Namespace, s.Name, s.Spec.CustomerRef, s.Spec.SupportPartnerRef)
			}
		}
	}
	gdaps := &v1alpha1.DelegatedAdminRelationshipList{}
	if err := (*cache).List(ctx, gdaps, client.UnsafeDisableDeepCopy); err == nil {
		for i := range gdaps.Items {
			g := &gdaps.Items[i]
			if (g.Status.Phase != v1alpha1.GDAPActive && g.Status.Phase != v1alpha1.GDAPExpiring) || g.Status.EndsAt == nil || autoExtends(g) {
				continue
			}
			ch <- prometheus.MustNewConstMetric(gdapEndDesc, prometheus.GaugeValue,
				unixSeconds(g.Status.EndsAt.Time), g.Namespace, g.Name, g.Spec.CustomerRef, g.Spec.PartnerRef)
		}
	}
	collectInvitations(ctx, *cache, ch)
}

// collectInvitations exports where each invitation that asks something stands.
func collectInvitations(ctx context.Context, cache client.Reader, ch chan<- prometheus.Metric) {
	customers := &v1alpha1.CustomerList{}
	if err := cache.List(ctx, customers, client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	for i := range customers.Items {
		c := &customers.Items[i]
		for j := range c.Status.Invitations {
			inv := &c.Status.Invitations[j]
			if len(inv.Actions) == 0 {
				continue
			}
			ch <- prometheus.MustNewConstMetric(invitationStateDesc, prometheus.GaugeValue, 1, c.Namespace, c.Name, inv.Partner, invitationStanding(inv))
		}
	}
}

// invitationStanding is where an invitation with actions stands, read from status alone.
func invitationStanding(inv *v1alpha1.CustomerInvitation) string {
	if inv.Digest != actionsDigest(inv.Actions) || len(inv.Deliveries) == 0 {
		return "Undelivered"
	}
	switch inv.Deliveries[0].Result {
	case v1alpha1.DeliveryRecorded:
		return "Delivering"
	case v1alpha1.DeliveryFailed:
		return "DeliveryFailed"
	}
	if inv.NextReminderAt == nil {
		return "RemindersExhausted"
	}
	return "Reminding"
}

// transferCreated is when the pending transfer of a Switching subscription was
// created in Partner Center (or, before it is confirmed, first recorded).
func transferCreated(s *v1alpha1.CustomerSubscription) (time.Time, bool) {
	op := s.Status.Operation
	if s.Status.Phase != v1alpha1.PhaseSwitching || op == nil || op.Type != v1alpha1.OperationCreateTransfer {
		return time.Time{}, false
	}
	switch {
	case op.CompletedAt != nil:
		return op.CompletedAt.Time, true
	case op.StartedAt != nil:
		return op.StartedAt.Time, true
	}
	return time.Time{}, false
}

// sourceRenewal is when a license waiting for its source term to end
// renews at the source, if it auto-renews.
func sourceRenewal(s *v1alpha1.CustomerSubscription) (time.Time, bool) {
	e := s.Status.Eligibility
	if e == nil || e.Reason != v1alpha1.ReasonLicenseTermActive || e.NotBefore == nil || s.Spec.Term == nil || !s.Spec.Term.AutoRenew {
		return time.Time{}, false
	}
	return e.NotBefore.Time, true
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func registerAlertMetrics(cache client.Reader) error {
	alertMetrics.cache.Store(&cache)
	err := metrics.Registry.Register(alertMetrics)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		return nil
	}
	return err
}

// autoExtends: Graph extends the relationship by itself at its end.
func autoExtends(g *v1alpha1.DelegatedAdminRelationship) bool {
	return autoExtendOf(g) == graph.AutoExtend180Days
}
