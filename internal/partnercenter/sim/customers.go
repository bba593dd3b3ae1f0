package sim

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The partner's customers, page by page ("Get a list of customers"), and a
// customer's transfers ("Get a customer's transfers").
// Sources:
// https://learn.microsoft.com/partner-center/developer/get-a-list-of-customers
// https://learn.microsoft.com/partner-center/developer/get-all-of-a-customer-s-transfers
// https://learn.microsoft.com/partner-center/developer/utility-resources (Link)

// codeInvalidInput is the error-code table's 400 800002, "Invalid request
// input": the simulator answers it for a query or continuation token it
// does not take.
const codeInvalidInput = 800002

// MaxCustomerPageSize is the largest size the customer list takes. The
// documentation names no maximum (size is required, "The number of
// results to be displayed at one time"): the limit is the simulator's own.
const MaxCustomerPageSize = 500

// headerContinuationToken carries a page's position to the next request.
const headerContinuationToken = "MS-ContinuationToken"

// listCustomers answers one page of the partner's customers, sorted by
// tenant, with a next link (uri, method and the MS-ContinuationToken
// header) while more follow. size is required; seekOperation=Next goes
// with the token of the page before; anything else is refused.
func (s *Server) listCustomers(r *http.Request, partner string) reply {
	size, offset, refusal := s.customerPageRequest(r, partner)
	if refusal != "" {
		return fail(http.StatusBadRequest, codeInvalidInput, "Invalid request input: %s", refusal)
	}
	ids := s.listedCustomers(partner)
	if offset > len(ids) {
		return fail(http.StatusBadRequest, codeInvalidInput, "Invalid request input: the continuation token points past the customer list.")
	}
	end := min(offset+size, len(ids))
	out := pagedCollection[customerBody]{Items: []customerBody{}, Attributes: attributes{ObjectType: "Collection"},
		Links: map[string]link{"self": {URI: "/customers?size=" + strconv.Itoa(size), Method: http.MethodGet, Headers: []header{}}}}
	for _, id := range ids[offset:end] {
		out.Items = append(out.Items, s.listedCustomer(partner, id))
	}
	out.TotalCount = len(out.Items)
	if end < len(ids) {
		out.Links["next"] = link{URI: "/customers?size=" + strconv.Itoa(size) + "&seekOperation=Next", Method: http.MethodGet,
			Headers: []header{{Key: headerContinuationToken, Value: s.continuationToken(partner, end, size)}}}
	}
	return ok(out, false)
}

// customerPageRequest reads a customer list request: its page size and
// where it starts, or why it is refused.
func (s *Server) customerPageRequest(r *http.Request, partner string) (size, offset int, refusal string) {
	q := r.URL.Query()
	if unknown := unknownParams(q, "size", "seekOperation"); unknown != "" {
		return 0, 0, fmt.Sprintf("query parameter %q is not taken here (size, and seekOperation=Next with MS-ContinuationToken).", unknown)
	}
	size, err := strconv.Atoi(q.Get("size"))
	switch {
	case len(q["size"]) != 1:
		return 0, 0, "size is required, once: the number of customers on a page."
	case err != nil || size < 1 || size > MaxCustomerPageSize:
		return 0, 0, fmt.Sprintf("size %q is not a page size from 1 to %d.", q.Get("size"), MaxCustomerPageSize)
	}
	token, seek := r.Header.Get(headerContinuationToken), q.Get("seekOperation")
	switch {
	case seek == "" && token == "":
		return size, 0, ""
	case !strings.EqualFold(seek, "Next"):
		return 0, 0, fmt.Sprintf("seekOperation %q: a next page is asked for with seekOperation=Next and the MS-ContinuationToken of the page before.", seek)
	case token == "":
		return 0, 0, "seekOperation=Next needs the MS-ContinuationToken header the page before named in its next link."
	}
	offset, err = s.readContinuationToken(token, partner, size)
	if err != nil {
		return 0, 0, "MS-ContinuationToken " + err.Error()
	}
	return size, offset, ""
}

// unknownParams is the first query parameter not among known, or "".
func unknownParams(q url.Values, known ...string) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(known, k) {
			return k
		}
	}
	return ""
}

// continuationToken is a signed position in the partner's customer list.
type continuationToken struct {
	Partner string `json:"p"`
	Offset  int    `json:"o"`
	Size    int    `json:"s"`
}

func (s *Server) continuationToken(partner string, offset, size int) string {
	payload, _ := json.Marshal(continuationToken{Partner: partner, Offset: offset, Size: size})
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac("continuation|"+p))
}

// readContinuationToken checks a token the simulator gave this partner for
// a page of this size, and returns its position.
func (s *Server) readContinuationToken(token, partner string, size int) (int, error) {
	p, sig, found := strings.Cut(token, ".")
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if !found || err != nil || !hmac.Equal(mac, s.mac("continuation|"+p)) {
		return 0, errors.New("is not one the customer list gave")
	}
	var c continuationToken
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return 0, errors.New("is malformed")
	}
	switch {
	case c.Partner != partner:
		return 0, errors.New("was given to another partner")
	case c.Size != size:
		return 0, fmt.Errorf("was given for pages of %d, not %d", c.Size, size)
	}
	return c.Offset, nil
}

// listedCustomers are the tenants the partner's customer list holds,
// sorted: the customers that accepted it as reseller, and those it holds
// subscriptions of. The caller holds s.mu.
func (s *Server) listedCustomers(partner string) []string {
	seen := map[string]bool{}
	for _, d := range s.st.Relationships {
		if d.Partner == partner && d.Accepted {
			seen[d.Customer] = true
		}
	}
	for _, o := range s.st.Subscriptions {
		if o.Owner == partner {
			seen[o.Customer] = true
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// listedCustomer is a customer as the list shows it: its company profile
// without address or email, as the documented list does.
func (s *Server) listedCustomer(partner, customer string) customerBody {
	profile := companyProfile{TenantID: customer}
	if p := s.st.Customers[customer]; p != nil {
		profile = companyProfile{TenantID: customer, Domain: p.Domain, CompanyName: p.CompanyName}
	}
	profile.Attributes = attributes{ObjectType: "CustomerCompanyProfile"}
	rel := relationshipNone
	if d := s.st.Relationships[partner+"|"+customer]; d != nil && d.Accepted {
		rel = relationshipReseller
	}
	return customerBody{ID: customer, CompanyProfile: profile, RelationshipToPartner: rel,
		Links: self("/customers/" + customer), Attributes: attributes{ObjectType: "Customer"}}
}

// listTransfers answers the customer's transfers the partner is the source
// or target of, as the documented answer does: a JSON array, oldest first.
// It takes no query parameter.
func (s *Server) listTransfers(r *http.Request, partner string) reply {
	if unknown := unknownParams(r.URL.Query()); unknown != "" {
		return fail(http.StatusBadRequest, codeInvalidInput, "Invalid request input: query parameter %q is not taken here.", unknown)
	}
	customer := r.PathValue("customer")
	rel, mutated := s.relationshipOf(partner, customer)
	out := []*transfer{}
	for _, t := range s.st.Transfers {
		if t.CustomerTenantID == customer && (t.TargetPartnerTenantID == partner || t.SourcePartnerTenantID == partner) {
			mutated = s.refreshTransfer(t) || mutated
			out = append(out, t)
		}
	}
	if rel == "" && len(out) == 0 {
		return customerNotFound(customer)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedTime.Equal(*out[j].CreatedTime) {
			return out[i].CreatedTime.Before(*out[j].CreatedTime)
		}
		return out[i].ID < out[j].ID
	})
	return ok(out, mutated)
}
