package sim

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Partner Center error codes the simulator answers with: the documented ones
// (error-codes and TransferErrorCode tables) where there is one.
const (
	codeNotFound             = 1000   // NotFound
	codeInvalidProperty      = 3000   // BadRequest: invalid property
	codeNoRelationship       = 20002  // Forbidden: no commerce relationship
	codeSubscriptionNotFound = 20003  // NotFound: subscription
	codeTransferNotFound     = 900100 // TransferIdNotFound
	codeTransferInProgress   = 900101 // TransferNotAllowedIfStatusIsInProgress
	codeTransferCompleted    = 900102 // TransferNotAllowedIfStatusIsCompleted
	codePreconditionFailed   = 412    // undocumented: the simulator's own
	codeOrderRefused         = 800002 // an order group checkout could not order
	codeNotCancellable       = 800049 // undocumented: the simulator's own (the documentation says only "the API will throw an error")
	codeNoAPIAccess          = 403    // undocumented: the simulator's own
	codeAgreementRequired    = 13605  // Forbidden: the customer has not accepted the Microsoft Customer Agreement
)

// cancellationWindow is how long after purchase a new-commerce subscription
// can be cancelled with a refund: "within 7 days" (168 hours), in
// learn.microsoft.com/partner-center/developer/cancel-an-azure-marketplace-subscription.
const cancellationWindow = 7 * 24 * time.Hour

// newCommerce: a new-commerce catalog item ID names a product and SKU,
// and usually an availability (CFQ7TTC0LH0Z:0001:CFQ7TTC0K18P); a legacy
// offer ID is one GUID or code (MS-AZR-0145P) without colons.
func newCommerce(catalogItemID string) bool { return strings.Contains(catalogItemID, ":") }

// Participant keys a cart line item may name (create-a-cart).
var participantKeys = map[string]bool{"transaction_reseller": true, "additional_transaction_reseller": true}

// azurePlanProduct is the product ID of the Azure plan; what is bought with it is usage-based.
const azurePlanProduct = "DZH318Z0BPS6"

// Documented enumerations the simulator checks requests against.
var (
	// termDuration values cart-resources lists.
	termDurations = map[string]bool{"": true, "P1M": true, "P1Y": true, "P3Y": true}
	// Subscription statuses a partner may set.
	settableStatuses = map[string]bool{"active": true, "suspended": true, "deleted": true}
	// transferType: 3 and 5, the two values the TransferEntity page names.
	transferTypes = map[int]bool{3: true, 5: true}
)

// Transfer statuses as Partner Center writes them.
const (
	transferActive    = "Active"
	transferCompleted = "Completed"
	transferExpired   = "Expired"
	transferRejected  = "Reject"
	transferCancelled = "Cancel"
	// transferLineFailed: a line item that did not move, and a transfer none
	// of whose line items moved.
	transferLineFailed = "Failed"
)

func (s *Server) relationshipRequest(r *http.Request, partner string) reply {
	_, seen := s.st.LinkRequests[partner]
	if !seen {
		s.st.LinkRequests[partner] = s.now()
	}
	q := url.Values{"invType": {"ResellerRelationship"}, "partnerId": {partner}, "msppId": {"0"}, "DAP": {"true"}}
	if v := r.URL.Query().Get("indirectResellerId"); v != "" {
		q.Set("indirectResellerId", v)
		if !slices.Contains(s.st.LinkResellers[partner], v) {
			s.st.LinkResellers[partner] = append(s.st.LinkResellers[partner], v)
			seen = false // state changed
		}
	}
	if v := r.URL.Query().Get("indirectCloudSolutionProviderId"); v != "" {
		q.Set("indirectCSPId", v)
	}
	return ok(relationshipRequestBody{
		URL:        "https://admin.microsoft.com/Adminportal/Home?" + q.Encode() + "#/BillingAccounts/partner-invitation",
		Attributes: attributes{ObjectType: "RelationshipRequest"},
	}, !seen)
}

const (
	relationshipReseller = "reseller"
	relationshipNone     = "none"
)

// relationshipOf says how partner relates to customer, recording an automatic
// acceptance when one is due. It returns the relationshipToPartner value, or ""
// when the customer is not visible to the partner.
func (s *Server) relationshipOf(partner, customer string) (rel string, mutated bool) {
	if d := s.st.Relationships[partner+"|"+customer]; d != nil {
		if d.Accepted {
			return relationshipReseller, false
		}
	} else if s.opts.AutoApproveAfter > 0 {
		if asked, ok := s.st.LinkRequests[partner]; ok && !s.now().Before(asked.Add(s.opts.AutoApproveAfter)) {
			s.decide(partner, customer, true, "auto", "")
			for _, reseller := range s.st.LinkResellers[partner] {
				s.decide(partner, customer, true, "auto", reseller)
			}
			return relationshipReseller, true
		}
	}
	for _, o := range s.st.Subscriptions {
		if o.Owner == partner && o.Customer == customer {
			return relationshipNone, false
		}
	}
	return "", false
}

func (s *Server) decide(partner, customer string, accepted bool, source string, reseller string) {
	prev := s.st.Relationships[partner+"|"+customer]
	d := &relationship{Partner: partner, Customer: customer, Accepted: accepted, At: s.now(), Source: source}
	if prev != nil {
		d.IndirectResellers = prev.IndirectResellers
	}
	newReseller := accepted && reseller != "" && !slices.Contains(d.IndirectResellers, reseller)
	if newReseller {
		d.IndirectResellers = append(slices.Clone(d.IndirectResellers), reseller)
	}
	s.st.Relationships[partner+"|"+customer] = d
	if _, ok := s.st.Customers[customer]; !ok {
		s.st.Customers[customer] = &companyProfile{TenantID: customer}
	}
	if prev == nil || prev.Accepted != accepted || newReseller {
		s.auditRelationship(partner, customer, reseller, accepted)
	}
}

// customerRelationships lists the indirect resellers the customer accepted
// with the calling indirect provider ("Get indirect resellers of a customer").
func (s *Server) customerRelationships(r *http.Request, partner string) reply {
	customer := r.PathValue("customer")
	rel, mutated := s.relationshipOf(partner, customer)
	if rel == "" {
		return customerNotFound(customer)
	}
	out := collection[partnerRelationship]{Items: []partnerRelationship{}, Attributes: attributes{ObjectType: "Collection"}}
	if d := s.st.Relationships[partner+"|"+customer]; d != nil {
		for _, reseller := range d.IndirectResellers {
			out.Items = append(out.Items, partnerRelationship{ID: reseller, Name: "Indirect reseller " + reseller,
				RelationshipType: "is_indirect_cloud_solution_provider_of", Attributes: attributes{ObjectType: "PartnerRelationship"}})
		}
	}
	out.TotalCount = len(out.Items)
	return ok(out, mutated)
}

func customerNotFound(customer string) reply {
	return fail(http.StatusNotFound, codeNotFound, "Customer %s was not found: it has no relationship with the partner.", customer)
}

// simulatedEmail is the contact address of a simulated customer; a
// new-commerce transfer needs one.
func simulatedEmail(customer string) string { return "admin@" + customer + ".example.com" }

func (s *Server) getCustomer(r *http.Request, partner string) reply {
	customer := r.PathValue("customer")
	rel, mutated := s.relationshipOf(partner, customer)
	if rel == "" {
		return customerNotFound(customer)
	}
	// A customer known only through subscriptions has no profile but its tenant.
	profile := companyProfile{TenantID: customer}
	if p := s.st.Customers[customer]; p != nil {
		profile = *p
	}
	if profile.Email == "" {
		profile.Email = simulatedEmail(customer)
	}
	profile.Attributes = attributes{ObjectType: "CustomerCompanyProfile"}
	return ok(customerBody{
		ID: customer, CompanyProfile: profile, RelationshipToPartner: rel,
		AllowDelegatedAccess: rel == relationshipReseller,
		Links:                self("/customers/" + customer),
		Attributes:           attributes{ObjectType: "Customer"},
	}, mutated)
}

func (s *Server) listSubscriptions(r *http.Request, partner string) reply {
	customer := r.PathValue("customer")
	provisioned := s.provisionDue(partner, customer)
	rel, mutated := s.relationshipOf(partner, customer)
	if rel == "" {
		return customerNotFound(customer)
	}
	items := []subscription{}
	for _, o := range s.st.Subscriptions {
		if o.Owner == partner && o.Customer == customer {
			items = append(items, o.Subscription)
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	return ok(collection[subscription]{TotalCount: len(items), Items: items, Attributes: attributes{ObjectType: "Collection"}}, mutated || provisioned)
}

func (s *Server) ownedSubscription(r *http.Request, partner string) (*ownedSubscription, reply) {
	o := s.st.Subscriptions[r.PathValue("id")]
	if o == nil || o.Owner != partner || o.Customer != r.PathValue("customer") {
		return nil, fail(http.StatusNotFound, codeSubscriptionNotFound, "Subscription with ID %s not found.", r.PathValue("id"))
	}
	return o, reply{}
}

func (s *Server) getSubscription(r *http.Request, partner string) reply {
	provisioned := s.provisionDue(partner, r.PathValue("customer"))
	o, errReply := s.ownedSubscription(r, partner)
	if o == nil {
		return errReply
	}
	return ok(o.Subscription, provisioned)
}

// newEtag versions a subscription; an update must name the current one.
func newEtag() string { return strconv.Quote(uuid.NewString()) }

// updateSubscription takes the full subscription, as documented, with the
// ETag of the version it was read at in If-Match.
func (s *Server) updateSubscription(r *http.Request, partner string) reply {
	o, errReply := s.ownedSubscription(r, partner)
	if o == nil {
		return errReply
	}
	ifMatch := r.Header.Get("If-Match")
	if ifMatch == "" {
		return fail(http.StatusPreconditionFailed, codePreconditionFailed, "An update of subscription %s needs its ETag in If-Match.", o.Subscription.ID)
	}
	if ifMatch != o.Subscription.Attributes.Etag {
		return fail(http.StatusPreconditionFailed, codePreconditionFailed, "Subscription %s changed since ETag %s was read.", o.Subscription.ID, ifMatch)
	}
	var sub subscription
	if err := decode(r, &sub); err != nil {
		return fail(http.StatusBadRequest, codeInvalidProperty, "The request body is not a subscription: %v", err)
	}
	switch {
	case sub.ID == "" || sub.Quantity < 1 || sub.BillingType == "":
		// The documented example sends no offerId, so that is not asked for.
		return fail(http.StatusBadRequest, codeInvalidProperty, "A full Subscription resource is required: id, quantity or billingType is missing.")
	case !strings.EqualFold(sub.ID, o.Subscription.ID):
		return fail(http.StatusBadRequest, codeInvalidProperty, "The body's id %s is not subscription %s.", sub.ID, o.Subscription.ID)
	case !settableStatuses[sub.Status]:
		return fail(http.StatusBadRequest, codeInvalidProperty, "status %q cannot be set: use active, suspended or deleted.", sub.Status)
	case o.Subscription.Status == "deleted" && sub.Status != "deleted":
		return fail(http.StatusBadRequest, codeInvalidProperty, "Subscription %s is deleted and cannot be reactivated.", o.Subscription.ID)
	case sub.Status == "deleted" && o.Subscription.Status != "deleted" && newCommerce(o.Subscription.OfferID) && o.Subscription.BillingType == "license":
		// New commerce: cancellable within the window after purchase, then not at all.
		if until := o.Subscription.CancellationAllowedUntilDate; until == nil || s.now().After(*until) {
			return fail(http.StatusBadRequest, codeNotCancellable, "Subscription %s can no longer be cancelled: new commerce subscriptions can be cancelled only within 7 days of purchase or renewal (until %s).",
				o.Subscription.ID, formatUntil(until))
		}
	}
	// The simulator applies the status and the nickname; the rest is Partner Center's to change.
	old := o.Subscription
	o.Subscription.Status = sub.Status
	if sub.FriendlyName != "" {
		o.Subscription.FriendlyName = sub.FriendlyName
	}
	o.Subscription.Attributes.Etag = newEtag()
	if old.Status != o.Subscription.Status || old.FriendlyName != o.Subscription.FriendlyName {
		s.auditSubscription(o, old, s.actor)
	}
	return ok(o.Subscription, true)
}

func (s *Server) requireReseller(partner, customer string) (reply, bool) {
	if s.opts.SkipRelationshipCheck {
		return reply{}, true
	}
	rel, _ := s.relationshipOf(partner, customer)
	if rel != relationshipReseller {
		return fail(http.StatusForbidden, codeNoRelationship, "The partner ID %s has no commerce relationship with the customer ID %s.", partner, customer), false
	}
	return reply{}, true
}

// orderGroupOf groups line items into orders: the Azure plan apart from the rest.
func orderGroupOf(li cartLineItem) string {
	if isAzurePlan(li.CatalogItemID) {
		return "0"
	}
	return "1"
}

func (s *Server) createCart(r *http.Request, partner string) reply {
	customer := r.PathValue("customer")
	if rep, ok := s.requireReseller(partner, customer); !ok {
		return rep
	}
	if !s.hasAgreement(customer) {
		return fail(http.StatusForbidden, codeAgreementRequired, "Customer %s has not accepted the Microsoft Customer Agreement: a purchase needs the customer's acceptance of the latest agreement.", customer)
	}
	var req cartRequest
	if err := decode(r, &req); err != nil {
		return fail(http.StatusBadRequest, codeInvalidProperty, "The request body is not a cart: %v", err)
	}
	if len(req.LineItems) == 0 {
		return fail(http.StatusBadRequest, codeInvalidProperty, "lineItems is required: a cart needs at least one line item.")
	}
	if req.AttestationAccepted == nil || !*req.AttestationAccepted {
		return fail(http.StatusBadRequest, codeInvalidProperty, "PartnerOnRecordAttestationAccepted is required: the partner must attest the partners on record of the cart.")
	}
	for _, li := range req.LineItems {
		if msg := lineItemShapeRefusal(li); msg != "" {
			return fail(http.StatusBadRequest, codeInvalidProperty, "%s", msg)
		}
	}
	if rep, refused := s.cartRefusal(partner, customer, req.LineItems); refused {
		return rep
	}
	now := s.now()
	expires := now.Add(15 * time.Minute)
	c := cart{ID: uuid.NewString(), CreationTimestamp: &now, LastModifiedTimestamp: &now, ExpirationTimestamp: &expires,
		Status: "Active", Attributes: attributes{ObjectType: "Cart"}}
	for _, li := range req.LineItems {
		// The cart answers the billing cycle in its wire form ("Monthly" is sent
		// as "monthly" in the documented new-commerce cart and its answer).
		li.CurrencyCode, li.BillingCycle = "USD", canonicalCycle(li.BillingCycle)
		li.OrderGroup = orderGroupOf(li)
		c.LineItems = append(c.LineItems, li)
	}
	c.Links = self("/customers/" + customer + "/carts/" + c.ID)
	s.st.Carts[c.ID] = &cartRecord{Partner: partner, Customer: customer, Cart: c}
	s.st.Stats.ObjectsCreated["cart"]++
	return created(c)
}

// lineItemShapeRefusal is what is wrong with a line item before the catalog
// is asked (participants, required fields, documented enumerations), or "".
func lineItemShapeRefusal(li cartLineItem) string {
	if msg := checkParticipants(li); msg != "" {
		return fmt.Sprintf("Line item %d: %s", li.ID, msg)
	}
	cycle := canonicalCycle(li.BillingCycle)
	switch {
	case li.CatalogItemID == "" || li.Quantity < 1:
		return fmt.Sprintf("Line item %d needs a catalogItemId and a quantity of at least 1.", li.ID)
	case li.BillingCycle == "":
		return fmt.Sprintf("Line item %d needs billingCycle.", li.ID)
	case cycle == "":
		return fmt.Sprintf("Line item %d: billingCycle %q is not a billing cycle.", li.ID, li.BillingCycle)
	case !termDurations[li.TermDuration]:
		return fmt.Sprintf("Line item %d: termDuration %q is not P1M, P1Y or P3Y.", li.ID, li.TermDuration)
	case cycle == cycleTriennial && li.TermDuration != "P3Y", cycle == cycleAnnual && li.TermDuration == "P1M":
		return fmt.Sprintf("Line item %d: a %s term cannot be billed %s.", li.ID, li.TermDuration, li.BillingCycle)
	}
	return ""
}

// checkParticipants: documented keys, Partner IDs (digits), at most one
// transaction reseller.
func checkParticipants(li cartLineItem) string {
	resellers := 0
	for _, p := range li.Participants {
		switch {
		case !participantKeys[p.Key]:
			return fmt.Sprintf("participant key %q is not transaction_reseller or additional_transaction_reseller.", p.Key)
		case p.Value == "" || strings.Trim(p.Value, "0123456789") != "":
			return fmt.Sprintf("participant %s %q is not a Partner ID.", p.Key, p.Value)
		case p.Key == "transaction_reseller":
			resellers++
		}
	}
	if resellers > 1 {
		return "participants name more than one transaction_reseller."
	}
	return ""
}

// transactionReseller is the Partner ID on record a line item names, or "".
func transactionReseller(li cartLineItem) string {
	for _, p := range li.Participants {
		if p.Key == "transaction_reseller" {
			return p.Value
		}
	}
	return ""
}

func formatUntil(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// checkout makes one order per order group. With ProvisioningDelay the
// orders stay pending, without subscription IDs, until it has passed.
func (s *Server) checkout(r *http.Request, partner string) reply {
	customer := r.PathValue("customer")
	rec := s.st.Carts[r.PathValue("id")]
	if rec == nil || rec.Partner != partner || rec.Customer != customer {
		return fail(http.StatusNotFound, codeNotFound, "Cart %s was not found for customer %s.", r.PathValue("id"), customer)
	}
	if rec.Cart.Status != "Active" {
		return fail(http.StatusBadRequest, codeInvalidProperty, "Cart %s was already checked out as orders %v.", rec.Cart.ID, rec.OrderIDs)
	}
	if len(rec.Cart.LineItems) == 0 {
		return fail(http.StatusBadRequest, codeInvalidProperty, "Cart %s is empty.", rec.Cart.ID)
	}
	now := s.now()
	var groups []string
	byGroup := map[string][]cartLineItem{}
	for _, li := range rec.Cart.LineItems {
		if _, seen := byGroup[li.OrderGroup]; !seen {
			groups = append(groups, li.OrderGroup)
		}
		byGroup[li.OrderGroup] = append(byGroup[li.OrderGroup], li)
	}
	result := cartCheckoutResult{Orders: []order{}, Attributes: attributes{ObjectType: "CartCheckoutResult"}}
	for _, g := range groups {
		if code, reason := s.checkoutRefusal(partner, customer, byGroup[g]); code != 0 {
			result.OrderErrors = append(result.OrderErrors, orderError{OrderGroupID: g, Code: code, Description: reason})
			s.auditOrderGroupRefused(partner, customer, g)
			continue
		}
		id := uuid.NewString()
		o := &orderRecord{Partner: partner, Customer: customer, ReadyAt: now.Add(s.opts.ProvisioningDelay), Items: byGroup[g],
			Order: order{ID: id, AlternateID: id[:12], ReferenceCustomerID: customer, BillingCycle: byGroup[g][0].BillingCycle,
				CurrencyCode: "USD", CreationDate: &now, Status: "pending", TransactionType: "UserPurchase",
				Links: self("/customers/" + customer + "/orders/" + id), Attributes: attributes{ObjectType: "Order"}}}
		for i, li := range byGroup[g] {
			o.Order.LineItems = append(o.Order.LineItems, orderLineItem{LineItemNumber: i, OfferID: li.CatalogItemID,
				TermDuration: li.TermDuration, TransactionType: "New", FriendlyName: li.FriendlyName, Quantity: li.Quantity,
				PartnerIDOnRecord: transactionReseller(li)})
		}
		s.st.Orders[id] = o
		s.countAzurePlans(partner, customer, byGroup[g])
		s.auditOrder(o, opCreateOrder, "", s.actor)
		s.refreshOrder(o)
		rec.OrderIDs = append(rec.OrderIDs, id)
		s.st.Stats.ObjectsCreated["order"]++
		s.st.Stats.ObjectsCreated["orderLineItem"] += len(byGroup[g]) // each a subscription sold, once provisioned
		result.Orders = append(result.Orders, o.Order)
	}
	rec.Cart.Status = "Ordered"
	return created(result) // 201, as the documented checkout answers
}

// countAzurePlans counts the Azure plans an order buys (Stats.AzurePlansBought).
func (s *Server) countAzurePlans(partner, customer string, items []cartLineItem) {
	for _, li := range items {
		if isAzurePlan(li.CatalogItemID) {
			if s.st.Stats.AzurePlansBought == nil {
				s.st.Stats.AzurePlansBought = map[string]int{}
			}
			s.st.Stats.AzurePlansBought[partner+"|"+customer]++
		}
	}
}

// refreshOrder provisions a pending order's subscriptions once it is due.
func (s *Server) refreshOrder(o *orderRecord) (mutated bool) {
	if o.Order.Status != "pending" || s.now().Before(o.ReadyAt) {
		return false
	}
	provisioned, final := 0, ""
	for i, li := range o.Items {
		if status, ok := s.opts.UnprovisionedAtDue[li.CatalogItemID]; ok {
			final = status
			continue
		}
		provisioned++
		sub := s.provision(o, li)
		if !s.opts.HideSubscriptionIDs {
			o.Order.LineItems[i].SubscriptionID = sub.ID
		}
	}
	status := statusSucceeded
	switch {
	case final == "":
		o.Order.Status = "completed"
	case provisioned > 0:
		o.Order.Status = "partial success"
	default:
		o.Order.Status, status = final, statusFailed
	}
	o.Items = nil
	s.auditOrder(o, opUpdateOrder, status, systemActor())
	return true
}

// provision creates the subscription a line item bought. An Azure plan is
// billed by usage and comes with its first Azure subscription (an
// entitlement); a license runs for its term, and a new-commerce one can be
// cancelled within the window.
func (s *Server) provision(o *orderRecord, li cartLineItem) subscription {
	now := s.now()
	sub := subscription{
		ID: uuid.NewString(), OfferID: li.CatalogItemID, OfferName: li.FriendlyName, FriendlyName: li.FriendlyName,
		Quantity: li.Quantity, CreationDate: &now, EffectiveStartDate: &now, Status: "active",
		BillingCycle: li.BillingCycle, TermDuration: li.TermDuration, ContractType: "subscription", OrderID: o.Order.ID,
		PartnerID: transactionReseller(li), Attributes: attributes{ObjectType: "Subscription", Etag: newEtag()},
	}
	if c := s.availabilityFor(o.Customer, li.CatalogItemID); c != nil {
		sub.OfferName = c.title
		if sub.FriendlyName == "" {
			sub.FriendlyName = c.title
		}
	}
	if isAzurePlan(li.CatalogItemID) {
		sub.BillingType, sub.UnitType = "usage", "Usage-based"
		s.addEntitlement(sub.ID, firstAzureSubscriptionName)
	} else {
		end := termEnd(now, li.TermDuration)
		sub.BillingType, sub.UnitType, sub.CommitmentEndDate, sub.AutoRenewEnabled = "license", "Licenses", &end, true
		if newCommerce(li.CatalogItemID) {
			until := now.Add(cancellationWindow)
			sub.CancellationAllowedUntilDate = &until
			sub.RefundOptions = []refundOption{{Type: "Full", ExpiresAt: &until}}
		}
	}
	s.st.Subscriptions[sub.ID] = &ownedSubscription{Owner: o.Partner, Customer: o.Customer, Subscription: sub}
	s.st.Stats.ObjectsCreated["subscription"]++
	return sub
}

// termEnd is when a term that starts at start ends (one year without a term).
func termEnd(start time.Time, termDuration string) time.Time {
	switch termDuration {
	case "P1M":
		return start.AddDate(0, 1, 0)
	case "P3Y":
		return start.AddDate(3, 0, 0)
	}
	return start.AddDate(1, 0, 0)
}

// provisionDue completes the partner's due orders for the customer, so that
// reads of subscriptions see what has been provisioned.
func (s *Server) provisionDue(partner, customer string) (mutated bool) {
	for _, o := range s.st.Orders {
		if o.Partner == partner && o.Customer == customer && s.refreshOrder(o) {
			mutated = true
		}
	}
	return mutated
}

func (s *Server) getOrder(r *http.Request, partner string) reply {
	o := s.st.Orders[r.PathValue("id")]
	if o == nil || o.Partner != partner || o.Customer != r.PathValue("customer") {
		return fail(http.StatusNotFound, codeNotFound, "Order %s was not found for customer %s.", r.PathValue("id"), r.PathValue("customer"))
	}
	return ok(o.Order, s.refreshOrder(o))
}

// createTransfer is the target partner's new-commerce transfer request. It
// names the source partner and the customer's contact; the source partner
// adds the line items when it accepts.
func (s *Server) createTransfer(r *http.Request, partner string) reply {
	customer := r.PathValue("customer")
	if rep, ok := s.requireReseller(partner, customer); !ok {
		return rep
	}
	var req transferRequest
	if err := decode(r, &req); err != nil {
		return fail(http.StatusBadRequest, codeInvalidProperty, "The request body is not a transfer: %v", err)
	}
	switch {
	case req.SourcePartnerTenantID == "":
		return fail(http.StatusBadRequest, codeInvalidProperty, "sourcePartnerTenantId is required.")
	case req.SourcePartnerName == "":
		return fail(http.StatusBadRequest, codeInvalidProperty, "sourcePartnerName is required.")
	case req.CustomerEmailID == "":
		return fail(http.StatusBadRequest, codeInvalidProperty, "customerEmailId is required.")
	case req.TransferType == nil:
		return fail(http.StatusBadRequest, codeInvalidProperty, "transferType is required.")
	case !transferTypes[*req.TransferType]:
		return fail(http.StatusBadRequest, codeInvalidProperty, "transferType %d is not a transfer type: 3 or 5.", *req.TransferType)
	case req.SourcePartnerTenantID == partner:
		return fail(http.StatusBadRequest, codeInvalidProperty, "A partner cannot transfer subscriptions to itself.")
	case req.TargetPartnerTenantID != "" && req.TargetPartnerTenantID != partner:
		return fail(http.StatusBadRequest, codeInvalidProperty, "targetPartnerTenantId %s is not the calling partner.", req.TargetPartnerTenantID)
	case req.PartnerOnRecord != "" && strings.Trim(req.PartnerOnRecord, "0123456789") != "":
		return fail(http.StatusBadRequest, codeInvalidProperty, "partnerOnRecord %q is not a Partner ID.", req.PartnerOnRecord)
	}
	if rep, refused := s.transferRefusal(partner, customer, req); refused {
		return rep
	}
	now := s.now()
	expires := now.Add(TransferLifetime)
	t := &transfer{
		ID: uuid.NewString(), Status: transferActive, TransferType: *req.TransferType, CustomerEmailID: req.CustomerEmailID,
		CreatedTime: &now, LastModifiedTime: &now, ExpirationTime: &expires,
		CustomerName: req.CustomerName, CustomerTenantID: customer, PartnerTenantID: partner,
		SourcePartnerName: req.SourcePartnerName, SourcePartnerTenantID: req.SourcePartnerTenantID,
		TargetPartnerTenantID: partner, TargetProductTypes: req.TargetProductTypes, LineItems: []transferLineItem{},
		Attributes: attributes{ObjectType: "TransferEntity"},
	}
	t.Links = self("/customers/" + customer + "/transfers/" + t.ID)
	s.st.Transfers[t.ID] = t
	if req.PartnerOnRecord != "" {
		s.st.TransferPartnerOnRecord[t.ID] = req.PartnerOnRecord
	}
	s.st.Stats.ObjectsCreated["transfer"]++
	s.auditTransfer(t, nil, partner, s.actor)
	return created(t)
}

// visibleTransfer finds a transfer of the customer that partner is a party to,
// bringing its status up to date with the clock first.
func (s *Server) visibleTransfer(r *http.Request, partner string) (*transfer, bool, reply) {
	t := s.st.Transfers[r.PathValue("id")]
	if t == nil || t.CustomerTenantID != r.PathValue("customer") || (t.TargetPartnerTenantID != partner && t.SourcePartnerTenantID != partner) {
		return nil, false, fail(http.StatusNotFound, codeTransferNotFound, "Transfer request %s not found for customer %s.", r.PathValue("id"), r.PathValue("customer"))
	}
	return t, s.refreshTransfer(t), reply{}
}

// refreshTransfer applies what time does to an active transfer: automatic
// acceptance, or expiry 30 days after creation.
func (s *Server) refreshTransfer(t *transfer) (mutated bool) {
	if t.Status != transferActive {
		return false
	}
	now := s.now()
	switch {
	case s.opts.AutoApproveAfter > 0 && !now.Before(t.CreatedTime.Add(s.opts.AutoApproveAfter)) && now.Before(*t.ExpirationTime):
		s.completeTransfer(t, nil, systemActor())
	case !now.Before(*t.ExpirationTime):
		old := *t
		t.Status = transferExpired
		t.LastModifiedTime = t.ExpirationTime
		s.auditTransfer(t, &old, t.TargetPartnerTenantID, systemActor())
	default:
		return false
	}
	return true
}

// completeTransfer is the source partner's acceptance (by by): the line
// items it names (by default every subscription it has with the customer)
// move to the target partner under the same IDs. It returns the target's order.
func (s *Server) completeTransfer(t *transfer, items []transferLineItem, by actor) order {
	now, old := s.now(), *t
	if len(items) == 0 {
		var ids []string
		for id, o := range s.st.Subscriptions {
			if o.Owner == t.SourcePartnerTenantID && o.Customer == t.CustomerTenantID {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		for _, id := range ids {
			sub := s.st.Subscriptions[id].Subscription
			items = append(items, transferLineItem{SubscriptionID: id, OfferID: sub.OfferID, BillingCycle: sub.BillingCycle,
				TermDuration: sub.TermDuration, FriendlyName: sub.FriendlyName, Quantity: sub.Quantity})
		}
	}
	id := uuid.NewString()
	o := order{ID: id, AlternateID: id[:12], ReferenceCustomerID: t.CustomerTenantID, CurrencyCode: "USD", CreationDate: &now,
		Status: "completed", TransactionType: "UserPurchase", LineItems: []orderLineItem{}, Attributes: attributes{ObjectType: "Order"}}
	moved := 0
	for i := range items {
		li := &items[i]
		li.ID = i
		if li.AddonItems == nil {
			li.AddonItems = []transferLineItem{}
		}
		if li.TransferError != "" {
			// The source partner's acceptance named an error for this line
			// item: it stays where it is, the others move.
			li.Status = transferLineFailed
			continue
		}
		li.Status, moved = transferCompleted, moved+1
		if por := s.st.TransferPartnerOnRecord[t.ID]; por != "" {
			li.PartnerIDOnRecord = por
		}
		s.moveSubscription(t, li, by)
		o.LineItems = append(o.LineItems, orderLineItem{LineItemNumber: i, OfferID: li.OfferID, SubscriptionID: li.SubscriptionID,
			TermDuration: li.TermDuration, TransactionType: "New", FriendlyName: li.FriendlyName, Quantity: li.Quantity})
	}
	t.LineItems = items
	t.Status = transferCompleted
	if moved == 0 && len(items) > 0 {
		t.Status = transferLineFailed
	}
	t.CompletedTime, t.LastModifiedTime = &now, &now
	s.auditTransfer(t, &old, t.SourcePartnerTenantID, by)
	return o
}

// moveSubscription gives a transferred line item's subscription to the
// target partner, recording the change for both partners.
func (s *Server) moveSubscription(t *transfer, li *transferLineItem, by actor) {
	own := s.st.Subscriptions[li.SubscriptionID]
	var old subscription
	if own != nil {
		old = own.Subscription
		own.Owner = t.TargetPartnerTenantID
		own.Subscription.PartnerID = li.PartnerIDOnRecord
		own.Subscription.Attributes.Etag = newEtag()
	} else {
		now := s.now()
		own = &ownedSubscription{Owner: t.TargetPartnerTenantID, Customer: t.CustomerTenantID,
			Subscription: subscription{ID: li.SubscriptionID, OfferID: li.OfferID, FriendlyName: li.FriendlyName,
				Quantity: max(1, li.Quantity), Status: "active", BillingType: "usage", BillingCycle: li.BillingCycle, CreationDate: &now,
				Attributes: attributes{ObjectType: "Subscription", Etag: newEtag()}}}
		s.st.Subscriptions[li.SubscriptionID] = own
	}
	s.auditSubscription(own, old, by, t.SourcePartnerTenantID)
}

func (s *Server) getTransfer(r *http.Request, partner string) reply {
	t, mutated, errReply := s.visibleTransfer(r, partner)
	if t == nil {
		return errReply
	}
	return ok(t, mutated)
}

// refuseChange answers a change to a transfer that is no longer pending.
func refuseChange(t *transfer) reply {
	if t.Status == transferCompleted {
		return fail(http.StatusBadRequest, codeTransferCompleted, "The transfer request %s is already complete.", t.ID)
	}
	return fail(http.StatusBadRequest, codeTransferInProgress, "Transfer %s is %s and can no longer change.", t.ID, t.Status)
}

// updateTransfer takes the documented status changes: the target partner
// cancels ("Cancel"), the source partner rejects ("reject", answered as
// "Reject"). Anything else is refused.
func (s *Server) updateTransfer(r *http.Request, partner string) reply {
	t, _, errReply := s.visibleTransfer(r, partner)
	if t == nil {
		return errReply
	}
	var patch transferPatch
	if err := decode(r, &patch); err != nil {
		return fail(http.StatusBadRequest, codeInvalidProperty, "The request body is not a transfer: %v", err)
	}
	if patch.ID != "" && patch.ID != t.ID {
		return fail(http.StatusBadRequest, codeInvalidProperty, "The body's id %s is not transfer %s.", patch.ID, t.ID)
	}
	var status string
	switch {
	case strings.EqualFold(patch.Status, transferCancelled) && partner == t.TargetPartnerTenantID:
		status = transferCancelled
	case strings.EqualFold(patch.Status, transferRejected) && partner == t.SourcePartnerTenantID:
		status = transferRejected
	default:
		return fail(http.StatusBadRequest, codeInvalidProperty,
			"status %q cannot be set by this partner: the target partner may set Cancel, the source partner reject.", patch.Status)
	}
	if t.Status == status {
		return ok(t, false) // setting the status it has is a no-op, so retries are safe
	}
	if t.Status != transferActive {
		return refuseChange(t)
	}
	now, old := s.now(), *t
	t.Status, t.LastModifiedTime = status, &now
	s.auditTransfer(t, &old, partner, s.actor)
	return ok(t, true)
}

// acceptTransfer is the source partner's POST .../transfers/{id}/accept.
func (s *Server) acceptTransfer(r *http.Request, partner string) reply {
	t, _, errReply := s.visibleTransfer(r, partner)
	if t == nil {
		return errReply
	}
	if partner != t.SourcePartnerTenantID {
		return fail(http.StatusForbidden, 2032, "Only the source partner can accept transfer %s.", t.ID)
	}
	if t.Status != transferActive {
		return refuseChange(t)
	}
	o := s.completeTransfer(t, nil, s.actor)
	return ok(transferSubmitResult{Orders: []order{o}, TransferErrors: []transferError{}}, true)
}

// Acting parties: the customer answering a request, the source partner answering a transfer.

func (s *Server) decideRelationship(accept bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			PartnerTenantID  string `json:"partnerTenantId"`
			CustomerTenantID string `json:"customerTenantId"`
			// IndirectResellerID: the link accepted named this indirect reseller.
			IndirectResellerID string `json:"indirectResellerId"`
		}
		if err := decode(r, &req); err != nil || req.PartnerTenantID == "" || req.CustomerTenantID == "" {
			writeJSON(w, http.StatusBadRequest, errorOf(codeInvalidProperty, "partnerTenantId and customerTenantId are required"))
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.decide(req.PartnerTenantID, req.CustomerTenantID, accept, "customer", req.IndirectResellerID)
		if !s.persist(w) {
			return
		}
		writeJSON(w, http.StatusOK, s.st.Relationships[req.PartnerTenantID+"|"+req.CustomerTenantID])
	}
}

// answerTransfer is the source partner's answer. Accepting may name the line
// items ({"lineItems": [{"subscriptionId": ...}]}); without them every
// subscription the source partner has with the customer moves. A line item
// given with a transferError does not move and reports that error.
func (s *Server) answerTransfer(accept bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req acceptRequest
		if err := decode(r, &req); err != nil && !errors.Is(err, io.EOF) {
			writeJSON(w, http.StatusBadRequest, errorOf(codeInvalidProperty, `the body is not {"lineItems": [...]}: `+err.Error()))
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		t := s.st.Transfers[r.PathValue("id")]
		if t == nil {
			writeJSON(w, http.StatusNotFound, errorOf(codeTransferNotFound, "no such transfer"))
			return
		}
		s.refreshTransfer(t)
		if t.Status != transferActive {
			writeJSON(w, http.StatusConflict, errorOf(codeTransferCompleted, "the transfer is "+t.Status))
			return
		}
		by := portalActor(t.SourcePartnerTenantID, "")
		if accept {
			s.completeTransfer(t, req.LineItems, by)
		} else {
			now, old := s.now(), *t
			t.Status, t.LastModifiedTime = transferRejected, &now
			s.auditTransfer(t, &old, t.SourcePartnerTenantID, by)
		}
		if !s.persist(w) {
			return
		}
		writeJSON(w, http.StatusOK, t)
	}
}

func (s *Server) advanceClock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Duration string `json:"duration"`
	}
	var d time.Duration
	err := decode(r, &req)
	if err == nil {
		d, err = time.ParseDuration(req.Duration)
	}
	if err != nil || d < 0 {
		writeJSON(w, http.StatusBadRequest, errorOf(codeInvalidProperty, `duration must be a non-negative Go duration such as "720h"`))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ClockOffset += d
	s.applyDue() // what time did is recorded now, not when someone next looks
	if !s.persist(w) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"now": s.now(), "offset": s.st.ClockOffset.String()})
}

// acceptAgreement is the customer accepting the Microsoft Customer
// Agreement ({"customerTenantId": ...}).
func (s *Server) acceptAgreement(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CustomerTenantID string `json:"customerTenantId"`
	}
	if err := decode(r, &req); err != nil || req.CustomerTenantID == "" {
		writeJSON(w, http.StatusBadRequest, errorOf(codeInvalidProperty, "customerTenantId is required"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.Agreements[req.CustomerTenantID] {
		s.st.Agreements[req.CustomerTenantID] = true
		s.auditAgreement("", req.CustomerTenantID, map[string]string{"type": agreementTypeMCA, "agreementLink": agreementLinkMCA}, customerActor(req.CustomerTenantID))
	}
	if !s.persist(w) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"customerTenantId": req.CustomerTenantID})
}
