package partnercenter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// send sends one raw API request to the simulator with partner's
// application token.
func send(t *testing.T, url, partner, method, path string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	return sendAs(t, url, partner, "client_credentials", method, path, header, body)
}

// sendAs sends one raw API request with a token of grant: client_credentials
// (App) or refresh_token (App+User).
func sendAs(t *testing.T, url, partner, grant, method, path string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token(t, url, partner, grant))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out
}

// simWithTransfer starts a simulator where the customer accepted contoso,
// contoso owns one subscription and has asked fabrikam for a transfer.
func simWithTransfer(t *testing.T) (url string, sub *pc.Subscription, tr *pc.Transfer) {
	t.Helper()
	ctx := context.Background()
	_, srv := startSim(t, sim.Options{})
	accept(t, srv.URL, contoso, woodgrove)
	c, _ := newClient(t, srv.URL, contoso)
	orders, err := c.CreateOrder(ctx, woodgrove, "op-1", []pc.CartLineItem{{CatalogItemID: sim.E3CatalogItem, Quantity: 5, BillingCycle: "monthly", TermDuration: "P1Y"}})
	if err != nil {
		t.Fatal(err)
	}
	if sub, err = c.GetSubscription(ctx, woodgrove, orders[0].LineItems[0].SubscriptionID); err != nil {
		t.Fatal(err)
	}
	if tr, err = c.CreateTransfer(ctx, woodgrove, "op-2", pc.Transfer{SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", TargetProductTypes: nce}); err != nil {
		t.Fatal(err)
	}
	return srv.URL, sub, tr
}

// TestSimulatorRefusesUndocumentedRequests: what the documentation says is
// wrong, including the shapes this client sent before it followed the
// documentation, is refused as Partner Center refuses it.
func TestSimulatorRefusesUndocumentedRequests(t *testing.T) {
	url, sub, tr := simWithTransfer(t)
	carts := "/v1/customers/" + woodgrove + "/carts"
	transfers := "/v1/customers/" + woodgrove + "/transfers"
	subscription := "/v1/customers/" + woodgrove + "/subscriptions/" + sub.ID
	etag := map[string]string{"If-Match": sub.Attributes.Etag}
	full, _ := json.Marshal(sub)
	tests := []struct {
		name    string
		partner string
		method  string
		path    string
		header  map[string]string
		body    string
		status  int
	}{
		{"transferType as a string, as the client once sent it", contoso, "POST", transfers, nil,
			`{"sourcePartnerTenantId":"` + fabrikam + `","sourcePartnerName":"F","customerEmailId":"a@b.example","transferType":"3"}`, 400},
		{"transfer without sourcePartnerName", contoso, "POST", transfers, nil,
			`{"sourcePartnerTenantId":"` + fabrikam + `","customerEmailId":"a@b.example","transferType":3}`, 400},
		{"transfer without customerEmailId", contoso, "POST", transfers, nil,
			`{"sourcePartnerTenantId":"` + fabrikam + `","sourcePartnerName":"F","transferType":3}`, 400},
		{"transfer without transferType", contoso, "POST", transfers, nil,
			`{"sourcePartnerTenantId":"` + fabrikam + `","sourcePartnerName":"F","customerEmailId":"a@b.example"}`, 400},
		{"transferType that is not 3 or 5", contoso, "POST", transfers, nil,
			`{"sourcePartnerTenantId":"` + fabrikam + `","sourcePartnerName":"F","customerEmailId":"a@b.example","transferType":4}`, 400},
		{"the legacy request: line items, no name, email or type", contoso, "POST", transfers, nil,
			string(mustRead(t, "create-transfer.legacy.request.json")), 400},
		{"cart line item without billingCycle, as the Azure plan item was sent", contoso, "POST", carts, nil,
			`{"PartnerOnRecordAttestationAccepted":true,"lineItems":[{"id":0,"catalogItemId":"` + sim.AzurePlanCatalogItem + `","quantity":1}]}`, 400},
		{"billingCycle that is not one", contoso, "POST", carts, nil,
			`{"PartnerOnRecordAttestationAccepted":true,"lineItems":[{"id":0,"catalogItemId":"` + sim.AzurePlanCatalogItem + `","quantity":1,"billingCycle":"weekly"}]}`, 400},
		{"termDuration that is not one", contoso, "POST", carts, nil,
			`{"PartnerOnRecordAttestationAccepted":true,"lineItems":[{"id":0,"catalogItemId":"` + sim.E3CatalogItem + `","quantity":1,"billingCycle":"monthly","termDuration":"P2Y"}]}`, 400},
		{"a cart without the partner's attestation, as the 2021 example and the client once sent it", contoso, "POST", carts, nil,
			string(mustRead(t, "create-cart.request.json")), 400},
		{"the 2021 example attested: a legacy offer ID (MS-AZR-0145P) and availabilities the catalog does not sell", contoso, "POST", carts, nil,
			strings.Replace(string(mustRead(t, "create-cart.request.json")), "{", `{"PartnerOnRecordAttestationAccepted":true,`, 1), 400},
		{"a catalog item without its availability (productId:skuId)", contoso, "POST", carts, nil, cartOf(`"CFQ7TTC0LFLX:0001"`, 1, "monthly", "P1Y"), 404},
		{"an availability that is not current", contoso, "POST", carts, nil, cartOf(`"CFQ7TTC0LFLX:0001:CFQ7TTC0K18P"`, 1, "monthly", "P1Y"), 404},
		{"a legacy offer ID", contoso, "POST", carts, nil, cartOf(`"MS-AZR-0145P"`, 1, "monthly", ""), 400},
		{"a billing cycle the SKU does not support (Business Basic, triennial)", contoso, "POST", carts, nil,
			cartOf(strconv.Quote(sim.BusinessBasicCatalogItem), 1, "triennial", "P3Y"), 400},
		{"the Azure plan with a term", contoso, "POST", carts, nil, cartOf(strconv.Quote(sim.AzurePlanCatalogItem), 1, "one_time", "P1Y"), 400},
		{"the Azure plan billed monthly, as the client once sent it", contoso, "POST", carts, nil, cartOf(strconv.Quote(sim.AzurePlanCatalogItem), 1, "monthly", ""), 400},
		{"a license without a term", contoso, "POST", carts, nil, cartOf(strconv.Quote(sim.E3CatalogItem), 1, "monthly", ""), 400},
		{"more seats than the SKU allows", contoso, "POST", carts, nil, cartOf(strconv.Quote(sim.BusinessBasicCatalogItem), sim.BusinessMaxSeats+1, "monthly", "P1Y"), 400},
		{"two Azure plans in one cart", contoso, "POST", carts, nil, strings.Replace(cartOf(strconv.Quote(sim.AzurePlanCatalogItem), 1, "one_time", ""), "]",
			`,{"id":1,"catalogItemId":"`+sim.AzurePlanCatalogItem+`","quantity":1,"billingCycle":"one_time"}]`, 1), 403},
		{"a transfer without targetProductTypes", contoso, "POST", transfers, nil,
			`{"sourcePartnerTenantId":"` + fabrikam + `","sourcePartnerName":"F","customerEmailId":"a@b.example","transferType":3}`, 400},
		{"a transfer with a targetProductTypes value that is not documented", contoso, "POST", transfers, nil,
			`{"sourcePartnerTenantId":"` + fabrikam + `","sourcePartnerName":"F","customerEmailId":"a@b.example","transferType":3,"targetProductTypes":["Azure"]}`, 400},
		{"an Azure transfer to a partner without an Azure plan for the customer", contoso, "POST", transfers, nil,
			`{"sourcePartnerTenantId":"` + fabrikam + `","sourcePartnerName":"F","customerEmailId":"a@b.example","transferType":3,"targetProductTypes":["AzureSubscription"]}`, 400},
		{"a cart attestation that is false", contoso, "POST", carts, nil,
			`{"PartnerOnRecordAttestationAccepted":false,"lineItems":[{"id":0,"catalogItemId":"` + sim.E3CatalogItem + `","quantity":1,"billingCycle":"monthly","termDuration":"P1M"}]}`, 400},
		{"a participant key that is not documented", contoso, "POST", carts, nil,
			`{"PartnerOnRecordAttestationAccepted":true,"lineItems":[{"id":0,"catalogItemId":"` + sim.E3CatalogItem + `","quantity":1,"billingCycle":"monthly","termDuration":"P1M","participants":[{"key":"reseller","value":"517285"}]}]}`, 400},
		{"a participant that is not a Partner ID", contoso, "POST", carts, nil,
			`{"PartnerOnRecordAttestationAccepted":true,"lineItems":[{"id":0,"catalogItemId":"` + sim.E3CatalogItem + `","quantity":1,"billingCycle":"monthly","termDuration":"P1M","participants":[{"key":"transaction_reseller","value":"` + fabrikam + `"}]}]}`, 400},
		{"two transaction resellers", contoso, "POST", carts, nil,
			`{"PartnerOnRecordAttestationAccepted":true,"lineItems":[{"id":0,"catalogItemId":"` + sim.E3CatalogItem + `","quantity":1,"billingCycle":"monthly","termDuration":"P1M","participants":[{"key":"transaction_reseller","value":"517285"},{"key":"transaction_reseller","value":"5357564"}]}]}`, 400},
		{"an empty cart", contoso, "POST", carts, nil, `{"PartnerOnRecordAttestationAccepted":true,"lineItems":[]}`, 400},
		{"subscription update without If-Match", contoso, "PATCH", subscription, nil, string(full), 412},
		{"subscription update with a stale ETag", contoso, "PATCH", subscription, map[string]string{"If-Match": `"stale"`}, string(full), 412},
		{"subscription update with only a status, as the client once sent it", contoso, "PATCH", subscription, etag, `{"status":"suspended"}`, 400},
		{"subscription status that cannot be set", contoso, "PATCH", subscription, etag, strings.Replace(string(full), `"status":"active"`, `"status":"expired"`, 1), 400},
		{"cancel as Cancelled, as the client once sent it", contoso, "PATCH", transfers + "/" + tr.ID, nil, `{"id":"` + tr.ID + `","status":"Cancelled"}`, 400},
		{"accept as PATCH Completed, as the client once sent it", fabrikam, "PATCH", transfers + "/" + tr.ID, nil, `{"id":"` + tr.ID + `","status":"Completed"}`, 400},
		{"the target partner rejecting", contoso, "PATCH", transfers + "/" + tr.ID, nil, `{"id":"` + tr.ID + `","status":"reject"}`, 400},
		{"the source partner cancelling", fabrikam, "PATCH", transfers + "/" + tr.ID, nil, `{"id":"` + tr.ID + `","status":"Cancel"}`, 400},
		{"the target partner accepting", contoso, "POST", transfers + "/" + tr.ID + "/accept", nil, "", 403},
		{"confirming the Microsoft Customer Agreement with an App token (App+User only)", contoso, "POST", "/v1/customers/" + woodgrove + "/agreements", nil,
			string(mustRead(t, "confirm-agreement.request.json")), 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := send(t, url, tc.partner, tc.method, tc.path, tc.header, tc.body)
			if status != tc.status {
				t.Errorf("HTTP %d %v, want %d", status, body, tc.status)
			}
			// The documented error body: code, description, data, source.
			for _, k := range []string{"code", "description", "data", "source"} {
				if _, ok := body[k]; !ok {
					t.Errorf("the error body has no %q: %v", k, body)
				}
			}
		})
	}
	// Nothing refused changed anything.
	c, _ := newClient(t, url, contoso)
	if got, err := c.GetTransfer(context.Background(), woodgrove, tr.ID); err != nil || got.Status != pc.TransferActive {
		t.Errorf("after the refusals the transfer is %+v, %v", got, err)
	}
	if got, err := c.GetSubscription(context.Background(), woodgrove, sub.ID); err != nil || got.Status != pc.SubscriptionActive || got.Attributes.Etag != sub.Attributes.Etag {
		t.Errorf("after the refusals the subscription is %+v, %v", got, err)
	}
}

// TestSimulatorAcceptsDocumentedRequests: the documented request examples,
// sent as they are (IDs and ETags put in), are taken.
func TestSimulatorAcceptsDocumentedRequests(t *testing.T) {
	url, sub, tr := simWithTransfer(t)
	carts := "/v1/customers/" + woodgrove + "/carts"
	cases := []struct {
		name    string
		partner string
		grant   string // "" is client_credentials (App)
		method  string
		path    string
		header  map[string]string
		body    string
		status  int
		check   func(map[string]any) bool
	}{
		{"create a cart, attested, naming an indirect reseller", contoso, "", "POST", carts, nil, documentedAttestedCart(t), 201,
			func(b map[string]any) bool { return b["status"] == "Active" && len(b["lineItems"].([]any)) == 2 }},
		{"create a new-commerce cart (PascalCase keys, billed \"Monthly\"), attested", contoso, "", "POST", carts, nil,
			strings.Replace(string(mustRead(t, "create-cart.new-commerce.request.json")), "{", `{"PartnerOnRecordAttestationAccepted":true,`, 1), 201,
			func(b map[string]any) bool {
				li := b["lineItems"].([]any)[0].(map[string]any)
				return li["catalogItemId"] == sim.E5CatalogItem && li["billingCycle"] == "monthly" && li["termDuration"] == "P1M"
			}},
		{"update a subscription (PascalCase keys)", contoso, "", "PATCH", "/v1/customers/" + woodgrove + "/subscriptions/" + sub.ID,
			map[string]string{"If-Match": sub.Attributes.Etag},
			strings.NewReplacer("83ef9d05-4169-4ef9-9657-0e86b1eab1de", sub.ID, `"<etag>"`, `"`+strings.ReplaceAll(sub.Attributes.Etag, `"`, `\"`)+`"`).Replace(string(mustRead(t, "update-subscription.request.json"))), 200,
			func(b map[string]any) bool { return b["status"] == "suspended" && b["quantity"] == float64(5) }},
		{"reject a transfer (source partner)", fabrikam, "", "PATCH", "/v1/customers/" + woodgrove + "/transfers/" + tr.ID, nil,
			strings.ReplaceAll(string(mustRead(t, "reject-transfer.request.json")), "ac4a9d22-ba07-444e-890f-cfe084eed498", tr.ID), 200,
			func(b map[string]any) bool { return b["status"] == "Reject" }},
		{"confirm the customer's acceptance of the Microsoft Customer Agreement (App+User)", contoso, "refresh_token", "POST", "/v1/customers/" + woodgrove + "/agreements", nil,
			string(mustRead(t, "confirm-agreement.request.json")), 201,
			func(b map[string]any) bool {
				return b["type"] == pc.AgreementTypeMCA && b["userId"] != nil && b["dateAgreed"] == "2018-06-14T00:00:00.000Z"
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			grant := tc.grant
			if grant == "" {
				grant = "client_credentials"
			}
			status, body := sendAs(t, url, tc.partner, grant, tc.method, tc.path, tc.header, tc.body)
			if status != tc.status || !tc.check(body) {
				t.Errorf("HTTP %d %v, want %d", status, body, tc.status)
			}
		})
	}
}

// documentedAttestedCart is the documented attested cart, verbatim but
// for its catalog items: CFQ7TTC0LH0Z:0001:CFQ7TTC0K18P and
// CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ are not in the simulator's catalog, so
// they become Microsoft 365 E3 and E5, sold with the same terms and cycles.
func documentedAttestedCart(t *testing.T) string {
	return strings.NewReplacer("CFQ7TTC0LH0Z:0001:CFQ7TTC0K18P", sim.E3CatalogItem, "CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ", sim.E5CatalogItem).
		Replace(string(mustRead(t, "create-cart.attestation.request.json")))
}

func mustRead(t *testing.T, name string) []byte { return example(t, name) }

// cartOf is an attested cart of one line item; catalogItemID is JSON.
func cartOf(catalogItemID string, quantity int, billingCycle, termDuration string) string {
	term := ""
	if termDuration != "" {
		term = `,"termDuration":"` + termDuration + `"`
	}
	return `{"PartnerOnRecordAttestationAccepted":true,"lineItems":[{"id":0,"catalogItemId":` + catalogItemID +
		`,"quantity":` + strconv.Itoa(quantity) + `,"billingCycle":"` + billingCycle + `"` + term + `}]}`
}

// TestPendingOrder: with provisioning delayed, checkout answers a pending
// order without a subscription ID; the order shows it once provisioned.
func TestPendingOrder(t *testing.T) {
	ctx := context.Background()
	_, srv := startSim(t, sim.Options{ProvisioningDelay: time.Hour})
	accept(t, srv.URL, contoso, woodgrove)
	c, _ := newClient(t, srv.URL, contoso)
	orders, err := c.CreateOrder(ctx, woodgrove, "op-p", []pc.CartLineItem{azurePlanItem()})
	if err != nil {
		t.Fatal(err)
	}
	orderID, subID := pc.OrderedSubscription(orders)
	if orderID == "" || subID != "" || orders[0].Status != pc.OrderPending {
		t.Fatalf("checkout = %+v", orders)
	}
	if o, err := c.GetOrder(ctx, woodgrove, orderID); err != nil || o.Status != pc.OrderPending || o.LineItems[0].SubscriptionID != "" {
		t.Fatalf("GetOrder before provisioning = %+v, %v", o, err)
	}
	if subs, _ := c.ListSubscriptions(ctx, woodgrove); len(subs) != 0 {
		t.Errorf("subscriptions before provisioning: %+v", subs)
	}
	simPost(t, srv.URL, "/sim/v1/clock/advance", map[string]string{"duration": "1h"})
	o, err := c.GetOrder(ctx, woodgrove, orderID)
	if err != nil || o.Status != pc.OrderCompleted {
		t.Fatalf("GetOrder after provisioning = %+v, %v", o, err)
	}
	if _, subID = pc.OrderedSubscription([]pc.Order{*o}); subID == "" {
		t.Fatalf("no subscription ID after provisioning: %+v", o)
	}
	if s, err := c.GetSubscription(ctx, woodgrove, subID); err != nil || s.BillingType != pc.BillingUsage {
		t.Errorf("GetSubscription = %+v, %v", s, err)
	}
	// A resumed operation gets the first checkout's answer, still pending, and buys nothing more.
	again, err := c.CreateOrder(ctx, woodgrove, "op-p", []pc.CartLineItem{azurePlanItem()})
	if err != nil || again[0].ID != orderID {
		t.Errorf("resumed CreateOrder = %+v, %v", again, err)
	}
}

// TestPurchaseNotInCart: a caller sending a cart request made earlier by
// others, whose cart has no line item of its own, checks nothing out: it
// must not buy what others put in the cart (after a refused checkout, they
// may have been bought elsewhere since).
func TestPurchaseNotInCart(t *testing.T) {
	ctx := context.Background()
	s, srv := startSim(t, sim.Options{})
	accept(t, srv.URL, contoso, woodgrove)
	c, _ := newClient(t, srv.URL, contoso)
	item := func(name string) []pc.CartLineItem {
		return []pc.CartLineItem{{CatalogItemID: sim.E3CatalogItem, FriendlyName: name, Quantity: 1, BillingCycle: "monthly", TermDuration: "P1Y"}}
	}
	first, err := c.Purchase(ctx, woodgrove, "cart-1", "Microsoft 365 E3 (a)", item("Microsoft 365 E3 (a)"))
	if err != nil {
		t.Fatal(err)
	}
	if _, li := first.Ordered("Microsoft 365 E3 (a)"); li == nil {
		t.Fatalf("a's checkout = %+v", first.Result)
	}
	late, err := c.Purchase(ctx, woodgrove, "cart-1", "Microsoft 365 E3 (b)", item("Microsoft 365 E3 (b)"))
	if !errors.Is(err, pc.ErrNotInCart) || late == nil || late.Cart.ID != first.Cart.ID {
		t.Fatalf("b's Purchase = %+v, %v; want the first cart and ErrNotInCart", late, err)
	}
	if st := s.Stats(); st.RequestsByRoute["CheckoutCart"] != 1 || st.ObjectsCreated["orderLineItem"] != 1 {
		t.Errorf("%d checkouts, %d line items ordered; want 1 and 1", st.RequestsByRoute["CheckoutCart"], st.ObjectsCreated["orderLineItem"])
	}
}

// TestTransferPending: only Active and InProgress may still complete; any
// other status, documented or not, is final, so nobody polls it forever.
func TestTransferPending(t *testing.T) {
	for status, pending := range map[string]bool{
		pc.TransferActive: true, pc.TransferInProgress: true,
		pc.TransferCompleted: false, pc.TransferRejected: false, pc.TransferCancelled: false, pc.TransferExpired: false,
		pc.TransferFailed: false, "Cancelled": false, "SomethingNew": false, "": false,
	} {
		if got := (&pc.Transfer{Status: status}).Pending(); got != pending {
			t.Errorf("status %q: Pending() = %v, want %v", status, got, pending)
		}
	}
}

func TestTransferTypeDecoding(t *testing.T) {
	tests := []struct {
		json string
		want pc.TransferType
		err  bool
	}{
		{`{"transferType":3}`, pc.TransferTypeModernAzure, false},
		{`{"transferType":5}`, pc.TransferTypeNewCommerce, false},
		{`{"transferType":"5"}`, pc.TransferTypeNewCommerce, false}, // the resource table types it as a string
		{`{}`, 0, false},
		{`{"transferType":"NewCommerce"}`, 0, true},
	}
	for _, tc := range tests {
		var tr pc.Transfer
		err := json.NewDecoder(bytes.NewReader([]byte(tc.json))).Decode(&tr)
		if (err != nil) != tc.err || tr.TransferType != tc.want {
			t.Errorf("%s: %v, %v; want %v (error %v)", tc.json, tr.TransferType, err, tc.want, tc.err)
		}
	}
}

// TestTransferBeforeTheCustomerAccepted: the customer's contact address
// cannot be read before it accepted; that is "not yet", not a refusal.
func TestTransferBeforeTheCustomerAccepted(t *testing.T) {
	_, srv := startSim(t, sim.Options{})
	c, _ := newClient(t, srv.URL, contoso)
	_, err := c.CreateTransfer(context.Background(), woodgrove, "op-early", pc.Transfer{SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", TargetProductTypes: nce})
	if !errors.Is(err, pc.ErrCustomerNotVisible) || !pc.IsNotFound(err) || pc.IsRefused(err) {
		t.Fatalf("CreateTransfer = %v: want the customer not visible yet, not refused", err)
	}
}

// keyPaths lists the key paths of a JSON value (lower case, array elements
// merged), such as "lineitems.subscriptionid".
func keyPaths(v any, prefix string, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := strings.ToLower(k)
			if prefix != "" {
				p = prefix + "." + p
			}
			into[p] = true
			if strings.HasSuffix(p, "links") {
				continue // links are named per resource; their shape is checked by decoding
			}
			keyPaths(e, p, into)
		}
	case []any:
		for _, e := range x {
			keyPaths(e, prefix, into)
		}
	}
}

// TestSimulatorSpeaksTheDocumentedShapes: every field the simulator answers
// with is one the documented examples show (or, for the new-commerce
// transfer fields whose example is cut short, the TransferEntity table lists).
func TestSimulatorSpeaksTheDocumentedShapes(t *testing.T) {
	url, sub, tr := simWithTransfer(t)
	cart := map[string]any{"PartnerOnRecordAttestationAccepted": true, "lineItems": []any{map[string]any{"id": 0, "catalogItemId": sim.E3CatalogItem, "quantity": 1, "billingCycle": "monthly", "termDuration": "P1M"}}}
	cartBody, _ := json.Marshal(cart)
	_, createdCart := send(t, url, contoso, "POST", "/v1/customers/"+woodgrove+"/carts", nil, string(cartBody))
	_, checkout := send(t, url, contoso, "POST", "/v1/customers/"+woodgrove+"/carts/"+createdCart["id"].(string)+"/checkout", nil, "")
	checkShapes(t, []shapeCase{
		{"customer", get(t, url, contoso, "/v1/customers/"+woodgrove), documentedKeys(t, "", nil, "get-customer.response.json")},
		{"indirect resellers of a customer", resellersOf(t, url), documentedKeys(t, "", nil, "get-customer-relationships.response.json")},
		{"subscription", get(t, url, contoso, "/v1/customers/"+woodgrove+"/subscriptions/"+sub.ID),
			// billingCycle and termDuration: the Subscription table and the page's new-commerce example.
			// cancellationAllowedUntilDate: the Subscription resource's table (and the SDK's
			// Subscription.CancellationAllowedUntilDate); no example shows it.
			documentedKeys(t, "", []string{"billingcycle", "termduration", "cancellationalloweduntildate"},
				"get-subscription.response.json", "list-subscriptions.response.json", "cancel-subscription.response.json")},
		{"cart", createdCart, documentedKeys(t, "", nil, "create-cart.response.json")},
		{"checkout", checkout, documentedKeys(t, "", []string{"attributes", "attributes.objecttype"}, "checkout.response.json", "checkout.new-commerce-order.json")},
		{"transfer", get(t, url, contoso, "/v1/customers/"+woodgrove+"/transfers/"+tr.ID),
			// The new-commerce fields of the TransferEntity table.
			documentedKeys(t, "", []string{"transfertype", "customeremailid", "expirationtime", "completedtime", "targetproducttypes"},
				"get-transfer.response.json", "create-transfer.legacy.response.json")},
		{"error", get(t, url, contoso, "/v1/customers/"+woodgrove+"/transfers/no-such-transfer"), documentedKeys(t, "", nil, "error.response.json")},
	})
}

// TestSimulatorSpeaksTheDocumentedCatalogShapes: the catalog, the Azure
// entitlements and the Microsoft Customer Agreement answers hold only
// what the documented examples show.
func TestSimulatorSpeaksTheDocumentedCatalogShapes(t *testing.T) {
	url, _, _ := simWithTransfer(t)
	c, _ := newClient(t, url, contoso)
	orders, err := c.CreateOrder(context.Background(), woodgrove, "op-plan", []pc.CartLineItem{azurePlanItem()})
	if err != nil {
		t.Fatal(err)
	}
	skuKeys := []string{"get-sku.license.response.json", "get-sku.reservation.response.json", "get-availabilities.azure-plan.response.json"}
	// The collection around availabilities: the by-country page's example (totalCount, items, attributes.objectType).
	availabilities := documentedKeys(t, "", []string{"totalcount", "items", "attributes", "attributes.objecttype"})
	maps.Copy(availabilities, documentedKeys(t, "items.", nil, "get-availabilities.license.response.json"))
	// The Availability table's sku, "The SKU this availability corresponds to."
	maps.Copy(availabilities, documentedKeys(t, "items.sku.", []string{""}, skuKeys...))
	agreements := "/v1/customers/" + woodgrove + "/agreements"
	confirm := string(mustRead(t, "confirm-agreement.request.json"))
	_, confirmed := sendAs(t, url, contoso, "refresh_token", "POST", agreements, nil, confirm)
	_, duplicate := sendAs(t, url, contoso, "refresh_token", "POST", agreements, nil, confirm)
	checkShapes(t, []shapeCase{
		{"availabilities", get(t, url, contoso, "/v1/customers/"+woodgrove+"/products/CFQ7TTC0LH18/skus/0001/availabilities"), availabilities},
		{"Azure plan availabilities", get(t, url, contoso, "/v1/customers/"+woodgrove+"/products/DZH318Z0BPS6/skus/0001/availabilities"), availabilities},
		{"license SKU", get(t, url, contoso, "/v1/products/CFQ7TTC0LFLX/skus/0001?country=US"), documentedKeys(t, "", nil, skuKeys...)},
		{"Azure plan SKU", get(t, url, contoso, "/v1/products/DZH318Z0BPS6/skus/0001?country=US"), documentedKeys(t, "", nil, skuKeys...)},
		{"Azure entitlements", get(t, url, contoso, "/v1/customers/"+woodgrove+"/subscriptions/"+orders[0].LineItems[0].SubscriptionID+"/azureEntitlements"),
			documentedKeys(t, "", nil, "get-azure-entitlements.response.json")},
		{"agreement metadata", getAsUser(t, url, contoso, "/v1/agreements?agreementType=MicrosoftCustomerAgreement"), documentedKeys(t, "", nil, "get-agreement-metadata.response.json")},
		// The example's collection has no attributes (the metadata example's has); userId is the Agreement resource table's.
		{"customer agreements", getAsUser(t, url, contoso, agreements+"?agreementType=MicrosoftCustomerAgreement"),
			documentedKeys(t, "", []string{"attributes", "attributes.objecttype", "items.userid"}, "get-customer-agreements.response.json")},
		// The Agreement resource: the confirmation's answer, and agreementLink as the customer's agreements show it.
		{"confirmation", confirmed, documentedKeys(t, "", []string{"agreementlink"}, "confirm-agreement.response.json")},
		{"confirmation Partner Center holds", duplicate, documentedKeys(t, "", nil, "confirm-agreement.exists.response.json")},
	})
}

// shapeCase is an answer of the simulator and the key paths documented for it.
type shapeCase struct {
	name string
	got  map[string]any
	want map[string]bool
}

// checkShapes: every key path of each answer is documented (a checkout's
// orders are checked against the documented orders).
func checkShapes(t *testing.T, tests []shapeCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]bool{}
			keyPaths(tc.got, "", got)
			if len(got) == 0 {
				t.Fatal("empty answer")
			}
			for k := range got {
				if !tc.want[k] && !tc.want["orders."+k] && !strings.HasPrefix(k, "orders.") {
					t.Errorf("the simulator answers %q, which no documented example shows", k)
				}
				if strings.HasPrefix(k, "orders.") && !tc.want[k] && !tc.want[strings.TrimPrefix(k, "orders.")] {
					t.Errorf("the simulator answers %q, which no documented order shows", k)
				}
			}
		})
	}
}

// documentedKeys is the key paths of the examples in files, and extra, each
// under prefix ("items." puts them in a collection's items; an extra ""
// is prefix itself).
func documentedKeys(t *testing.T, prefix string, extra []string, files ...string) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	for _, f := range files {
		var v any
		if err := json.Unmarshal(example(t, f), &v); err != nil {
			t.Fatal(err)
		}
		keyPaths(v, strings.TrimSuffix(prefix, "."), m)
	}
	for _, k := range extra {
		m[strings.TrimSuffix(prefix+k, ".")] = true
	}
	return m
}

func get(t *testing.T, url, partner, path string) map[string]any {
	t.Helper()
	_, body := send(t, url, partner, "GET", path, nil, "")
	return body
}

// getAsUser reads with an App+User token, as the calls that need one do.
func getAsUser(t *testing.T, url, partner, path string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token(t, url, partner, "refresh_token"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s as a user: HTTP %d, %v", path, resp.StatusCode, err)
	}
	return out
}

// resellersOf: woodgrove accepts contoso's link for an indirect reseller,
// then contoso lists the customer's indirect resellers.
func resellersOf(t *testing.T, url string) map[string]any {
	t.Helper()
	_ = simPost(t, url, "/sim/v1/relationships/accept", map[string]string{"partnerTenantId": contoso, "customerTenantId": woodgrove,
		"indirectResellerId": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"}).Body.Close()
	out := getAsUser(t, url, contoso, "/v1/customers/"+woodgrove+"/relationships")
	if items, _ := out["items"].([]any); len(items) != 1 {
		t.Fatalf("indirect resellers of the customer: %v, want the one accepted", out)
	}
	return out
}
