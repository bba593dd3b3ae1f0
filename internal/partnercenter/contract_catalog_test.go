package partnercenter_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// The catalog, Azure entitlement and Microsoft Customer Agreement examples
// (testdata/SOURCES), and the request lines of their pages' request
// examples, which are kept here: testdata keeps only JSON bodies.

// Documented request lines: "METHOD path?query".
const (
	// get-a-list-of-availabilities-for-a-sku-by-customer (the page's table says POST; its example and the REST reference GET).
	docAvailabilitiesRequest = "GET /v1/customers/65543400-f8b0-4783-8530-6d35ab8c6801/products/DZH318Z0BPS6/skus/0001/availabilities"
	// get-a-sku-by-id.
	docSKURequest = "GET /v1/products/DZH318Z0BQ3V/skus/00G1?country=US"
	// get-a-list-of-azure-entitlements-for-subscription.
	docEntitlementsRequest = "GET /v1/customers/11f9bc2a-1f38-431c-a0b0-9455c6f5bbc0/subscriptions/3f15978e-005c-b763-bb78-2a8fab289c58/azureEntitlements"
	// get-customer-agreement-metadata.
	docMetadataRequest = "GET /v1/agreements?agreementType=MicrosoftCustomerAgreement"
	// get-confirmation-of-customer-agreement.
	docAgreementsRequest = "GET /v1/customers/14876998-c0dc-46e6-9d0c-65a57a6c32ec/agreements?agreementType=MicrosoftCustomerAgreement"
	// confirm-customer-consent-customer-agreement (with confirm-agreement.request.json).
	docConfirmRequest = "POST /v1/customers/14876998-c0dc-46e6-9d0c-65a57a6c32ec/agreements"
)

const (
	docAgreementCustomer = "14876998-c0dc-46e6-9d0c-65a57a6c32ec"
	// duplicateCustomer answers the documented 600061 error.
	duplicateCustomer = "0b6f1c5e-2a3d-4e8f-9a1b-2c3d4e5f6a7b"
)

func withExamples(sets ...map[string]reply) map[string]reply {
	all := map[string]reply{}
	for _, set := range sets {
		for k, v := range set {
			all[k] = v
		}
	}
	return all
}

// route is a request line without its query, as serveDocumented routes.
func route(requestLine string) string {
	r, _, _ := strings.Cut(requestLine, "?")
	return r
}

func catalogExamples(t *testing.T) map[string]reply {
	// The license availability example is one Availability: the call
	// answers a collection, so it is put in one here.
	license := append(append([]byte(`{"totalCount":1,"items":[`), example(t, "get-availabilities.license.response.json")...), []byte(`]}`)...)
	return map[string]reply{
		"GET /v1/customers/" + docCustomer + "/products/CFQ7TTC0LH18/skus/0001/availabilities": {200, license},
		// The page's "Response example for Azure plan", which is a SKU, as the documented request's answer.
		route(docAvailabilitiesRequest):           {200, example(t, "get-availabilities.azure-plan.response.json")},
		"GET /v1/products/DZH318Z0BPS6/skus/0001": {200, example(t, "get-availabilities.azure-plan.response.json")},
		"GET /v1/products/CFQ7TTC0LH18/skus/0001": {200, example(t, "get-sku.license.response.json")},
		route(docSKURequest):                      {200, example(t, "get-sku.reservation.response.json")},
		route(docEntitlementsRequest):             {200, example(t, "get-azure-entitlements.response.json")},
	}
}

func agreementExamples(t *testing.T) map[string]reply {
	return map[string]reply{
		route(docMetadataRequest):   {200, example(t, "get-agreement-metadata.response.json")},
		route(docAgreementsRequest): {200, example(t, "get-customer-agreements.response.json")},
		docConfirmRequest:           {201, example(t, "confirm-agreement.response.json")},
		// The page gives no status for 600061; the simulator answers 409.
		"POST /v1/customers/" + duplicateCustomer + "/agreements": {409, example(t, "confirm-agreement.exists.response.json")},
	}
}

func checkCatalogReads(t *testing.T, c *pc.Client) {
	ctx := context.Background()
	av, err := c.CustomerAvailabilities(ctx, docCustomer, "CFQ7TTC0LH18", "0001")
	if err != nil || len(av) != 1 || av[0].CatalogItemID != "CFQ7TTC0LH18:0001:CFQ7TTC0K971" || !av[0].IsPurchasable ||
		len(av[0].Terms) != 1 || !av[0].Sells("P1Y", "annual") || av[0].Sells("P1M", "monthly") {
		t.Errorf("CustomerAvailabilities = %+v, %v", av, err)
	}
	// The documented answer for the Azure plan is a SKU: read as a
	// collection it holds no availability, and no error.
	if plan, err := c.CustomerAvailabilities(ctx, "65543400-f8b0-4783-8530-6d35ab8c6801", "DZH318Z0BPS6", "0001"); err != nil || len(plan) != 0 {
		t.Errorf("the Azure plan example read as availabilities = %+v, %v", plan, err)
	}
	plan, err := c.GetSKU(ctx, "DZH318Z0BPS6", "0001", "US")
	if err != nil || plan.MinimumQuantity != 1 || plan.MaximumQuantity != 1 || plan.SupportedBillingCycles[0] != "one_time" ||
		plan.PurchasePrerequisites[0] != "MicrosoftCustomerAgreement" || plan.Title != "Microsoft Azure plan" {
		t.Errorf("GetSKU (Azure plan) = %+v, %v", plan, err)
	}
	basic, err := c.GetSKU(ctx, "CFQ7TTC0LH18", "0001", "US")
	if err != nil || basic.MaximumQuantity != 300 || len(basic.SupportedBillingCycles) != 2 || basic.IsTrial {
		t.Errorf("GetSKU (Business Basic) = %+v, %v", basic, err)
	}
	if vm, err := c.GetSKU(ctx, "DZH318Z0BQ3V", "00G1", "US"); err != nil || vm.MaximumQuantity != 999999999 {
		t.Errorf("GetSKU (reservation) = %+v, %v", vm, err)
	}
	ents, err := c.AzureEntitlements(ctx, "11f9bc2a-1f38-431c-a0b0-9455c6f5bbc0", "3f15978e-005c-b763-bb78-2a8fab289c58")
	if err != nil || len(ents) != 1 || ents[0].ID != "899ae6f1-8a74-4d5e-b6c6-e6b5019bbff8" || ents[0].FriendlyName != "Microsoft Azure" ||
		ents[0].Status != "active" || ents[0].SubscriptionID != "3f15978e-005c-b763-bb78-2a8fab289c58" {
		t.Errorf("AzureEntitlements = %+v, %v", ents, err)
	}
}

func checkAgreementReads(t *testing.T, c *pc.Client) {
	ctx := context.Background()
	meta, err := c.CurrentMCATemplate(ctx)
	if err != nil || meta.TemplateID != "117a77b0-9360-443b-8795-c6dedc750cf9" || meta.AgreementLink != "https://aka.ms/customeragreement" {
		t.Errorf("CurrentMCATemplate = %+v, %v", meta, err)
	}
	list, err := c.CustomerAgreements(ctx, docAgreementCustomer)
	if err != nil || len(list) != 2 || list[1].PrimaryContact.PhoneNumber != "1234567890" || list[0].Agreed().IsZero() ||
		list[0].Type != pc.AgreementTypeMCA || list[0].AgreementLink == "" {
		t.Errorf("CustomerAgreements = %+v, %v", list, err)
	}
	confirmed, err := c.ConfirmCustomerAgreement(ctx, docAgreementCustomer, "op-mca", documentedConfirmation())
	if err != nil || confirmed.UserID != "3d6f2c09-eb40-48ca-a4b3-d24c9c007531" || confirmed.Agreed().Format("2006-01-02") != "2018-06-14" {
		t.Errorf("ConfirmCustomerAgreement = %+v, %v", confirmed, err)
	}
	_, err = c.ConfirmCustomerAgreement(ctx, duplicateCustomer, "op-mca-again", documentedConfirmation())
	if !pc.IsAgreementExists(err) {
		t.Errorf("the documented 600061 answer: %v; want IsAgreementExists", err)
	}
}

// documentedConfirmation is the documented request's agreement, with an
// agreementLink, which the client must not send.
func documentedConfirmation() pc.Agreement {
	return pc.Agreement{PrimaryContact: pc.Contact{FirstName: "Tania", LastName: "Carr", Email: "someone@example.com", PhoneNumber: "1234567890"},
		TemplateID: "117a77b0-9360-443b-8795-c6dedc750cf9", DateAgreed: "2018-06-14T00:00:00.000Z", Type: pc.AgreementTypeMCA,
		AgreementLink: "https://aka.ms/customeragreement"}
}

// TestContractCatalogAndAgreementRequests: the client's requests are the
// documented request examples: method, path and query, and for the
// confirmation the documented body, field by field.
func TestContractCatalogAndAgreementRequests(t *testing.T) {
	c, d := serveDocumented(t, withExamples(catalogExamples(t), agreementExamples(t)))
	ctx := context.Background()
	calls := map[string]func() error{
		docAvailabilitiesRequest: func() error {
			_, err := c.CustomerAvailabilities(ctx, "65543400-f8b0-4783-8530-6d35ab8c6801", "DZH318Z0BPS6", "0001")
			return err
		},
		docSKURequest: func() error { _, err := c.GetSKU(ctx, "DZH318Z0BQ3V", "00G1", "US"); return err },
		docEntitlementsRequest: func() error {
			_, err := c.AzureEntitlements(ctx, "11f9bc2a-1f38-431c-a0b0-9455c6f5bbc0", "3f15978e-005c-b763-bb78-2a8fab289c58")
			return err
		},
		docMetadataRequest:   func() error { _, err := c.CurrentMCATemplate(ctx); return err },
		docAgreementsRequest: func() error { _, err := c.CustomerAgreements(ctx, docAgreementCustomer); return err },
		docConfirmRequest: func() error {
			_, err := c.ConfirmCustomerAgreement(ctx, docAgreementCustomer, "op-mca", documentedConfirmation())
			return err
		},
	}
	for line, call := range calls {
		if err := call(); err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		method, target, _ := strings.Cut(line, " ")
		path, query, _ := strings.Cut(target, "?")
		if sent := d.request(t, method, path); sent.query != query {
			t.Errorf("%s: the client sent the query %q", line, sent.query)
		}
	}
	sent := d.request(t, http.MethodPost, route(docConfirmRequest)[len("POST "):])
	sameFields(t, "agreement confirmation", fields(t, sent.body), fields(t, example(t, "confirm-agreement.request.json")))
}
