package partnercenter

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// AgreementTypeMCA is the agreementType of the Microsoft Customer Agreement.
const AgreementTypeMCA = "MicrosoftCustomerAgreement"

// AgreementMetadata describes one version of an agreement Partner Center
// holds ("Get agreement metadata for Microsoft Cloud Agreement"): its
// templateId is what a confirmation names.
// Source: https://learn.microsoft.com/partner-center/developer/get-customer-agreement-metadata
type AgreementMetadata struct {
	TemplateID    string `json:"templateId"`
	AgreementType string `json:"agreementType"`
	AgreementLink string `json:"agreementLink,omitempty"`
	VersionRank   int    `json:"versionRank"`
}

// Contact is the customer's person who accepted an agreement.
type Contact struct {
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	Email       string `json:"email"`
	PhoneNumber string `json:"phoneNumber,omitempty"`
}

// Agreement is a customer's acceptance of an agreement, as Partner Center
// holds it ("Confirm customer acceptance of the Microsoft Customer
// Agreement").
// Source: https://learn.microsoft.com/partner-center/developer/confirm-customer-consent-customer-agreement
type Agreement struct {
	PrimaryContact Contact `json:"primaryContact"`
	TemplateID     string  `json:"templateId"`
	// DateAgreed is a date and time without a zone, as Partner Center writes it.
	DateAgreed    string `json:"dateAgreed"`
	Type          string `json:"type"`
	AgreementLink string `json:"agreementLink,omitempty"`
	UserID        string `json:"userId,omitempty"`
}

// AgreementDateLayout is how Partner Center writes dateAgreed.
const AgreementDateLayout = "2006-01-02T15:04:05"

// Agreed is when the customer accepted the agreement, or the zero time when
// dateAgreed is not a time.
func (a Agreement) Agreed() time.Time {
	for _, layout := range []string{time.RFC3339Nano, AgreementDateLayout} {
		if t, err := time.Parse(layout, a.DateAgreed); err == nil {
			return t
		}
	}
	return time.Time{}
}

// CodeAgreementExists is Partner Center's code for a confirmation whose
// contact is the same as one it holds for the customer
// (PartnerConfirmedAgreementAlreadyExists).
const CodeAgreementExists = 600061

// IsAgreementExists reports whether Partner Center refused a confirmation
// because it holds one with the same contact.
func IsAgreementExists(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == CodeAgreementExists
}

// ErrNoAgreementTemplate: Partner Center lists no template of the Microsoft
// Customer Agreement.
var ErrNoAgreementTemplate = errors.New("partner center lists no Microsoft Customer Agreement template")

// CurrentMCATemplate is the template ID of the Microsoft Customer
// Agreement's current version, the one with the lowest versionRank. It
// needs App+User credentials ("This scenario supports App+User
// authentication only").
func (c *Client) CurrentMCATemplate(ctx context.Context) (*AgreementMetadata, error) {
	out := &Collection[AgreementMetadata]{}
	q := url.Values{"agreementType": {AgreementTypeMCA}}
	if err := c.do(ctx, call{op: "GetAgreementMetadata", method: http.MethodGet, path: "/agreements", query: q, user: true, retryable: true}, out); err != nil {
		return nil, err
	}
	var best *AgreementMetadata
	for i := range out.Items {
		m := &out.Items[i]
		if m.AgreementType == AgreementTypeMCA && m.TemplateID != "" && (best == nil || m.VersionRank < best.VersionRank) {
			best = m
		}
	}
	if best == nil {
		return nil, ErrNoAgreementTemplate
	}
	return best, nil
}

// CustomerAgreements lists the customer's acceptances of the Microsoft
// Customer Agreement Partner Center holds. It needs App+User credentials.
// Source: https://learn.microsoft.com/partner-center/developer/get-confirmation-of-customer-agreement
func (c *Client) CustomerAgreements(ctx context.Context, customerID string) ([]Agreement, error) {
	out := &Collection[Agreement]{}
	q := url.Values{"agreementType": {AgreementTypeMCA}}
	err := c.do(ctx, call{op: "GetCustomerAgreements", method: http.MethodGet, path: "/customers/" + url.PathEscape(customerID) + "/agreements",
		query: q, user: true, retryable: true}, out)
	return out.Items, err
}

// confirmation is the documented request body of a confirmation: the
// "minimum required fields" and nothing else. agreementLink and userId are
// Partner Center's to fill (the template names the link; the App+User token
// the user), and the documented request sends neither.
type confirmation struct {
	PrimaryContact Contact `json:"primaryContact"`
	TemplateID     string  `json:"templateId"`
	DateAgreed     string  `json:"dateAgreed"`
	Type           string  `json:"type"`
}

// ConfirmCustomerAgreement records the partner's confirmation that the
// customer accepted the Microsoft Customer Agreement: a's primaryContact,
// templateId, dateAgreed and type (default MicrosoftCustomerAgreement) are
// sent, as documented; its agreementLink and userId are not. It needs
// App+User credentials; requestID is its idempotency key.
// Source: https://learn.microsoft.com/partner-center/developer/confirm-customer-consent-customer-agreement
func (c *Client) ConfirmCustomerAgreement(ctx context.Context, customerID, requestID string, a Agreement) (*Agreement, error) {
	body := confirmation{PrimaryContact: a.PrimaryContact, TemplateID: a.TemplateID, DateAgreed: a.DateAgreed, Type: a.Type}
	if body.Type == "" {
		body.Type = AgreementTypeMCA
	}
	out := &Agreement{}
	err := c.do(ctx, call{op: "ConfirmCustomerAgreement", method: http.MethodPost, path: "/customers/" + url.PathEscape(customerID) + "/agreements",
		body: body, requestID: requestID, user: true, retryable: true}, out)
	return out, err
}
