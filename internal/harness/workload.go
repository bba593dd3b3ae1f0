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

// Workload is N subscriptions, PerCustomer to a customer, customers spread
// over Namespaces namespaces.
type Workload struct {
	N           int
	PerCustomer int
	Namespaces  int
}

// Expected is what Partner Center should hold once the workload is done:
// one order per purchase, one transfer per subscription that moves.
type Expected struct {
	Subscriptions int `json:"subscriptions"`
	Orders        int `json:"orders"`
	Transfers     int `json:"transfers"`
}

var tenantNamespace = uuid.MustParse("3d6f0a52-7a0e-4f55-9d2b-6c1e8f4a2b90")

// tenant derives a stable tenant ID for a name.
func tenant(name string) string { return uuid.NewSHA1(tenantNamespace, []byte(name)).String() }

// Apply declares the workload: the operator's partner (with credentials at
// the simulator) and the one customers bought from, a policy per namespace,
// the customers and their subscriptions.
func (w Workload) Apply(ctx context.Context, c client.Client, simURL string) (Expected, error) {
	if w.PerCustomer <= 0 {
		w.PerCustomer = len(ActingPaths)
	}
	if w.Namespaces <= 0 {
		w.Namespaces = 1
	}
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
	contoso := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: v1alpha1.PartnerSpec{
		DisplayName: "Contoso", TenantID: tenant("partner/contoso"), CSPType: v1alpha1.CSPTypeDirectBill, Country: "US",
		PartnerCenter: &v1alpha1.PartnerCenterConnection{Endpoint: simURL, AuthorityHost: simURL,
			CredentialsSecretRef: &v1alpha1.SecretReference{Name: "contoso-partner-center"}}}}
	fabrikam := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "fabrikam"}, Spec: v1alpha1.PartnerSpec{
		DisplayName: "Fabrikam", TenantID: tenant("partner/fabrikam"), CSPType: v1alpha1.CSPTypeDirectBill, Country: "US"}}
	for _, p := range []client.Object{contoso, fabrikam} {
		if err := create(p); err != nil {
			return exp, err
		}
	}
	for i := range w.Namespaces {
		ns := fmt.Sprintf("customers-%d", i)
		if err := create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return exp, err
		}
		if err := create(&v1alpha1.ApprovalPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "contoso"},
			Spec: v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"contoso"}, MaxQuantity: ptr.To(int32(100))}}); err != nil {
			return exp, err
		}
	}
	for i := range w.N {
		cust := i / w.PerCustomer
		ns := fmt.Sprintf("customers-%d", cust%w.Namespaces)
		custName := fmt.Sprintf("customer-%d", cust)
		if i%w.PerCustomer == 0 {
			if err := create(&v1alpha1.Customer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: custName},
				Spec: v1alpha1.CustomerSpec{DisplayName: custName, TenantID: tenant("customer/" + custName), Country: "US"}}); err != nil {
				return exp, err
			}
		}
		sub := &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("sub-%d", i)},
			Spec: subscriptionSpec(ActingPaths[i%len(ActingPaths)], custName, fmt.Sprintf("sub-%d", i))}
		if err := create(sub); err != nil {
			return exp, err
		}
		exp.Subscriptions++
		if sub.Spec.Channel.Type == v1alpha1.ChannelCSP && sub.Spec.State != v1alpha1.SubscriptionCancelled &&
			(sub.Spec.ServiceType == v1alpha1.ServiceUsageBased || sub.Spec.Commerce == v1alpha1.CommerceNewCommerce) {
			exp.Transfers++
		} else {
			exp.Orders++
		}
	}
	return exp, nil
}

// subscriptionSpec is a subscription on one acting path.
func subscriptionSpec(path, customer, name string) v1alpha1.CustomerSubscriptionSpec {
	id := tenant("subscription/" + customer + "/" + name)
	spec := v1alpha1.CustomerSubscriptionSpec{CustomerRef: customer, SubscriptionID: id, SupportPartnerRef: "contoso"}
	switch path {
	case "NewAzureSubscription":
		spec.Offer, spec.ServiceType = v1alpha1.Offer{ID: "MS-AZR-0003P"}, v1alpha1.ServiceUsageBased
		spec.Channel = v1alpha1.Channel{Type: v1alpha1.ChannelDirect}
	case "NewLicenseSubscription": // a legacy license from another partner whose term ended
		spec.Offer, spec.ServiceType, spec.Quantity = v1alpha1.Offer{ID: "CFQ7TTC0LFLX"}, v1alpha1.ServiceLicenseBased, ptr.To(int32(10))
		spec.Channel = v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: "fabrikam"}
		spec.Term = &v1alpha1.Term{EndDate: &metav1.Time{Time: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)}}
	case "PartnerSwitch/Azure":
		spec.Offer, spec.ServiceType = v1alpha1.Offer{ID: "DZH318Z0BPS6"}, v1alpha1.ServiceUsageBased
		spec.Channel = v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: "fabrikam"}
	case "PartnerSwitch/NewCommerce":
		spec.Offer, spec.ServiceType, spec.Quantity = v1alpha1.Offer{ID: "CFQ7TTC0LH18"}, v1alpha1.ServiceLicenseBased, ptr.To(int32(20))
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
	deadline := time.Now().Add(timeout)
	var last Progress
	for {
		p, err := Observe(ctx, c)
		if err == nil {
			last = p
			if p[v1alpha1.PhaseFailed] > 0 {
				return fmt.Errorf("%d subscriptions Failed: %v", p[v1alpha1.PhaseFailed], p)
			}
			if p[v1alpha1.PhaseCompleted] == want {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not all %d subscriptions Completed within %v: %v (last error: %w)", want, timeout, last, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
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
			if op.Type == v1alpha1.OperationCreateTransfer && op.ExternalID != "" {
				ids[op.ExternalID] = true
			}
		}
	}
	return len(ids), nil
}

// Duplicates compares what the simulator created with what the workload
// expects: any object beyond the expected count is one bought or transferred twice.
func Duplicates(st sim.Stats, exp Expected) (orders, transfers int) {
	return st.ObjectsCreated["order"] - exp.Orders, st.ObjectsCreated["transfer"] - exp.Transfers
}
