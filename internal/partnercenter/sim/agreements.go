package sim

import (
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
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

// codeAgreementExists is PartnerConfirmedAgreementAlreadyExists; the
// documentation gives no HTTP status, so the simulator answers 409.
const codeAgreementExists = 600061

const (
	agreementTypeMCA  = "MicrosoftCustomerAgreement"
	agreementLinkMCA  = "https://aka.ms/customeragreement"
	agreementDateWire = "2006-01-02T15:04:05"
)

// agreementMetadata is the AgreementMetaData resource.
type agreementMetadata struct {
	TemplateID    string `json:"templateId"`
	AgreementType string `json:"agreementType"`
	AgreementLink string `json:"agreementLink"`
	VersionRank   int    `json:"versionRank"`
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
}

// agreementTypeMCloudA is the Microsoft Cloud Agreement: "If the URI
// parameter isn't specified, the query defaults to MicrosoftCloudAgreement
// for backward compatibility" (both agreement pages). The simulator holds
// no Microsoft Cloud Agreement.
const agreementTypeMCloudA = "MicrosoftCloudAgreement"

// asksForMCA reports whether an agreementType query names the Microsoft
// Customer Agreement: by name or "*" (all types), not by default.
func asksForMCA(t string) bool { return strings.EqualFold(t, agreementTypeMCA) || t == "*" }

func (s *Server) agreementMetadata(r *http.Request, _ string) reply {
	items := []agreementMetadata{}
	if asksForMCA(r.URL.Query().Get("agreementType")) {
		items = append(items, agreementMetadata{TemplateID: MCATemplateID, AgreementType: agreementTypeMCA, AgreementLink: agreementLinkMCA})
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
	t := r.URL.Query().Get("agreementType")
	if t != "" && !asksForMCA(t) && !strings.EqualFold(t, agreementTypeMCloudA) {
		return fail(http.StatusBadRequest, codeInvalidProperty, "agreementType %q is not supported: MicrosoftCustomerAgreement, MicrosoftCloudAgreement or * is.", t)
	}
	if !asksForMCA(t) {
		return ok(collection[agreement]{Items: []agreement{}, Attributes: attributes{ObjectType: "Collection"}}, false)
	}
	items := slices.Clone(s.st.AgreementRecords[customer])
	if len(items) == 0 && s.hasAgreement(customer) {
		// Accepted by the customer's Global admin in the Microsoft 365
		// admin center: Partner Center holds it with the admin as contact.
		items = append(items, agreement{PrimaryContact: agreementContact{FirstName: "Global", LastName: "Administrator", Email: "admin@" + customer + ".example"},
			TemplateID: MCATemplateID, DateAgreed: s.now().Add(-24 * time.Hour).Format(agreementDateWire), Type: agreementTypeMCA,
			AgreementLink: agreementLinkMCA})
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
	for _, held := range s.st.AgreementRecords[customer] {
		if held.PrimaryContact == a.PrimaryContact {
			// Another confirmation is allowed only when the contact changed.
			return agreementExists()
		}
	}
	// Partner Center derives userId from the App+User token; the
	// simulator's tokens name no user, so it stands for the partner's.
	a.UserID = uuid.NewSHA1(userNamespace, []byte(partner)).String()
	if a.AgreementLink == "" {
		a.AgreementLink = agreementLinkMCA
	}
	s.st.AgreementRecords[customer] = append(s.st.AgreementRecords[customer], a)
	s.st.Stats.ObjectsCreated["agreement"]++
	s.auditAgreement(partner, customer, a, s.actor)
	return created(a)
}

var userNamespace = uuid.MustParse("0f5e2a7c-9b1d-4c3e-8a6f-2d4b6c8e0a13")

// agreementExistsBody is the error body the confirmation page documents
// for PartnerConfirmedAgreementAlreadyExists, which has its own shape.
type agreementExistsBody struct {
	Code                 int               `json:"code"`
	Message              string            `json:"message"`
	Description          string            `json:"description"`
	ErrorName            string            `json:"errorName"`
	IsRetryable          bool              `json:"isRetryable"`
	Parameters           map[string]string `json:"parameters"`
	ErrorMessageExtended string            `json:"errorMessageExtended"`
}

// agreementExists answers a confirmation Partner Center already holds, with
// the documented body; the page gives no HTTP status, so it is 409.
func agreementExists() reply {
	const msg = "A partner confirmed agreement already exists for the customer."
	return reply{status: http.StatusConflict, body: agreementExistsBody{Code: codeAgreementExists, Message: msg, Description: msg,
		ErrorName: "PartnerConfirmedAgreementAlreadyExists", Parameters: map[string]string{}, ErrorMessageExtended: "InternalErrorCode=600061"}}
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
	case agreed.After(s.now()):
		// "You can't set the Agreement acceptance date to a future date."
		return "dateAgreed " + quote(a.DateAgreed) + " is in the future."
	}
	return ""
}

func validEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && strings.Contains(s[strings.LastIndex(s, "@"):], ".")
}

func quote(s string) string { return `"` + s + `"` }
