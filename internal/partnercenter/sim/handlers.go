package sim

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// Partner Center error codes the simulator answers with.
const (
	codeNotFound        = 600008
	codeNoRelationship  = 800002
	codeInvalidInput    = 400
	codeAlreadyDone     = 800026
	codeInvalidTransfer = 900001
)

// azurePlanProduct is the product ID of the Azure plan; what is bought with it is usage-based.
const azurePlanProduct = "DZH318Z0BPS6"

func (s *Server) relationshipRequest(r *http.Request, partner string) reply {
	_, seen := s.st.LinkRequests[partner]
	if !seen {
		s.st.LinkRequests[partner] = s.now()
	}
	q := url.Values{"invType": {"ResellerRelationship"}, "partnerId": {partner}, "msppId": {"0"}, "DAP": {"true"}}
	if v := r.URL.Query().Get("indirectResellerId"); v != "" {
		q.Set("indirectResellerId", v)
	}
	if v := r.URL.Query().Get("indirectCloudSolutionProviderId"); v != "" {
		q.Set("indirectCSPId", v)
	}
	return ok(pc.RelationshipRequest{
		URL:        "https://admin.microsoft.com/Adminportal/Home?" + q.Encode() + "#/BillingAccounts/partner-invitation",
		Attributes: pc.Attributes{ObjectType: "RelationshipRequest"},
	}, !seen)
}

// relationshipOf says how partner relates to customer, recording an automatic
// acceptance when one is due. It returns the relationshipToPartner value, or ""
// when the customer is not visible to the partner.
func (s *Server) relationshipOf(partner, customer string) (rel string, mutated bool) {
	if d := s.st.Relationships[partner+"|"+customer]; d != nil {
		if d.Accepted {
			return pc.RelationshipReseller, false
		}
	} else if s.opts.AutoApproveAfter > 0 {
		if asked, ok := s.st.LinkRequests[partner]; ok && !s.now().Before(asked.Add(s.opts.AutoApproveAfter)) {
			s.decide(partner, customer, true, "auto")
			return pc.RelationshipReseller, true
		}
	}
	for _, o := range s.st.Subscriptions {
		if o.Owner == partner && o.Customer == customer {
			return pc.RelationshipNone, false
		}
	}
	return "", false
}

func (s *Server) decide(partner, customer string, accepted bool, source string) {
	s.st.Relationships[partner+"|"+customer] = &relationship{Partner: partner, Customer: customer, Accepted: accepted, At: s.now(), Source: source}
	if _, ok := s.st.Customers[customer]; !ok {
		s.st.Customers[customer] = &pc.CompanyProfile{TenantID: customer}
	}
}

func customerNotFound(customer string) reply {
	return fail(http.StatusNotFound, codeNotFound, "Customer %s was not found: it has no relationship with the partner.", customer)
}

func (s *Server) getCustomer(r *http.Request, partner string) reply {
	customer := r.PathValue("customer")
	rel, mutated := s.relationshipOf(partner, customer)
	if rel == "" {
		return customerNotFound(customer)
	}
	// A customer known only through subscriptions has no profile but its tenant.
	profile := pc.CompanyProfile{TenantID: customer}
	if p := s.st.Customers[customer]; p != nil {
		profile = *p
	}
	return ok(pc.Customer{
		ID: customer, CompanyProfile: profile, RelationshipToPartner: rel,
		AllowDelegatedAccess: rel == pc.RelationshipReseller,
		Attributes:           pc.Attributes{ObjectType: "Customer"},
	}, mutated)
}

func (s *Server) listSubscriptions(r *http.Request, partner string) reply {
	customer := r.PathValue("customer")
	rel, mutated := s.relationshipOf(partner, customer)
	if rel == "" {
		return customerNotFound(customer)
	}
	items := []pc.Subscription{}
	for _, o := range s.st.Subscriptions {
		if o.Owner == partner && o.Customer == customer {
			items = append(items, o.Subscription)
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	return ok(pc.Collection[pc.Subscription]{TotalCount: len(items), Items: items, Attributes: pc.Attributes{ObjectType: "Collection"}}, mutated)
}

func (s *Server) ownedSubscription(r *http.Request, partner string) (*ownedSubscription, reply) {
	o := s.st.Subscriptions[r.PathValue("id")]
	if o == nil || o.Owner != partner || o.Customer != r.PathValue("customer") {
		return nil, fail(http.StatusNotFound, codeNotFound, "Subscription %s was not found for customer %s.", r.PathValue("id"), r.PathValue("customer"))
	}
	return o, reply{}
}

func (s *Server) getSubscription(r *http.Request, partner string) reply {
	o, errReply := s.ownedSubscription(r, partner)
	if o == nil {
		return errReply
	}
	return ok(o.Subscription, false)
}

func (s *Server) updateSubscription(r *http.Request, partner string) reply {
	o, errReply := s.ownedSubscription(r, partner)
	if o == nil {
		return errReply
	}
	var patch struct {
		Status string `json:"status"`
	}
	if err := decode(r, &patch); err != nil {
		return fail(http.StatusBadRequest, codeInvalidInput, "The request body is not valid JSON: %v", err)
	}
	switch patch.Status {
	case pc.SubscriptionActive, pc.SubscriptionSuspended, pc.SubscriptionDeleted:
	default:
		return fail(http.StatusBadRequest, codeInvalidInput, "status %q cannot be set: use active, suspended or deleted.", patch.Status)
	}
	if o.Subscription.Status == pc.SubscriptionDeleted && patch.Status != pc.SubscriptionDeleted {
		return fail(http.StatusBadRequest, codeAlreadyDone, "Subscription %s is deleted and cannot be reactivated.", o.Subscription.ID)
	}
	o.Subscription.Status = patch.Status
	return ok(o.Subscription, true)
}

func (s *Server) requireReseller(partner, customer string) (reply, bool) {
	if s.opts.SkipRelationshipCheck {
		return reply{}, true
	}
	rel, _ := s.relationshipOf(partner, customer)
	if rel != pc.RelationshipReseller {
		return fail(http.StatusForbidden, codeNoRelationship, "The partner has no reseller relationship with customer %s.", customer), false
	}
	return reply{}, true
}

func (s *Server) createCart(r *http.Request, partner string) reply {
	customer := r.PathValue("customer")
	if rep, ok := s.requireReseller(partner, customer); !ok {
		return rep
	}
	var cart pc.Cart
	if err := decode(r, &cart); err != nil {
		return fail(http.StatusBadRequest, codeInvalidInput, "The request body is not a cart: %v", err)
	}
	if len(cart.LineItems) == 0 {
		return fail(http.StatusBadRequest, codeInvalidInput, "A cart needs at least one line item.")
	}
	for _, li := range cart.LineItems {
		if li.CatalogItemID == "" || li.Quantity < 1 {
			return fail(http.StatusBadRequest, codeInvalidInput, "Line item %d needs a catalogItemId and a quantity of at least 1.", li.ID)
		}
	}
	now := s.now()
	cart.ID = uuid.NewString()
	cart.CreationTimestamp = &now
	cart.Status = "Active"
	cart.Attributes = pc.Attributes{ObjectType: "Cart"}
	s.st.Carts[cart.ID] = &cartRecord{Partner: partner, Customer: customer, Cart: cart}
	s.st.Stats.ObjectsCreated["cart"]++
	return created(cart)
}

func (s *Server) checkout(r *http.Request, partner string) reply {
	customer := r.PathValue("customer")
	rec := s.st.Carts[r.PathValue("id")]
	if rec == nil || rec.Partner != partner || rec.Customer != customer {
		return fail(http.StatusNotFound, codeNotFound, "Cart %s was not found for customer %s.", r.PathValue("id"), customer)
	}
	if rec.OrderID != "" {
		return fail(http.StatusBadRequest, codeAlreadyDone, "Cart %s was already checked out as order %s.", rec.Cart.ID, rec.OrderID)
	}
	now := s.now()
	order := pc.Order{ID: uuid.NewString(), ReferenceCustomerID: customer, Status: "completed", CreationDate: &now,
		Attributes: pc.Attributes{ObjectType: "Order"}}
	for i, li := range rec.Cart.LineItems {
		sub := pc.Subscription{
			ID: uuid.NewString(), OfferID: li.CatalogItemID, OfferName: li.FriendlyName, FriendlyName: li.FriendlyName,
			Quantity: li.Quantity, CreationDate: &now, EffectiveStartDate: &now, Status: pc.SubscriptionActive,
			BillingCycle: li.BillingCycle, TermDuration: li.TermDuration, OrderID: order.ID,
			Attributes: pc.Attributes{ObjectType: "Subscription"},
		}
		if strings.HasPrefix(li.CatalogItemID, azurePlanProduct) {
			sub.BillingType, sub.UnitType = pc.BillingUsage, "Usage-based"
		} else {
			end := now.AddDate(1, 0, 0)
			sub.BillingType, sub.UnitType, sub.CommitmentEndDate, sub.AutoRenewEnabled = pc.BillingLicense, "Licenses", &end, true
		}
		s.st.Subscriptions[sub.ID] = &ownedSubscription{Owner: partner, Customer: customer, Subscription: sub}
		s.st.Stats.ObjectsCreated["subscription"]++
		order.LineItems = append(order.LineItems, pc.OrderLineItem{LineItemNumber: i, OfferID: li.CatalogItemID,
			SubscriptionID: sub.ID, FriendlyName: li.FriendlyName, Quantity: li.Quantity})
	}
	rec.OrderID = order.ID
	rec.Cart.Status = "Ordered"
	s.st.Stats.ObjectsCreated["order"]++
	return ok(pc.CartCheckoutResult{Orders: []pc.Order{order}, Attributes: pc.Attributes{ObjectType: "CartCheckoutResult"}}, true)
}

func (s *Server) createTransfer(r *http.Request, partner string) reply {
	customer := r.PathValue("customer")
	if rep, ok := s.requireReseller(partner, customer); !ok {
		return rep
	}
	var t pc.Transfer
	if err := decode(r, &t); err != nil {
		return fail(http.StatusBadRequest, codeInvalidInput, "The request body is not a transfer: %v", err)
	}
	switch {
	case t.SourcePartnerTenantID == "":
		return fail(http.StatusBadRequest, codeInvalidInput, "sourcePartnerTenantId is required.")
	case t.SourcePartnerTenantID == partner:
		return fail(http.StatusBadRequest, codeInvalidTransfer, "A partner cannot transfer subscriptions to itself.")
	case len(t.LineItems) == 0:
		return fail(http.StatusBadRequest, codeInvalidInput, "A transfer needs at least one line item.")
	}
	for _, li := range t.LineItems {
		if li.SubscriptionID == "" {
			return fail(http.StatusBadRequest, codeInvalidInput, "Line item %d needs a subscriptionId.", li.ID)
		}
	}
	now := s.now()
	expires := now.Add(TransferLifetime)
	t.ID = uuid.NewString()
	t.Status = pc.TransferActive
	t.CustomerTenantID = customer
	t.TargetPartnerTenantID = partner
	t.CreatedTime, t.LastModifiedTime, t.ExpirationTime, t.CompletedTime = &now, &now, &expires, nil
	t.Attributes = pc.Attributes{ObjectType: "TransferEntity"}
	s.st.Transfers[t.ID] = &t
	s.st.Stats.ObjectsCreated["transfer"]++
	return created(t)
}

// visibleTransfer finds a transfer of the customer that partner is a party to,
// bringing its status up to date with the clock first.
func (s *Server) visibleTransfer(r *http.Request, partner string) (*pc.Transfer, bool, reply) {
	t := s.st.Transfers[r.PathValue("id")]
	if t == nil || t.CustomerTenantID != r.PathValue("customer") || (t.TargetPartnerTenantID != partner && t.SourcePartnerTenantID != partner) {
		return nil, false, fail(http.StatusNotFound, codeNotFound, "Transfer %s was not found for customer %s.", r.PathValue("id"), r.PathValue("customer"))
	}
	return t, s.refreshTransfer(t), reply{}
}

// refreshTransfer applies what time does to an active transfer: automatic
// acceptance, or expiry 30 days after creation.
func (s *Server) refreshTransfer(t *pc.Transfer) (mutated bool) {
	if t.Status != pc.TransferActive {
		return false
	}
	now := s.now()
	switch {
	case s.opts.AutoApproveAfter > 0 && !now.Before(t.CreatedTime.Add(s.opts.AutoApproveAfter)) && now.Before(*t.ExpirationTime):
		s.completeTransfer(t)
	case !now.Before(*t.ExpirationTime):
		t.Status = pc.TransferExpired
		t.LastModifiedTime = t.ExpirationTime
	default:
		return false
	}
	return true
}

// completeTransfer moves each line item's subscription to the target partner;
// the subscription keeps its ID.
func (s *Server) completeTransfer(t *pc.Transfer) {
	now := s.now()
	for _, li := range t.LineItems {
		if o := s.st.Subscriptions[li.SubscriptionID]; o != nil {
			o.Owner = t.TargetPartnerTenantID
			continue
		}
		s.st.Subscriptions[li.SubscriptionID] = &ownedSubscription{Owner: t.TargetPartnerTenantID, Customer: t.CustomerTenantID,
			Subscription: pc.Subscription{ID: li.SubscriptionID, OfferID: li.FriendlyName, FriendlyName: li.FriendlyName,
				Quantity: li.Quantity, Status: pc.SubscriptionActive, BillingType: pc.BillingUsage, CreationDate: &now,
				Attributes: pc.Attributes{ObjectType: "Subscription"}}}
	}
	t.Status = pc.TransferCompleted
	t.CompletedTime, t.LastModifiedTime = &now, &now
}

func (s *Server) getTransfer(r *http.Request, partner string) reply {
	t, mutated, errReply := s.visibleTransfer(r, partner)
	if t == nil {
		return errReply
	}
	return ok(t, mutated)
}

func (s *Server) updateTransfer(r *http.Request, partner string) reply {
	t, _, errReply := s.visibleTransfer(r, partner)
	if t == nil {
		return errReply
	}
	var patch struct {
		Status string `json:"status"`
	}
	if err := decode(r, &patch); err != nil {
		return fail(http.StatusBadRequest, codeInvalidInput, "The request body is not valid JSON: %v", err)
	}
	if patch.Status == t.Status {
		return ok(t, true) // setting the status it has is a no-op, so retries are safe
	}
	if t.Status != pc.TransferActive {
		return fail(http.StatusBadRequest, codeInvalidTransfer, "Transfer %s is %s and can no longer change.", t.ID, t.Status)
	}
	now := s.now()
	switch {
	case patch.Status == pc.TransferCancelled && partner == t.TargetPartnerTenantID:
		t.Status, t.LastModifiedTime = pc.TransferCancelled, &now
	case patch.Status == pc.TransferCompleted && partner == t.SourcePartnerTenantID:
		s.completeTransfer(t)
	default:
		return fail(http.StatusBadRequest, codeInvalidTransfer, "This partner cannot set transfer %s to %q: the target partner may cancel it, the source partner may complete it.", t.ID, patch.Status)
	}
	return ok(t, true)
}

// Acting parties: the customer answering a request, the source partner answering a transfer.

func (s *Server) decideRelationship(accept bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			PartnerTenantID  string `json:"partnerTenantId"`
			CustomerTenantID string `json:"customerTenantId"`
		}
		if err := decode(r, &req); err != nil || req.PartnerTenantID == "" || req.CustomerTenantID == "" {
			writeJSON(w, http.StatusBadRequest, pc.ErrorBody{Code: codeInvalidInput, Description: "partnerTenantId and customerTenantId are required"})
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.decide(req.PartnerTenantID, req.CustomerTenantID, accept, "customer")
		if !s.persist(w) {
			return
		}
		writeJSON(w, http.StatusOK, s.st.Relationships[req.PartnerTenantID+"|"+req.CustomerTenantID])
	}
}

func (s *Server) answerTransfer(accept bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		t := s.st.Transfers[r.PathValue("id")]
		if t == nil {
			writeJSON(w, http.StatusNotFound, pc.ErrorBody{Code: codeNotFound, Description: "no such transfer"})
			return
		}
		s.refreshTransfer(t)
		if t.Status != pc.TransferActive {
			writeJSON(w, http.StatusConflict, pc.ErrorBody{Code: codeInvalidTransfer, Description: "the transfer is " + t.Status})
			return
		}
		if accept {
			s.completeTransfer(t)
		} else {
			now := s.now()
			t.Status, t.LastModifiedTime = pc.TransferFailed, &now
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
		writeJSON(w, http.StatusBadRequest, pc.ErrorBody{Code: codeInvalidInput, Description: `duration must be a non-negative Go duration such as "720h"`})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ClockOffset += d
	if !s.persist(w) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"now": s.now(), "offset": s.st.ClockOffset.String()})
}
