package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
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
// writes and Partner Center calls, waiting what the simulated parties take.
type FloorReport struct {
	Duration time.Duration `json:"durationNanos"`
	Workers  int           `json:"workers"`
	// AcceptAfter and ProvisioningDelay are the simulated waits the floor
	// waited: a customer accepts, and a source partner accepts a transfer,
	// AcceptAfter after being asked; an order is provisioned
	// ProvisioningDelay after checkout.
	AcceptAfter       time.Duration `json:"acceptAfterNanos"`
	ProvisioningDelay time.Duration `json:"provisioningDelayNanos"`
	KubeWrites        int64         `json:"kubeWrites"`
	// PartnerCenterCalls are the calls the floor sent to Partner Center;
	// ARMCalls the Azure Resource Manager alias PUTs it counts and does
	// not send (it holds no ARM token).
	PartnerCenterCalls int64 `json:"partnerCenterCalls"`
	ARMCalls           int64 `json:"armCalls"`
}

// FloorOptions are the simulated delays the floor waits, as the operator
// must: the simulator's and the bench's customers' acceptance, and the
// simulator's provisioning delay.
type FloorOptions struct {
	// AcceptAfter: a customer accepts the reseller request this long after
	// the partner showed it the link, and a source partner accepts a
	// transfer this long after it was created (the simulator's
	// --auto-approve-after, and AcceptRelationships for the operator).
	AcceptAfter time.Duration
	// ProvisioningDelay: an order stays pending this long after checkout
	// (the simulator's --provisioning-delay).
	ProvisioningDelay time.Duration
}

// FloorPartnerTenant is the partner tenant the floor calls Partner Center
// as: apart from the workload's, so that the simulator's per-tenant counters
// of the operator's partners hold the operator's calls only.
var FloorPartnerTenant = tenant("partner/floor")

// floorNamespace holds the floor's objects for namespace i.
func floorNamespace(i int) string { return fmt.Sprintf("floor-%d", i) }

// floor is one run of the bare client.
type floor struct {
	w      Workload
	o      FloorOptions
	c      client.Client
	pcc    *pc.Client
	simURL string
	source string
	// slots hold w.Workers tokens: a customer's path holds one while it
	// writes or calls, never while it waits for another party.
	slots         chan struct{}
	writes, calls atomic.Int64
	arm           atomic.Int64
	link          func() error
}

// Floor does, with a bare client and no controller, what the workload needs
// at the least, and measures how long that takes on this API server and
// simulator, waiting the simulated parties as the operator must:
//
//   - the partner asks Partner Center for its request link once;
//   - per customer (all customers at once, at most w.Workers of them
//     writing or calling at any moment): create the Customer, its
//     ResellerRelationship and its subscriptions; the customer is shown the
//     link then and accepts o.AcceptAfter later (through the simulator's
//     acting endpoint, as AcceptRelationships does for the operator); then
//     one read of the customer, the relationship's status Approved and the
//     relationship-only subscriptions' status Completed;
//   - then, at once: one cart and checkout for all the customer's purchases
//     (after reading each product's availability once), read again once each
//     order is due provisioned (o.ProvisioningDelay, when not zero), and the
//     purchased subscriptions' status Completed; one transfer per source
//     partner for all the customer's switching subscriptions, read once when
//     the simulated source partner accepted it (o.AcceptAfter after its
//     creation), and their status Completed. A new Azure subscription beyond
//     the one the Azure plan brings is one ARM PUT, counted, not sent.
//
// Partner Center calls are not rate limited. The objects are deleted
// afterwards, before any manager runs.
func (w Workload) Floor(ctx context.Context, cfg *rest.Config, simURL string, o FloorOptions) (FloorReport, error) {
	w = w.withDefaults()
	r := FloorReport{Workers: w.Workers, AcceptAfter: o.AcceptAfter, ProvisioningDelay: o.ProvisioningDelay}
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
	f := &floor{w: w, o: o, c: c, pcc: pcc, simURL: simURL, source: tenant("partner/fabrikam"), slots: make(chan struct{}, w.Workers)}
	f.link = sync.OnceValue(func() error {
		_, err := pcc.RelationshipRequest(ctx, pc.RelationshipRequestOptions{})
		return f.call(err)
	})

	start := time.Now()
	for i := range w.Namespaces {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: floorNamespace(i)}}); err != nil && !apierrors.IsAlreadyExists(err) {
			return r, err
		}
	}
	err = forAllCustomers(ctx, w.Customers(), func(ctx context.Context, cust int) error { return f.customer(ctx, cust) })
	r.Duration = time.Since(start)
	r.KubeWrites, r.PartnerCenterCalls, r.ARMCalls = f.writes.Load(), f.calls.Load(), f.arm.Load()
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

func (f *floor) write(err error) error {
	if err == nil {
		f.writes.Add(1)
	}
	return err
}

func (f *floor) call(err error) error {
	f.calls.Add(1)
	return err
}

// work runs do holding one of the floor's worker slots.
func (f *floor) work(ctx context.Context, do func() error) error {
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-f.slots }()
	return do()
}

// sleepUntil waits, holding no slot, until t.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// floorSub is one of a customer's subscriptions and what its path needs.
type floorSub struct {
	obj  *v1alpha1.CustomerSubscription
	kind floorKind
}

type floorKind int

const (
	relationshipOnly floorKind = iota // nothing beyond the relationship
	purchase                          // a line item of the customer's cart
	azurePlan                         // the Azure plan, bringing the customer's first Azure subscription
	azureAlias                        // a further Azure subscription under the plan: one ARM PUT
	transfer                          // moved by the customer's transfer
)

// plan sorts a customer's subscriptions by what each needs: the first new
// Azure subscription comes with the Azure plan, the next through ARM; an
// Azure subscription that moves needs the plan bought too.
func plan(specs []*v1alpha1.CustomerSubscription) (subs []floorSub, needsPlan bool) {
	planned := false
	for _, s := range specs {
		spec := s.Spec
		k := purchase
		switch {
		case spec.Channel.Type == v1alpha1.ChannelCSP && (spec.ServiceType == v1alpha1.ServiceUsageBased || spec.Commerce == v1alpha1.CommerceNewCommerce):
			k = transfer
			needsPlan = needsPlan || spec.ServiceType == v1alpha1.ServiceUsageBased
		case spec.ServiceType == v1alpha1.ServiceLicenseBased && spec.Channel.Type != v1alpha1.ChannelCSP:
			k = relationshipOnly
		case spec.ServiceType == v1alpha1.ServiceUsageBased && !planned:
			k, planned = azurePlan, true
		case spec.ServiceType == v1alpha1.ServiceUsageBased:
			k = azureAlias
		}
		subs = append(subs, floorSub{obj: s, kind: k})
	}
	return subs, needsPlan && !planned
}

// customer is one customer's whole path.
func (f *floor) customer(ctx context.Context, cust int) error {
	w := f.w
	ns, name := floorNamespace(cust%w.Namespaces), w.customerName(cust)
	custTenant := tenant("floor/customer/" + name)
	rr := &v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-contoso"},
		Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: "contoso", CustomerRef: name}}
	var objs []*v1alpha1.CustomerSubscription
	for i := cust * w.PerCustomer; i < min(w.N, (cust+1)*w.PerCustomer); i++ {
		subName := fmt.Sprintf("sub-%d", i)
		objs = append(objs, &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: subName},
			Spec: subscriptionSpec(w.Paths[i%len(w.Paths)], name, subName, "contoso")})
	}
	subs, buyPlan := plan(objs)

	// Declare, and show the customer the link.
	var asked time.Time
	err := f.work(ctx, func() error {
		customer := &v1alpha1.Customer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: v1alpha1.CustomerSpec{DisplayName: name, TenantID: custTenant, Country: "US"}}
		if err := f.write(f.c.Create(ctx, customer)); err != nil {
			return fmt.Errorf("floor: creating customer %s: %w", name, err)
		}
		if err := f.write(f.c.Create(ctx, rr)); err != nil {
			return fmt.Errorf("floor: creating relationship %s: %w", rr.Name, err)
		}
		if err := f.link(); err != nil {
			return fmt.Errorf("floor: requesting the link: %w", err)
		}
		asked = time.Now()
		for _, s := range subs {
			if err := f.write(f.c.Create(ctx, s.obj)); err != nil {
				return fmt.Errorf("floor: creating subscription %s: %w", s.obj.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	// The customer accepts AcceptAfter after it was shown the link.
	if err := sleepUntil(ctx, asked.Add(f.o.AcceptAfter)); err != nil {
		return err
	}
	if err := actAs(ctx, f.simURL+"/sim/v1/relationships/accept", map[string]string{"partnerTenantId": FloorPartnerTenant, "customerTenantId": custTenant}); err != nil {
		return err
	}
	err = f.work(ctx, func() error {
		if _, err := f.pcc.GetCustomer(ctx, custTenant); f.call(err) != nil {
			return fmt.Errorf("floor: reading customer %s: %w", name, err)
		}
		rr.Status.Phase = v1alpha1.RelationshipApproved
		if err := f.write(f.c.Status().Update(ctx, rr)); err != nil {
			return fmt.Errorf("floor: approving relationship %s: %w", rr.Name, err)
		}
		return f.complete(ctx, subs, relationshipOnly)
	})
	if err != nil {
		return err
	}

	// The purchases and the transfer, overlapping; an Azure subscription
	// moves onto the customer's Azure plan, bought first.
	if buyPlan {
		if err := f.buy(ctx, custTenant, name, subs, buyPlan); err != nil {
			return err
		}
		return f.move(ctx, custTenant, name, subs)
	}
	var wg sync.WaitGroup
	var buyErr, moveErr error
	wg.Go(func() { buyErr = f.buy(ctx, custTenant, name, subs, false) })
	wg.Go(func() { moveErr = f.move(ctx, custTenant, name, subs) })
	wg.Wait()
	if buyErr != nil {
		return buyErr
	}
	return moveErr
}

// complete writes status Completed once for each subscription of the kinds.
// The caller holds a slot.
func (f *floor) complete(ctx context.Context, subs []floorSub, kinds ...floorKind) error {
	for _, s := range subs {
		if !slices.Contains(kinds, s.kind) {
			continue
		}
		s.obj.Status.Phase = v1alpha1.PhaseCompleted
		if err := f.write(f.c.Status().Update(ctx, s.obj)); err != nil {
			return fmt.Errorf("floor: completing subscription %s: %w", s.obj.Name, err)
		}
	}
	return nil
}

// buy puts every purchase of the customer (and its Azure plan, if any of its
// subscriptions needs one) in one cart, checks it out, waits for the orders
// to be provisioned and completes the purchased subscriptions.
func (f *floor) buy(ctx context.Context, custTenant, name string, subs []floorSub, buyPlan bool) error {
	var items []pc.CartLineItem
	var checkedOut time.Time
	var orders []pc.Order
	err := f.work(ctx, func() error {
		available := map[string]string{} // product:sku → catalog item ID
		add := func(product, sku, term, cycle string, quantity int) error {
			key := product + ":" + sku
			if _, ok := available[key]; !ok {
				list, err := f.pcc.CustomerAvailabilities(ctx, custTenant, product, sku)
				if f.call(err) != nil {
					return err
				}
				if len(list) == 0 {
					return fmt.Errorf("the catalog sells customer %s no availability of %s", custTenant, key)
				}
				available[key] = list[0].CatalogItemID
			}
			items = append(items, pc.CartLineItem{CatalogItemID: available[key], Quantity: quantity, TermDuration: term, BillingCycle: cycle})
			return nil
		}
		if buyPlan {
			if err := add(pc.AzurePlanProduct, pc.AzurePlanSKU, "", pc.BillingCycleOneTime, 1); err != nil {
				return err
			}
		}
		for _, s := range subs {
			switch s.kind {
			case azurePlan:
				if err := add(pc.AzurePlanProduct, pc.AzurePlanSKU, "", pc.BillingCycleOneTime, 1); err != nil {
					return err
				}
			case azureAlias:
				f.arm.Add(1) // PUT .../Microsoft.Subscription/aliases/{alias}
			case purchase:
				product, sku, _ := strings.Cut(s.obj.Spec.Offer.ID, ":")
				if err := add(product, sku, pc.TermDurationOneYear, pc.BillingCycleMonthly, int(*s.obj.Spec.Quantity)); err != nil {
					return err
				}
			}
		}
		if len(items) == 0 {
			return nil
		}
		var err error
		orders, err = f.pcc.CreateOrder(ctx, custTenant, tenant("floor/cart/"+name), items)
		_ = f.call(err) // the cart
		if f.call(err) != nil {
			return fmt.Errorf("floor: buying for %s: %w", name, err)
		}
		checkedOut = time.Now()
		if f.o.ProvisioningDelay <= 0 {
			return f.complete(ctx, subs, purchase, azurePlan, azureAlias)
		}
		return nil
	})
	if err != nil || len(items) == 0 || f.o.ProvisioningDelay <= 0 {
		return err
	}
	if err := sleepUntil(ctx, checkedOut.Add(f.o.ProvisioningDelay)); err != nil {
		return err
	}
	for {
		pending := false
		err := f.work(ctx, func() error {
			for i, o := range orders {
				if strings.EqualFold(o.Status, "completed") {
					continue
				}
				got, err := f.pcc.GetOrder(ctx, custTenant, o.ID)
				if f.call(err) != nil {
					return fmt.Errorf("floor: reading order %s: %w", o.ID, err)
				}
				orders[i] = *got
				pending = pending || !strings.EqualFold(got.Status, "completed")
			}
			if pending {
				return nil
			}
			return f.complete(ctx, subs, purchase, azurePlan, azureAlias)
		})
		if err != nil || !pending {
			return err
		}
		if err := sleepUntil(ctx, time.Now().Add(100*time.Millisecond)); err != nil { // the simulator's clock lagged ours
			return err
		}
	}
}

// move creates one transfer from the source partner for all the customer's
// switching subscriptions, reads it once the source partner accepted it and
// completes them.
func (f *floor) move(ctx context.Context, custTenant, name string, subs []floorSub) error {
	var types []string
	for _, s := range subs {
		if t := pc.TransferProductTypeOf(s.obj.Spec.Offer.ID); s.kind == transfer && !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if len(types) == 0 {
		return nil
	}
	var t *pc.Transfer
	var created time.Time
	err := f.work(ctx, func() error {
		var err error
		t, err = f.pcc.CreateTransfer(ctx, custTenant, tenant("floor/transfer/"+name), pc.Transfer{SourcePartnerTenantID: f.source,
			SourcePartnerName: "Fabrikam", CustomerEmailID: "admin@" + custTenant + ".example.com", TransferType: pc.PartnerTransferType,
			TargetProductTypes: types})
		if f.call(err) != nil {
			return fmt.Errorf("floor: transferring for %s: %w", name, err)
		}
		created = time.Now()
		return nil
	})
	if err != nil {
		return err
	}
	// The simulated source partner accepts AcceptAfter after the creation.
	if err := sleepUntil(ctx, created.Add(f.o.AcceptAfter)); err != nil {
		return err
	}
	for {
		done := false
		err := f.work(ctx, func() error {
			got, err := f.pcc.GetTransfer(ctx, custTenant, t.ID)
			if f.call(err) != nil {
				return fmt.Errorf("floor: reading transfer %s: %w", t.ID, err)
			}
			if done = got.Status == pc.TransferCompleted; !done {
				return nil
			}
			return f.complete(ctx, subs, transfer)
		})
		if err != nil || done {
			return err
		}
		if err := sleepUntil(ctx, time.Now().Add(100*time.Millisecond)); err != nil { // the simulator's clock lagged ours
			return err
		}
	}
}

// forAllCustomers runs do for every customer at once and returns the first
// error; the first error cancels the others.
func forAllCustomers(ctx context.Context, customers int, do func(ctx context.Context, customer int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for cust := range customers {
		wg.Go(func() {
			if err := do(ctx, cust); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		})
	}
	wg.Wait()
	return first
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
