package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// An estate the operator never touched: what a partner already holds in
// Partner Center when it adopts the operator. SeedEstate (and POST
// /sim/v1/estate) puts it in the simulator as Partner Center would show it
// after years of work in its UI: customers that accepted the partner as
// reseller (with their country and the Microsoft Customer Agreement
// accepted), license subscriptions, an Azure plan with Azure subscriptions
// under it, and transfers under way that the partner asked of other CSP
// partners, whose subscriptions those partners still hold. Nothing seeded
// counts among the objects created (Stats.ObjectsCreated), which count
// what the API was asked to create.

// Estate is a partner's existing estate.
type Estate struct {
	// PartnerTenantID is the partner that holds it.
	PartnerTenantID string           `json:"partnerTenantId"`
	Customers       []EstateCustomer `json:"customers"`
}

// EstateCustomer is a customer that accepted the partner as reseller.
type EstateCustomer struct {
	TenantID    string `json:"tenantId"`
	Domain      string `json:"domain"`
	CompanyName string `json:"companyName"`
	// Country is the ISO 3166-1 alpha-2 code of its address.
	Country   string           `json:"country"`
	Licenses  []EstateLicense  `json:"licenses,omitempty"`
	AzurePlan *EstateAzurePlan `json:"azurePlan,omitempty"`
	Transfers []EstateTransfer `json:"transfers,omitempty"`
}

// EstateLicense is a license subscription the partner holds.
type EstateLicense struct {
	ID           string `json:"id"`
	OfferID      string `json:"offerId"`
	OfferName    string `json:"offerName"`
	Quantity     int    `json:"quantity"`
	TermDuration string `json:"termDuration"`
	BillingCycle string `json:"billingCycle"`
	// Start and End bound the term: zero starts it a month before the
	// simulator's clock and ends it termDuration later.
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	AutoRenew bool      `json:"autoRenew,omitempty"`
	// Status is active (default) or suspended.
	Status string `json:"status,omitempty"`
}

// EstateAzurePlan is the customer's Azure plan with the partner and the
// Azure subscriptions under it (its entitlements).
type EstateAzurePlan struct {
	ID            string                    `json:"id"`
	Subscriptions []EstateAzureSubscription `json:"subscriptions"`
}

// EstateAzureSubscription is an Azure subscription under the plan.
type EstateAzureSubscription struct {
	ID           string `json:"id"`
	FriendlyName string `json:"friendlyName"`
}

// EstateTransfer is a transfer under way (Active) that the partner asked of
// another CSP partner, which holds the line items' subscriptions until it
// accepts.
type EstateTransfer struct {
	ID                    string `json:"id"`
	SourcePartnerTenantID string `json:"sourcePartnerTenantId"`
	SourcePartnerName     string `json:"sourcePartnerName"`
	// Created is when the partner asked for it (zero: now); it expires 30
	// days after.
	Created   time.Time            `json:"created"`
	LineItems []EstateTransferLine `json:"lineItems"`
}

// EstateTransferLine is a subscription the transfer moves.
type EstateTransferLine struct {
	SubscriptionID string `json:"subscriptionId"`
	OfferID        string `json:"offerId"`
	FriendlyName   string `json:"friendlyName"`
	Quantity       int    `json:"quantity"`
	TermDuration   string `json:"termDuration,omitempty"`
	BillingCycle   string `json:"billingCycle,omitempty"`
}

// AzurePlanOfferID is the offer ID of a seeded Azure plan: the catalog
// item of its documented availability.
const AzurePlanOfferID = AzurePlanCatalogItem

// SeedEstate puts e in the simulator; an estate that reuses a customer,
// subscription or transfer the simulator already holds is refused whole.
func (s *Server) SeedEstate(e Estate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkEstate(e); err != nil {
		return err
	}
	for _, c := range e.Customers {
		s.seedCustomer(e.PartnerTenantID, c)
	}
	return s.save()
}

// checkEstate refuses an estate that is incomplete or collides with what
// the simulator holds. The caller holds s.mu.
func (s *Server) checkEstate(e Estate) error {
	if e.PartnerTenantID == "" {
		return errors.New("the estate names no partner tenant")
	}
	ids := map[string]bool{}
	claim := func(kind, id string) error {
		switch {
		case id == "":
			return fmt.Errorf("a %s without an ID", kind)
		case ids[kind+"|"+id] || (kind == "customer" && s.st.Customers[id] != nil) || (kind == "subscription" && s.st.Subscriptions[id] != nil) ||
			(kind == "transfer" && s.st.Transfers[id] != nil):
			return fmt.Errorf("%s %s is seeded twice or already exists", kind, id)
		}
		ids[kind+"|"+id] = true
		return nil
	}
	for _, c := range e.Customers {
		if err := claim("customer", c.TenantID); err != nil {
			return err
		}
		if len(c.Country) != 2 || strings.ToUpper(c.Country) != c.Country {
			return fmt.Errorf("customer %s: country %q is not an ISO 3166-1 alpha-2 code", c.TenantID, c.Country)
		}
		for _, id := range estateSubscriptionIDs(c) {
			if err := claim("subscription", id); err != nil {
				return fmt.Errorf("customer %s: %w", c.TenantID, err)
			}
		}
		for _, t := range c.Transfers {
			if err := claim("transfer", t.ID); err != nil {
				return fmt.Errorf("customer %s: %w", c.TenantID, err)
			}
			if t.SourcePartnerTenantID == "" || t.SourcePartnerTenantID == e.PartnerTenantID {
				return fmt.Errorf("customer %s: transfer %s needs a source partner other than the partner", c.TenantID, t.ID)
			}
		}
	}
	return nil
}

// estateSubscriptionIDs are the subscription IDs a seeded customer uses.
func estateSubscriptionIDs(c EstateCustomer) []string {
	var ids []string
	for _, l := range c.Licenses {
		ids = append(ids, l.ID)
	}
	if c.AzurePlan != nil {
		ids = append(ids, c.AzurePlan.ID)
	}
	for _, t := range c.Transfers {
		for _, li := range t.LineItems {
			ids = append(ids, li.SubscriptionID)
		}
	}
	return ids
}

// seedCustomer puts one customer and what it holds in the state. The
// caller holds s.mu.
func (s *Server) seedCustomer(partner string, c EstateCustomer) {
	now := s.now()
	s.st.Customers[c.TenantID] = &companyProfile{TenantID: c.TenantID, Domain: c.Domain, CompanyName: c.CompanyName,
		Address: &address{Country: c.Country}, Email: simulatedEmail(c.TenantID)}
	s.st.Relationships[partner+"|"+c.TenantID] = &relationship{Partner: partner, Customer: c.TenantID, Accepted: true, At: now, Source: "seed"}
	for _, l := range c.Licenses {
		if l.Start.IsZero() {
			l.Start = now.AddDate(0, -1, 0)
		}
		if l.End.IsZero() {
			l.End = termEnd(l.Start, l.TermDuration)
		}
		s.own(partner, c.TenantID, seededLicense(l))
	}
	if p := c.AzurePlan; p != nil {
		start := now.AddDate(-1, 0, 0)
		s.own(partner, c.TenantID, subscription{ID: p.ID, OfferID: AzurePlanOfferID, OfferName: "Azure plan", FriendlyName: "Azure plan",
			Quantity: 1, UnitType: "Usage-based", CreationDate: &start, EffectiveStartDate: &start, Status: "active",
			BillingType: "usage", BillingCycle: "one_time", ContractType: "subscription"})
		s.st.Entitlements[p.ID] = nil
		for _, a := range p.Subscriptions {
			s.st.Entitlements[p.ID] = append(s.st.Entitlements[p.ID], azureEntitlement{ID: a.ID, FriendlyName: a.FriendlyName, Status: "active", SubscriptionID: p.ID})
		}
	}
	for _, t := range c.Transfers {
		s.seedTransfer(partner, c.TenantID, t)
	}
}

// seededLicense is the subscription a seeded license is.
func seededLicense(l EstateLicense) subscription {
	status := l.Status
	if status == "" {
		status = "active"
	}
	start, end := l.Start.UTC(), l.End.UTC()
	return subscription{ID: l.ID, OfferID: l.OfferID, OfferName: l.OfferName, FriendlyName: l.OfferName, Quantity: l.Quantity,
		UnitType: "Licenses", CreationDate: &start, EffectiveStartDate: &start, CommitmentEndDate: &end, Status: status,
		AutoRenewEnabled: l.AutoRenew, BillingType: "license", BillingCycle: l.BillingCycle, TermDuration: l.TermDuration,
		ContractType: "subscription"}
}

// own makes partner hold sub for customer. The caller holds s.mu.
func (s *Server) own(partner, customer string, sub subscription) {
	sub.Attributes = attributes{ObjectType: "Subscription", Etag: newEtag()}
	s.st.Subscriptions[sub.ID] = &ownedSubscription{Owner: partner, Customer: customer, Subscription: sub}
}

// seedTransfer puts a transfer under way from its source partner to
// partner; the source holds the line items' subscriptions. The caller
// holds s.mu.
func (s *Server) seedTransfer(partner, customer string, e EstateTransfer) {
	created := e.Created.UTC()
	if e.Created.IsZero() {
		created = s.now()
	}
	expires := created.Add(TransferLifetime)
	t := &transfer{ID: e.ID, Status: transferActive, TransferType: 3, CustomerEmailID: simulatedEmail(customer),
		CreatedTime: &created, LastModifiedTime: &created, ExpirationTime: &expires, CustomerTenantID: customer, PartnerTenantID: partner,
		SourcePartnerName: e.SourcePartnerName, SourcePartnerTenantID: e.SourcePartnerTenantID, TargetPartnerTenantID: partner,
		LineItems: []transferLineItem{}, Attributes: attributes{ObjectType: "TransferEntity"}}
	t.Links = self("/customers/" + customer + "/transfers/" + t.ID)
	for i, li := range e.LineItems {
		t.LineItems = append(t.LineItems, transferLineItem{ID: i, SubscriptionID: li.SubscriptionID, OfferID: li.OfferID, BillingCycle: li.BillingCycle,
			TermDuration: li.TermDuration, FriendlyName: li.FriendlyName, Quantity: li.Quantity, AddonItems: []transferLineItem{}})
		billing := "license"
		if isAzurePlan(li.OfferID) {
			billing = "usage"
		}
		start := created.AddDate(0, -1, 0)
		sub := subscription{ID: li.SubscriptionID, OfferID: li.OfferID, OfferName: li.FriendlyName, FriendlyName: li.FriendlyName,
			Quantity: li.Quantity, Status: "active", BillingType: billing, BillingCycle: li.BillingCycle, TermDuration: li.TermDuration,
			CreationDate: &start, EffectiveStartDate: &start, ContractType: "subscription"}
		if billing == "license" {
			end := termEnd(start, li.TermDuration)
			sub.UnitType, sub.CommitmentEndDate, sub.AutoRenewEnabled = "Licenses", &end, true
		}
		s.own(e.SourcePartnerTenantID, customer, sub)
	}
	s.st.Transfers[t.ID] = t
}

// seedEstate is POST /sim/v1/estate: an Estate in JSON.
func (s *Server) seedEstate(w http.ResponseWriter, r *http.Request) {
	var e Estate
	// An estate of thousands of customers is larger than an API request.
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(&e); err != nil {
		writeJSON(w, http.StatusBadRequest, errorOf(codeInvalidProperty, "the body is not an estate: "+err.Error()))
		return
	}
	if err := s.SeedEstate(e); err != nil {
		writeJSON(w, http.StatusBadRequest, errorOf(codeInvalidProperty, err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"customers": len(e.Customers)})
}
