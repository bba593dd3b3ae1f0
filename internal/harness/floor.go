package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// FloorReport is what a bare client needed for the workload's minimal
// writes and Partner Center calls.
type FloorReport struct {
	Duration           time.Duration `json:"durationNanos"`
	Workers            int           `json:"workers"`
	KubeWrites         int64         `json:"kubeWrites"`
	PartnerCenterCalls int64         `json:"partnerCenterCalls"`
}

// FloorPartnerTenant is the partner tenant the floor calls Partner Center
// as: apart from the workload's, so that the simulator's per-tenant counters
// of the operator's partners hold the operator's calls only.
var FloorPartnerTenant = tenant("partner/floor")

// floorNamespace holds the floor's objects for namespace i.
func floorNamespace(i int) string { return fmt.Sprintf("floor-%d", i) }

// Floor does, with a bare client and no controller, what the workload needs
// at the least, w.Workers customers at a time, and measures how long that
// takes on this API server and simulator: per customer it creates the
// Customer and its ResellerRelationship, asks Partner Center for the request
// link, has the simulated customer accept, reads the customer once and
// writes the relationship's status Approved; per subscription it creates the
// object, makes the one purchase (cart and checkout) or transfer its path
// needs (the simulated source partner accepts, one read sees it complete),
// and writes its status Completed once. Partner Center calls are not rate
// limited. The objects are deleted afterwards, before any manager runs.
func (w Workload) Floor(ctx context.Context, cfg *rest.Config, simURL string) (FloorReport, error) {
	w = w.withDefaults()
	r := FloorReport{Workers: w.Workers}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, -1 // no client-side limit, as the manager's client has none
	c, err := client.New(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return r, err
	}
	creds := credentialsSecret().StringData
	pcc, err := pc.New(pc.Config{Endpoint: simURL, AuthorityHost: simURL, TenantID: FloorPartnerTenant,
		Credentials: pc.Credentials{ClientID: creds[v1alpha1.SecretKeyClientID], ClientSecret: creds[v1alpha1.SecretKeyClientSecret],
			RefreshToken: creds[v1alpha1.SecretKeyRefreshToken]},
		RequestsPerMinute: 1 << 24})
	if err != nil {
		return r, err
	}
	// Tokens are not Partner Center calls: obtain them before the clock starts.
	if err := pcc.CheckCredentials(ctx); err != nil {
		return r, err
	}
	if err := pcc.CheckUserCredentials(ctx); err != nil {
		return r, err
	}
	var writes, calls atomic.Int64
	write := func(err error) error {
		if err == nil {
			writes.Add(1)
		}
		return err
	}
	call := func(err error) error {
		calls.Add(1)
		return err
	}
	source := tenant("partner/fabrikam")

	start := time.Now()
	for i := range w.Namespaces {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: floorNamespace(i)}}); err != nil && !apierrors.IsAlreadyExists(err) {
			return r, err
		}
	}
	err = forEachCustomer(ctx, w, func(cust int) error {
		ns, name := floorNamespace(cust%w.Namespaces), w.customerName(cust)
		custTenant := tenant("floor/customer/" + name)
		customer := &v1alpha1.Customer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: v1alpha1.CustomerSpec{DisplayName: name, TenantID: custTenant, Country: "US"}}
		if err := write(c.Create(ctx, customer)); err != nil {
			return fmt.Errorf("floor: creating customer %s: %w", name, err)
		}
		rr := &v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-contoso"},
			Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: "contoso", CustomerRef: name}}
		if err := write(c.Create(ctx, rr)); err != nil {
			return fmt.Errorf("floor: creating relationship %s: %w", rr.Name, err)
		}
		if _, err := pcc.RelationshipRequest(ctx, pc.RelationshipRequestOptions{}); call(err) != nil {
			return fmt.Errorf("floor: requesting the link: %w", err)
		}
		if err := actAs(ctx, simURL+"/sim/v1/relationships/accept", map[string]string{"partnerTenantId": FloorPartnerTenant, "customerTenantId": custTenant}); err != nil {
			return err
		}
		if _, err := pcc.GetCustomer(ctx, custTenant); call(err) != nil {
			return fmt.Errorf("floor: reading customer %s: %w", name, err)
		}
		rr.Status.Phase = v1alpha1.RelationshipApproved
		if err := write(c.Status().Update(ctx, rr)); err != nil {
			return fmt.Errorf("floor: approving relationship %s: %w", rr.Name, err)
		}
		plan := false
		for i := cust * w.PerCustomer; i < min(w.N, (cust+1)*w.PerCustomer); i++ {
			subName, path := fmt.Sprintf("sub-%d", i), w.Paths[i%len(w.Paths)]
			sub := &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: subName},
				Spec: subscriptionSpec(path, name, subName, "contoso")}
			if err := write(c.Create(ctx, sub)); err != nil {
				return fmt.Errorf("floor: creating subscription %s: %w", subName, err)
			}
			if err := floorSwitch(ctx, pcc, call, simURL, custTenant, source, ns+"/"+subName, sub, &plan); err != nil {
				return fmt.Errorf("floor: switching %s: %w", subName, err)
			}
			sub.Status.Phase = v1alpha1.PhaseCompleted
			if err := write(c.Status().Update(ctx, sub)); err != nil {
				return fmt.Errorf("floor: completing subscription %s: %w", subName, err)
			}
		}
		return nil
	})
	r.Duration = time.Since(start)
	r.KubeWrites, r.PartnerCenterCalls = writes.Load(), calls.Load()
	if err != nil {
		return r, err
	}
	for i := range w.Namespaces {
		for _, o := range []client.Object{&v1alpha1.CustomerSubscription{}, &v1alpha1.ResellerRelationship{}, &v1alpha1.Customer{}} {
			if err := c.DeleteAllOf(ctx, o, client.InNamespace(floorNamespace(i))); err != nil {
				return r, fmt.Errorf("floor: deleting its objects: %w", err)
			}
		}
	}
	return r, nil
}

// floorSwitch makes the Partner Center calls one subscription's path needs
// at the least. plan says whether the customer's Azure plan was bought:
// the first Azure subscription (or Azure transfer) of a customer buys it,
// and a new Azure subscription after that is one Azure Resource Manager
// PUT, counted and not sent (the floor counts Partner Center's calls and
// this one; it holds no ARM token).
func floorSwitch(ctx context.Context, pcc *pc.Client, call func(error) error, simURL, customer, source, requestID string,
	sub *v1alpha1.CustomerSubscription, plan *bool) error {
	spec := sub.Spec
	if spec.ServiceType == v1alpha1.ServiceUsageBased && !*plan {
		if err := floorBuy(ctx, pcc, call, customer, "floor/plan/"+customer, pc.AzurePlanProduct, pc.AzurePlanSKU, "", pc.BillingCycleOneTime, 1); err != nil {
			return err
		}
		*plan = true
		if spec.Channel.Type != v1alpha1.ChannelCSP {
			return nil // the plan came with this Azure subscription
		}
	}
	switch {
	case spec.Channel.Type == v1alpha1.ChannelCSP && (spec.ServiceType == v1alpha1.ServiceUsageBased || spec.Commerce == v1alpha1.CommerceNewCommerce):
		t, err := pcc.CreateTransfer(ctx, customer, tenant("floor/"+requestID), pc.Transfer{SourcePartnerTenantID: source,
			SourcePartnerName: "Fabrikam", CustomerEmailID: "admin@" + customer + ".example.com", TransferType: pc.PartnerTransferType,
			TargetProductTypes: []string{pc.TransferProductTypeOf(spec.Offer.ID)}})
		if call(err) != nil {
			return err
		}
		if err := actAs(ctx, simURL+"/sim/v1/transfers/"+t.ID+"/accept", nil); err != nil {
			return err
		}
		_, err = pcc.GetTransfer(ctx, customer, t.ID)
		return call(err)
	case spec.ServiceType == v1alpha1.ServiceLicenseBased && spec.Channel.Type != v1alpha1.ChannelCSP:
		return nil // the relationship is all it needs
	case spec.ServiceType == v1alpha1.ServiceUsageBased:
		return call(nil) // PUT .../Microsoft.Subscription/aliases/{alias}
	}
	product, sku, _ := strings.Cut(spec.Offer.ID, ":")
	return floorBuy(ctx, pcc, call, customer, requestID, product, sku, pc.TermDurationOneYear, pc.BillingCycleMonthly, int(*spec.Quantity))
}

// floorBuy buys quantity of a product's SKU: its availabilities, a cart
// and its checkout.
func floorBuy(ctx context.Context, pcc *pc.Client, call func(error) error, customer, requestID, product, sku, term, cycle string, quantity int) error {
	list, err := pcc.CustomerAvailabilities(ctx, customer, product, sku)
	if call(err) != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("the catalog sells customer %s no availability of %s:%s", customer, product, sku)
	}
	item := pc.CartLineItem{CatalogItemID: list[0].CatalogItemID, Quantity: quantity, TermDuration: term, BillingCycle: cycle}
	_, err = pcc.CreateOrder(ctx, customer, tenant("floor/"+requestID), []pc.CartLineItem{item})
	_ = call(err)    // a cart
	return call(err) // and its checkout
}

// actAs posts to one of the simulator's endpoints that act as another party.
func actAs(ctx context.Context, url string, body any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", url, resp.Status)
	}
	return nil
}
