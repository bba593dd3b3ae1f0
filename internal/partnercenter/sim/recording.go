package sim

import (
	"maps"
	"slices"
	"strconv"
)

// What each change records in the activity log and which event it raises.
// The caller of each holds s.mu.

// auditRelationship: the customer accepted (or declined) the partner's
// reseller request, through a link that may name an indirect reseller.
// An acceptance raises reseller-relationship-accepted-by-customer
// (ResourceUri {base}/v1/customers/{id}, ResourceName Customer, as the
// documented example).
func (s *Server) auditRelationship(partner, customer, reseller string, accepted bool) {
	c := change{partner: partner, others: []string{reseller}, customer: customer, resource: resourceRelationship,
		op: opRelationshipAccepted, status: statusDecline, by: customerActor(customer)}
	if accepted {
		c.status = statusSucceeded
		c.event = &webhookEvent{name: eventRelationshipAccepted, path: "/v1/customers/" + customer, resourceName: "Customer"}
	}
	s.audit(c)
}

// auditSubscription: a subscription changed (update_subscription, its old
// and new value), shown to its owner and others; it raises
// subscription-updated (ResourceUri
// {base}/webhooks/v1/customers/{customer}/subscriptions/{id}).
func (s *Server) auditSubscription(o *ownedSubscription, old subscription, by actor, others ...string) {
	var oldV any
	if old.ID != "" {
		oldV = old
	}
	s.audit(change{partner: o.Owner, others: others, customer: o.Customer, resource: resourceSubscription,
		resourceID: o.Subscription.ID, op: opUpdateSubscription, oldV: oldV, newV: o.Subscription, by: by,
		event: &webhookEvent{name: eventSubscriptionUpdated, path: "/webhooks/v1/customers/" + o.Customer + "/subscriptions/" + o.Subscription.ID,
			resourceName: "subscription"}})
}

// auditTransfer: a transfer was created (old nil: create_transfer) or
// changed (update_transfer) by partner, shown to both partners. Partner
// Center documents no transfer event.
func (s *Server) auditTransfer(t *transfer, old *transfer, partner string, by actor) {
	c := change{partner: partner, others: []string{t.TargetPartnerTenantID, t.SourcePartnerTenantID}, customer: t.CustomerTenantID,
		resource: resourceTransfer, resourceID: t.ID, op: opCreateTransfer, newV: t, by: by}
	if old != nil {
		c.op, c.oldV = opUpdateTransfer, old
	}
	s.audit(c)
}

// auditOrder: an order was created (create_order) or provisioned
// (update_order), its customizedData as the documented create_order
// record's. Partner Center documents no order event.
func (s *Server) auditOrder(o *orderRecord, op, status string, by actor) {
	s.audit(change{partner: o.Partner, customer: o.Customer, resource: resourceOrder, resourceID: o.Order.ID, op: op,
		status: status, newV: o.Order, data: orderData(o.Order), by: by})
}

func orderData(o order) []auditKeyValue {
	data := []auditKeyValue{kv("OrderId", o.ID), kv("AlternateId", o.AlternateID), kv("BillingCycle", o.BillingCycle)}
	for i, li := range o.LineItems {
		n := strconv.Itoa(i)
		data = append(data, kv("OfferId-"+n, li.OfferID), orNull("SubscriptionId-"+n, li.SubscriptionID),
			kv("SubscriptionName-"+n, li.FriendlyName), kv("Quantity-"+n, strconv.Itoa(li.Quantity)),
			orNull("PartnerOnRecord-"+n, li.PartnerIDOnRecord))
	}
	return data
}

// orNull is key with value, or null when value is empty, as the
// documented record writes PartnerOnRecord-0.
func orNull(key, value string) auditKeyValue {
	if value == "" {
		return auditKeyValue{Key: key}
	}
	return kv(key, value)
}

// auditOrderGroupRefused: checkout could not order a group (create_order,
// failed); the group names no order.
func (s *Server) auditOrderGroupRefused(partner, customer, group string) {
	s.audit(change{partner: partner, customer: customer, resource: resourceOrder, op: opCreateOrder, status: statusFailed,
		data: []auditKeyValue{kv("OrderGroupId", group)}, by: s.actor})
}

// auditAgreement: the customer's acceptance of the Microsoft Customer
// Agreement was recorded (create_agreement), by a partner's confirmation
// or by the customer, shown to the partners it holds a relationship with.
func (s *Server) auditAgreement(partner, customer string, a any, by actor) {
	partners := s.acceptedPartners(customer)
	if partner == "" && len(partners) == 0 {
		return // no partner's activity log shows it
	}
	if partner == "" {
		partner = partners[0]
	}
	s.audit(change{partner: partner, others: partners, customer: customer, resource: resourceAgreement, op: opCreateAgreement, newV: a, by: by})
}

// acceptedPartners are the partners the customer accepted, sorted.
func (s *Server) acceptedPartners(customer string) []string {
	var out []string
	for _, key := range slices.Sorted(maps.Keys(s.st.Relationships)) {
		if d := s.st.Relationships[key]; d.Customer == customer && d.Accepted {
			out = append(out, d.Partner)
		}
	}
	return out
}
