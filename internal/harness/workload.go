package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// ActingPaths are the paths on which the operator buys or transfers; the
// workload spreads its subscriptions over them in equal shares.
var ActingPaths = []string{"NewAzureSubscription", "NewLicenseSubscription", "PartnerSwitch/Azure", "PartnerSwitch/NewCommerce"}

// RelationshipOnly is the path on which the operator buys nothing: a license
// bought elsewhere that the partner supports once the customer approved.
const RelationshipOnly = "ResellerRelationship"

// BenchPaths are the four ways a subscription completes that make bench
// measures in equal shares: a new Azure plan, a new license subscription, a
// partner switch (transfer) and a reseller relationship only.
var BenchPaths = []string{"NewAzureSubscription", "NewLicenseSubscription", "PartnerSwitch/NewCommerce", RelationshipOnly}

// Workload is N subscriptions, PerCustomer to a customer, customers spread
// over Namespaces namespaces.
type Workload struct {
	N           int
	PerCustomer int
	Namespaces  int
	// Paths are the paths the subscriptions take in turn; empty: ActingPaths.
	Paths []string
	// SupportPartners is how many partner tenants with credentials serve the
	// customers in turn (customer i is served by partner i mod
	// SupportPartners); 0 or 1: one, contoso. Each has its own Partner Center
	// client and so its own per-tenant rate limit.
	SupportPartners int
	// Workers is how many customers are declared at once; 0 or 1: one after
	// the other.
	Workers int
}

// Expected is what Partner Center should hold once the workload is done:
// one subscription bought per purchase (purchases share carts and orders),
// one transfer per subscription that moves (they may share transfers:
// RecordedTransfers).
type Expected struct {
	Subscriptions int `json:"subscriptions"`
	// Purchases counts the line items ordered: the licenses bought, and
	// one Azure plan per customer that has an Azure subscription to create
	// or move (AzurePlans of them).
	Purchases  int `json:"purchases"`
	AzurePlans int `json:"azurePlans"`
	Transfers  int `json:"transfers"`
	// RelationshipOnly counts subscriptions that need neither.
	RelationshipOnly int `json:"relationshipOnly,omitempty"`
}

var tenantNamespace = uuid.MustParse("3d6f0a52-7a0e-4f55-9d2b-6c1e8f4a2b90")

// tenant derives a stable tenant ID for a name.
func tenant(name string) string { return uuid.NewSHA1(tenantNamespace, []byte(name)).String() }

// supportPartnerLabel marks the partners the workload's policies authorize
// when there are several.
const supportPartnerLabel = "harness.multichannel.partnerops.io/support-partner"

func (w Workload) withDefaults() Workload {
	if w.PerCustomer <= 0 {
		w.PerCustomer = len(ActingPaths)
	}
	if w.Namespaces <= 0 {
		w.Namespaces = 1
	}
	if len(w.Paths) == 0 {
		w.Paths = ActingPaths
	}
	if w.SupportPartners <= 0 {
		w.SupportPartners = 1
	}
	if w.Workers <= 0 {
		w.Workers = 1
	}
	return w
}

// Customers is how many customers the workload declares.
func (w Workload) Customers() int {
	w = w.withDefaults()
	return (w.N + w.PerCustomer - 1) / w.PerCustomer
}

// SupportPartnerName is the name of the i-th support partner.
func SupportPartnerName(i int) string {
	if i == 0 {
		return "contoso"
	}
	return fmt.Sprintf("contoso-%d", i)
}

// SupportPartnerTenant is the tenant ID of the i-th support partner.
func SupportPartnerTenant(i int) string { return tenant("partner/" + SupportPartnerName(i)) }

// customerName, customerNamespace: where customer i lives.
func (w Workload) customerName(i int) string      { return fmt.Sprintf("customer-%d", i) }
func (w Workload) customerNamespace(i int) string { return fmt.Sprintf("customers-%d", i%w.Namespaces) }

// expect is what the subscription's path leaves in Partner Center: its
// customer's one Azure plan (once per customer, planned) for an Azure
// subscription created or moved.
func (e *Expected) expect(spec v1alpha1.CustomerSubscriptionSpec, planned map[string]bool) {
	e.Subscriptions++
	if spec.ServiceType == v1alpha1.ServiceUsageBased && spec.State != v1alpha1.SubscriptionCancelled && !planned[spec.CustomerRef] {
		planned[spec.CustomerRef] = true
		e.AzurePlans++
		e.Purchases++
	}
	switch {
	case spec.Channel.Type == v1alpha1.ChannelCSP && spec.State != v1alpha1.SubscriptionCancelled &&
		(spec.ServiceType == v1alpha1.ServiceUsageBased || spec.Commerce == v1alpha1.CommerceNewCommerce):
		e.Transfers++
	case spec.ServiceType == v1alpha1.ServiceLicenseBased && spec.Channel.Type != v1alpha1.ChannelCSP:
		e.RelationshipOnly++
	case spec.ServiceType == v1alpha1.ServiceLicenseBased:
		e.Purchases++
	}
}

// Apply declares the workload: the operator's partners (with credentials at
// the simulator) and the one customers bought from, a policy per namespace,
// the customers and their subscriptions.
func (w Workload) Apply(ctx context.Context, c client.Client, simURL string) (Expected, error) {
	w = w.withDefaults()
	var exp Expected
	create := func(o client.Object) error {
		if err := c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
		}
		return nil
	}
	if err := create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: OperatorNamespace}}); err != nil {
		return exp, err
	}
	if err := create(credentialsSecret()); err != nil {
		return exp, err
	}
	partners := []client.Object{&v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "fabrikam"}, Spec: v1alpha1.PartnerSpec{
		DisplayName: "Fabrikam", TenantID: tenant("partner/fabrikam"), CSPType: v1alpha1.CSPTypeDirectBill, Country: "US"}}}
	for i := range w.SupportPartners {
		name := SupportPartnerName(i)
		p := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.PartnerSpec{
			DisplayName: "Contoso", TenantID: SupportPartnerTenant(i), CSPType: v1alpha1.CSPTypeDirectBill, Country: "US",
			NamespaceSelector: &metav1.LabelSelector{}, // the workload's every namespace
			PartnerCenter: &v1alpha1.PartnerCenterConnection{Endpoint: simURL, AuthorityHost: simURL, ResourceManagerEndpoint: simURL,
				CredentialsSecretRef: &v1alpha1.SecretReference{Name: "contoso-partner-center"}}}}
		if w.SupportPartners > 1 {
			p.Labels = map[string]string{supportPartnerLabel: "true"}
		}
		partners = append([]client.Object{p}, partners...)
	}
	for _, p := range partners {
		if err := create(p); err != nil {
			return exp, err
		}
	}
	for i := range w.Namespaces {
		ns := fmt.Sprintf("customers-%d", i)
		if err := create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return exp, err
		}
		policy := v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"contoso"}, MaxQuantity: ptr.To(int32(100))}
		if w.SupportPartners > 1 {
			policy.PartnerRefs = nil
			policy.PartnerSelector = &metav1.LabelSelector{MatchLabels: map[string]string{supportPartnerLabel: "true"}}
		}
		if err := create(&v1alpha1.ApprovalPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "contoso"}, Spec: policy}); err != nil {
			return exp, err
		}
	}
	planned := map[string]bool{}
	for i := range w.N {
		exp.expect(subscriptionSpec(w.Paths[i%len(w.Paths)], w.customerName(i/w.PerCustomer), "", ""), planned)
	}
	err := forEachCustomer(ctx, w, func(cust int) error {
		ns, custName := w.customerNamespace(cust), w.customerName(cust)
		if err := create(&v1alpha1.Customer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: custName},
			Spec: v1alpha1.CustomerSpec{DisplayName: custName, TenantID: tenant("customer/" + custName), Country: "US"}}); err != nil {
			return err
		}
		for i := cust * w.PerCustomer; i < min(w.N, (cust+1)*w.PerCustomer); i++ {
			name := fmt.Sprintf("sub-%d", i)
			sub := &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec: subscriptionSpec(w.Paths[i%len(w.Paths)], custName, name, SupportPartnerName(cust%w.SupportPartners))}
			if err := create(sub); err != nil {
				return err
			}
		}
		return nil
	})
	return exp, err
}

// forEachCustomer calls do for every customer of w, w.Workers at a time,
// and returns the first error.
func forEachCustomer(ctx context.Context, w Workload, do func(customer int) error) error {
	customers := w.Customers()
	next := make(chan int)
	errs := make(chan error, w.Workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range w.Workers {
		go func() {
			for cust := range next {
				if err := do(cust); err != nil {
					errs <- err
					cancel()
					for range next { // drain, so that the feeder ends
					}
					return
				}
			}
			errs <- nil
		}()
	}
feed:
	for cust := range customers {
		select {
		case next <- cust:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	var first error
	for range w.Workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return first
}

// subscriptionSpec is a subscription on one acting path.
func subscriptionSpec(path, customer, name, supportPartner string) v1alpha1.CustomerSubscriptionSpec {
	id := tenant("subscription/" + customer + "/" + name)
	spec := v1alpha1.CustomerSubscriptionSpec{CustomerRef: customer, SubscriptionID: id, SupportPartnerRef: supportPartner}
	switch path {
	case RelationshipOnly: // a license bought directly from Microsoft (rule 15)
		spec.Offer, spec.ServiceType, spec.Quantity = v1alpha1.Offer{ID: "CFQ7TTC0LFLX:0001"}, v1alpha1.ServiceLicenseBased, ptr.To(int32(5))
		spec.Channel = v1alpha1.Channel{Type: v1alpha1.ChannelDirect}
		spec.Term = &v1alpha1.Term{EndDate: &metav1.Time{Time: time.Date(2030, 6, 30, 0, 0, 0, 0, time.UTC)}}
	case "NewAzureSubscription":
		spec.Offer, spec.ServiceType = v1alpha1.Offer{ID: "MS-AZR-0003P"}, v1alpha1.ServiceUsageBased
		spec.Channel = v1alpha1.Channel{Type: v1alpha1.ChannelDirect}
	case "NewLicenseSubscription": // a legacy license from another partner whose term ended
		spec.Offer, spec.ServiceType, spec.Quantity = v1alpha1.Offer{ID: "CFQ7TTC0LFLX:0001"}, v1alpha1.ServiceLicenseBased, ptr.To(int32(10))
		spec.Channel = v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: "fabrikam"}
		spec.Term = &v1alpha1.Term{EndDate: &metav1.Time{Time: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)}}
	case "PartnerSwitch/Azure":
		spec.Offer, spec.ServiceType = v1alpha1.Offer{ID: "DZH318Z0BPS6:0001"}, v1alpha1.ServiceUsageBased
		spec.Channel = v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: "fabrikam"}
	case "PartnerSwitch/NewCommerce":
		spec.Offer, spec.ServiceType, spec.Quantity = v1alpha1.Offer{ID: "CFQ7TTC0LH18:0001"}, v1alpha1.ServiceLicenseBased, ptr.To(int32(20))
		spec.Commerce = v1alpha1.CommerceNewCommerce
		spec.Channel = v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: "fabrikam"}
		spec.Term = &v1alpha1.Term{EndDate: &metav1.Time{Time: time.Date(2030, 6, 30, 0, 0, 0, 0, time.UTC)}}
	}
	return spec
}

// Progress counts subscriptions by phase.
type Progress map[v1alpha1.SubscriptionPhase]int

// Observe lists the subscriptions and counts them by phase.
func Observe(ctx context.Context, c client.Client) (Progress, error) {
	list := &v1alpha1.CustomerSubscriptionList{}
	if err := c.List(ctx, list); err != nil {
		return nil, err
	}
	p := Progress{}
	for _, s := range list.Items {
		p[s.Status.Phase]++
	}
	return p, nil
}

// WaitCompleted waits until all want subscriptions are Completed; a Failed
// one ends the wait with an error.
func WaitCompleted(ctx context.Context, c client.Client, want int, timeout time.Duration) error {
	return WaitCompletedEvery(ctx, c, want, timeout, 250*time.Millisecond, nil)
}

// WaitCompletedEvery is WaitCompleted listing the subscriptions every
// interval (a list of thousands costs the API server); progress, when not
// nil, is called with every count.
func WaitCompletedEvery(ctx context.Context, c client.Client, want int, timeout, every time.Duration, progress func(Progress)) error {
	deadline := time.Now().Add(timeout)
	var last Progress
	for {
		p, err := Observe(ctx, c)
		if err == nil {
			last = p
			if progress != nil {
				progress(p)
			}
			if p[v1alpha1.PhaseFailed] > 0 {
				return fmt.Errorf("%d subscriptions Failed: %v", p[v1alpha1.PhaseFailed], p)
			}
			if p[v1alpha1.PhaseCompleted] == want {
				return nil
			}
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("not all %d subscriptions Completed within %v: %v (last error: %w)", want, timeout, last, err)
			}
			return fmt.Errorf("not all %d subscriptions Completed within %v: %v", want, timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// Stats reads the simulator's counters.
func Stats(simURL string) (sim.Stats, error) {
	var st sim.Stats
	resp, err := http.Get(simURL + "/sim/stats")
	if err != nil {
		return st, err
	}
	defer func() { _ = resp.Body.Close() }()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// RecordedTransfers counts the distinct transfers the subscriptions
// recorded (in status.operation and status.previousOperations).
func RecordedTransfers(ctx context.Context, c client.Client) (int, error) {
	return recorded(ctx, c, v1alpha1.OperationCreateTransfer)
}

// RecordedAliases counts the distinct subscription aliases the
// subscriptions recorded: each is one Azure subscription created through
// Azure Resource Manager.
func RecordedAliases(ctx context.Context, c client.Client) (int, error) {
	return recorded(ctx, c, v1alpha1.OperationCreateAzureSubscription)
}

// recorded counts the distinct external IDs of the operations of type typ
// the subscriptions recorded, current and previous.
func recorded(ctx context.Context, c client.Client, typ v1alpha1.OperationType) (int, error) {
	list := &v1alpha1.CustomerSubscriptionList{}
	if err := c.List(ctx, list); err != nil {
		return 0, fmt.Errorf("listing CustomerSubscriptions: %w", err)
	}
	ids := map[string]bool{}
	for _, sub := range list.Items {
		ops := sub.Status.PreviousOperations
		if op := sub.Status.Operation; op != nil {
			ops = append(ops, *op)
		}
		for _, op := range ops {
			if op.Type == typ && op.ExternalID != "" {
				ids[op.ExternalID] = true
			}
		}
	}
	return len(ids), nil
}

// Duplicates compares what the simulator created with what the workload
// expects: any line item ordered (a subscription sold, provisioned or not)
// or transfer beyond the expected count is one bought or transferred twice.
func Duplicates(st sim.Stats, exp Expected) (purchases, transfers int) {
	return st.ObjectsCreated["orderLineItem"] - exp.Purchases, st.ObjectsCreated["transfer"] - exp.Transfers
}

// DuplicateAzurePlans counts the Azure plans bought beyond one per
// customer and partner, and the attempts the simulator refused (a second
// plan is refused at the cart, so a duplicate attempt shows only there).
func DuplicateAzurePlans(st sim.Stats) int {
	n := st.AzurePlansRefused
	for _, bought := range st.AzurePlansBought {
		n += max(0, bought-1)
	}
	return n
}
