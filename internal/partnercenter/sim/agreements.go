package sim

import (
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// The Microsoft Customer Agreement as Partner Center serves it: its
// metadata (the template a confirmation names), a customer's acceptances,
// and the partner's confirmation of one.
// Sources:
// https://learn.microsoft.com/partner-center/developer/get-customer-agreement-metadata
// https://learn.microsoft.com/partner-center/developer/get-confirmation-of-customer-agreement
// https://learn.microsoft.com/partner-center/developer/confirm-customer-consent-customer-agreement

// MCATemplateID is the template of the agreement's current version, the one
// Partner Center's documented examples name.
const MCATemplateID = "117a77b0-9360-443b-8795-c6dedc750cf9"

const (
	agreementTypeMCA  = "MicrosoftCustomerAgreement"
	agreementLinkMCA  = "https://aka.ms/customeragreement"
	agreementDateWire = "2006-01-02T15:04:05"
)

// agreementMetadata is the AgreementMetaData resource.
type agreementMetadata struct {
	TemplateID    string     `json:"templateId"`
	AgreementType string     `json:"agreementType"`
	AgreementLink string     `json:"agreementLink"`
	VersionRank   int        `json:"versionRank"`
	Attributes    attributes `json:"attributes"`
}

type agreementContact struct {
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	Email       string `json:"email"`
	PhoneNumber string `json:"phoneNumber,omitempty"`
}

// agreement is the Agreement resource: one acceptance of the agreement.
type agreement struct {
	PrimaryContact agreementContact `json:"primaryContact"`
	TemplateID     string           `json:"templateId"`
	DateAgreed     string           `json:"dateAgreed"`
	Type           string           `json:"type"`
	AgreementLink  string           `json:"agreementLink,omitempty"`
	UserID         string           `json:"userId,omitempty"`
	Attributes     attributes       `json:"attributes"`
}

func (s *Server) agreementMetadata(r *http.Request, _ string) reply {
	items := []agreementMetadata{}
	if t := r.URL.Query().Get("agreementType"); t == "" || strings.EqualFold(t, agreementTypeMCA) || t == "*" {
		items = append(items, agreementMetadata{TemplateID: MCATemplateID, AgreementType: agreementTypeMCA, AgreementLink: agreementLinkMCA,
			Attributes: attributes{ObjectType: "AgreementMetaData"}})
	}
	return ok(collection[agreementMetadata]{TotalCount: len(items), Items: items, Attributes: attributes{ObjectType: "Collection"}}, false)
}

// hasAgreement: Partner Center holds the customer's acceptance. The
// caller holds s.mu.
func (s *Server) hasAgreement(customer string) bool {
	return !slices.Contains(s.opts.CustomersWithoutAgreement, customer) || s.st.Agreements[customer] || len(s.st.AgreementRecords[customer]) > 0
}

func (s *Server) customerAgreements(r *http.Request, partner string) reply {
	customer := r.PathValue("customer")
	if rep, ok := s.requireReseller(partner, customer); !ok {
		return rep
	}
	if t := r.URL.Query().Get("agreementType"); t != "" && !strings.EqualFold(t, agreementTypeMCA) {
		return fail(http.StatusBadRequest, codeInvalidProperty, "agreementType %q is not supported: MicrosoftCustomerAgreement is.", t)
	}
	items := slices.Clone(s.st.AgreementRecords[customer])
	if len(items) == 0 && s.hasAgreement(customer) {
		// Accepted by the customer's Global admin in the Microsoft 365
		// admin center: Partner Center holds it with the admin as contact.
		items = append(items, agreement{PrimaryContact: agreementContact{FirstName: "Global", LastName: "Administrator", Email: "admin@" + customer + ".example"},
			TemplateID: MCATemplateID, DateAgreed: s.now().Add(-24 * time.Hour).Format(agreementDateWire), Type: agreementTypeMCA,
			AgreementLink: agreementLinkMCA, Attributes: attributes{ObjectType: "Agreement"}})
	}
	if items == nil {
		items = []agreement{}
	}
	return ok(collection[agreement]{TotalCount: len(items), Items: items, Attributes: attributes{ObjectType: "Collection"}}, false)
}

// confirmAgreement records the partner's confirmation of the customer's
// acceptance, checked as Partner Center documents the request.
func (s *Server) confirmAgreement(r *http.Request, partner string) reply {
	customer := r.PathValue("customer")
	if rep, ok := s.requireReseller(partner, customer); !ok {
		return rep
	}
	var a agreement
	if err := decode(r, &a); err != nil {
		return fail(http.StatusBadRequest, codeInvalidProperty, "The request body is not an agreement: %v", err)
	}
	if refusal := s.agreementRefusal(a); refusal != "" {
		return fail(http.StatusBadRequest, codeInvalidProperty, "%s", refusal)
	}
	a.Attributes = attributes{ObjectType: "Agreement"}
	if a.AgreementLink == "" {
		a.AgreementLink = agreementLinkMCA
	}
	s.st.AgreementRecords[customer] = append(s.st.AgreementRecords[customer], a)
	s.st.Stats.ObjectsCreated["agreement"]++
	return created(a)
}

// agreementRefusal is why Partner Center refuses a confirmation, or "".
func (s *Server) agreementRefusal(a agreement) string {
	c := a.PrimaryContact
	agreed, err := time.Parse(agreementDateWire, a.DateAgreed)
	if err != nil {
		agreed, err = time.Parse(time.RFC3339, a.DateAgreed)
	}
	switch {
	case a.Type != agreementTypeMCA:
		return "type must be MicrosoftCustomerAgreement, not " + quote(a.Type) + "."
	case a.TemplateID != MCATemplateID:
		return "templateId " + quote(a.TemplateID) + " is not the Microsoft Customer Agreement's current template (GET /v1/agreements)."
	case strings.TrimSpace(c.FirstName) == "" || strings.TrimSpace(c.LastName) == "" || c.Email == "":
		return "primaryContact needs firstName, lastName and email."
	case !validEmail(c.Email):
		return "primaryContact.email " + quote(c.Email) + " is not an email address."
	case err != nil:
		return "dateAgreed " + quote(a.DateAgreed) + " is not a date and time (yyyy-MM-ddTHH:mm:ss)."
	case agreed.After(s.now().Add(24 * time.Hour)):
		return "dateAgreed " + quote(a.DateAgreed) + " is in the future."
	}
	return ""
}

func validEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && strings.Contains(s[strings.LastIndex(s, "@"):], ".")
}

func quote(s string) string { return `"` + s + `"` }
