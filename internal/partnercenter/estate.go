package partnercenter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Reads of a partner's estate: its customers, page by page, and a
// customer's transfers.
// Sources:
// https://learn.microsoft.com/partner-center/developer/get-a-list-of-customers
// https://learn.microsoft.com/partner-center/developer/get-all-of-a-customer-s-transfers
// https://learn.microsoft.com/partner-center/developer/utility-resources (ResourceLinks, Link)

// CustomerPage is one page of the partner's customers and the link to the
// next page, nil on the last. A listed customer has no address: read it by
// ID (GetCustomer) for its country.
type CustomerPage struct {
	Customers []Customer
	Next      *Link
}

// ListCustomers reads the first page of the partner's customers, at most
// size of them ("Get a list of customers": GET /v1/customers?size={size},
// size required); NextCustomers reads the pages after it.
func (c *Client) ListCustomers(ctx context.Context, size int) (*CustomerPage, error) {
	if size < 1 {
		return nil, fmt.Errorf("partner center ListCustomers: page size %d: it must be at least 1", size)
	}
	return c.customerPage(ctx, call{op: "ListCustomers", method: http.MethodGet, path: "/customers",
		query: url.Values{"size": {strconv.Itoa(size)}}, retryable: true})
}

// NextCustomers reads the page a previous page's Next link names: its URI
// below /v1, sent with the headers it names (MS-ContinuationToken). A link
// elsewhere than /customers, or to another origin, is refused unsent.
func (c *Client) NextCustomers(ctx context.Context, next *Link) (*CustomerPage, error) {
	k, err := followLink("ListCustomers", "/customers", next)
	if err != nil {
		return nil, err
	}
	return c.customerPage(ctx, k)
}

func (c *Client) customerPage(ctx context.Context, k call) (*CustomerPage, error) {
	out := &Collection[Customer]{}
	if err := c.do(ctx, k, out); err != nil {
		return nil, err
	}
	page := &CustomerPage{Customers: out.Items}
	if out.Links != nil && out.Links.Next != nil && out.Links.Next.URI != "" {
		page.Next = out.Links.Next
	}
	return page, nil
}

// followLink is the call a next link makes: a relative URI (with or without
// the /v1 prefix the documented links differ on) whose path is path, GET,
// with the continuation token it names.
func followLink(op, path string, l *Link) (call, error) {
	bad := func(why string) (call, error) {
		return call{}, fmt.Errorf("partner center %s: the next link %q %s; it is not followed", op, l.URI, why)
	}
	if l == nil || l.URI == "" {
		return call{}, fmt.Errorf("partner center %s: no next link to follow", op)
	}
	if l.Method != "" && !strings.EqualFold(l.Method, http.MethodGet) {
		return bad("is not a GET")
	}
	u, err := url.Parse(l.URI)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return bad("is not a path below the API")
	}
	if p := strings.TrimPrefix(u.Path, "/v1"); !strings.EqualFold(p, path) {
		return bad("leads elsewhere than " + path)
	}
	k := call{op: op, method: http.MethodGet, path: path, query: u.Query(), retryable: true, header: http.Header{}}
	for _, h := range l.Headers {
		if strings.EqualFold(h.Key, HeaderContinuationToken) {
			k.header.Set(HeaderContinuationToken, h.Value)
		}
	}
	return k, nil
}

// ListTransfers lists the customer's transfers the partner is a party to
// ("Get a customer's transfers"), each status in its documented spelling.
// The documented answer is a JSON array of TransferEntity, not a
// collection; a collection is read too.
func (c *Client) ListTransfers(ctx context.Context, customerID string) ([]Transfer, error) {
	var raw json.RawMessage
	if err := c.do(ctx, call{op: "ListTransfers", method: http.MethodGet, path: transfersPath(customerID), retryable: true}, &raw); err != nil {
		return nil, err
	}
	transfers, err := decodeTransfers(raw)
	if err != nil {
		return nil, fmt.Errorf("partner center ListTransfers: decoding the response: %w", err)
	}
	for i := range transfers {
		transfers[i].Status = CanonicalTransferStatus(transfers[i].Status)
	}
	return transfers, nil
}

// decodeTransfers reads an array of transfers, or a collection of them.
func decodeTransfers(raw []byte) ([]Transfer, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("an empty body")
	}
	if raw[0] == '[' {
		var out []Transfer
		return out, json.Unmarshal(raw, &out)
	}
	var out Collection[Transfer]
	return out.Items, json.Unmarshal(raw, &out)
}
