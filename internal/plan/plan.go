// Package plan says what a set of manifests will make the operator do, before
// they are applied: per subscription the path and each step, who acts, the
// Partner Center calls, the earliest date and the deadlines, the approvals
// needed, and what can be known offline of the cost (seats bought, days
// billed twice, what cannot be undone after the cancellation window). It
// reads the same decision table (internal/eligibility) and the same
// ApprovalPolicy rules (internal/policy) as the operator.
package plan

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/check"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/policy"
)

// Attention says what a subscription's plan needs from people.
type Attention string

const (
	// Nothing: the operator drives nothing (no support partner, or nothing to do).
	Nothing Attention = "Nothing"
	// Automatic: once the customer consents, the operator completes it
	// under an ApprovalPolicy (or it needs no authorization).
	Automatic Attention = "Automatic"
	// NeedsPerson: a person with verb approve must authorize it.
	NeedsPerson Attention = "NeedsPerson"
	// Blocked: the decision table refuses it; the message says what would unblock it.
	Blocked Attention = "Blocked"
)

// Step names, in the order the operator takes them.
const (
	StepRelationship       = "RequestRelationship"
	StepConsent            = "CustomerConsent"
	StepAuthorization      = "Authorization"
	StepWait               = "WaitForTermEnd"
	StepPurchase           = "Purchase"
	StepTransfer           = "Transfer"
	StepSourceCancellation = "SourceCancellation"
	StepCancellationWindow = "CancellationWindow"
)

// cancellationWindow: "New commerce subscriptions can be canceled within 7
// days ... of purchase" (cancel-an-azure-marketplace-subscription).
const cancellationWindow = 7 * 24 * time.Hour

// transferWindow: the source partner accepts a transfer within 30 days.
const transferWindow = 30 * 24 * time.Hour

// Step is one thing that happens, in order.
type Step struct {
	Step string `json:"step"`
	// Detail says what happens, in a sentence.
	Detail string `json:"detail"`
	// By is who acts: the operator (with whose credentials), the customer,
	// a policy or a person, the source partner.
	By string `json:"by"`
	// Calls are the Partner Center calls the operator makes for it.
	Calls []string `json:"calls,omitempty"`
	// NotBefore: the step cannot happen earlier.
	NotBefore *time.Time `json:"notBefore,omitempty"`
	// Deadline: after it the step cannot happen, or is owed in full.
	Deadline *time.Time `json:"deadline,omitempty"`
}

// Item is one subscription's plan.
type Item struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Change is Create or Update against a cluster (--cluster); empty offline.
	Change    string    `json:"change,omitempty"`
	Customer  string    `json:"customer"`
	Partner   string    `json:"partner,omitempty"`
	Eligible  bool      `json:"eligible"`
	Path      string    `json:"path"`
	Reason    string    `json:"reason"`
	Rule      string    `json:"rule,omitempty"`
	Message   string    `json:"message"`
	Attention Attention `json:"attention"`
	// Authorization says who authorizes it: an ApprovalPolicy, or a person
	// with verb approve, and why no policy does.
	Authorization string `json:"authorization,omitempty"`
	Steps         []Step `json:"steps,omitempty"`
	// Earliest is when the first Partner Center change can happen.
	Earliest *time.Time `json:"earliest,omitempty"`
	// Seats are the licenses bought (0 for a transfer or an Azure plan).
	Seats int32 `json:"seats"`
	// Purchases and Transfers count what is sent to Partner Center.
	Purchases int `json:"purchases"`
	Transfers int `json:"transfers"`
	// DoubleBilling says for how long both the source and the new
	// subscription are billed, as far as it is known offline.
	DoubleBilling string `json:"doubleBilling,omitempty"`
	// Irreversible says what cannot be undone, and from when.
	Irreversible string `json:"irreversible,omitempty"`
	// Caveats are what the plan cannot know offline and assumes.
	Caveats []string `json:"caveats,omitempty"`
}

// CustomerSummary sums one customer's items.
type CustomerSummary struct {
	Namespace string `json:"namespace"`
	Customer  string `json:"customer"`
	Counts
}

// Counts sum items.
type Counts struct {
	Subscriptions int `json:"subscriptions"`
	Automatic     int `json:"automatic"`
	NeedsPerson   int `json:"needsPerson"`
	Blocked       int `json:"blocked"`
	Nothing       int `json:"nothing"`
	Purchases     int `json:"purchases"`
	Transfers     int `json:"transfers"`
	Seats         int `json:"seats"`
}

func (c *Counts) add(it *Item) {
	c.Subscriptions++
	switch it.Attention {
	case Automatic:
		c.Automatic++
	case NeedsPerson:
		c.NeedsPerson++
	case Blocked:
		c.Blocked++
	default:
		c.Nothing++
	}
	c.Purchases += it.Purchases
	c.Transfers += it.Transfers
	c.Seats += int(it.Seats)
}

// Plan is what the manifests will make the operator do.
type Plan struct {
	// SchemaVersion names the JSON schema (docs/plan.md).
	SchemaVersion string    `json:"schemaVersion"`
	Now           time.Time `json:"now"`
	// Mode is Offline (every subscription of the manifests) or Cluster
	// (only what changes against a cluster: --cluster).
	Mode      string            `json:"mode"`
	Items     []Item            `json:"items"`
	Customers []CustomerSummary `json:"customers"`
	Totals    Counts            `json:"totals"`
	// Removed: against a cluster, what the manifests no longer declare.
	Removed []Removed `json:"removed,omitempty"`
}

// SchemaVersion is the version of the plan's JSON.
const SchemaVersion = "multichannel.partnerops.io/plan/v1"

// Build plans rows (check.Evaluate's, in its order) at now.
func Build(rows []check.Row, now time.Time) *Plan {
	p := &Plan{SchemaVersion: SchemaVersion, Now: now.UTC(), Mode: "Offline", Items: make([]Item, 0, len(rows))}
	totals := &policyUse{quantity: map[string]int64{}, subscriptions: map[string]int{}} // what each policy authorized so far in this plan
	// Policies count what they authorize in the order it comes due: what
	// can be bought now before what waits for a term's end; then by name.
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	due := func(r *check.Row) time.Time {
		if nb := r.Result.NotBefore; nb != nil && nb.After(now) {
			return *nb
		}
		return now
	}
	sort.SliceStable(order, func(a, b int) bool { return due(&rows[order[a]]).Before(due(&rows[order[b]])) })
	items := make([]Item, len(rows))
	for _, i := range order {
		items[i] = item(&rows[i], now, totals)
	}
	p.Items = append(p.Items, items...)
	p.summarize()
	return p
}

// summarize sums the items per customer and overall.
func (p *Plan) summarize() {
	byCustomer := map[string]*CustomerSummary{}
	for i := range p.Items {
		it := &p.Items[i]
		key := it.Namespace + "/" + it.Customer
		cs := byCustomer[key]
		if cs == nil {
			cs = &CustomerSummary{Namespace: it.Namespace, Customer: it.Customer}
			byCustomer[key] = cs
		}
		cs.add(it)
		p.Totals.add(it)
	}
	p.Customers = make([]CustomerSummary, 0, len(byCustomer))
	for _, cs := range byCustomer {
		p.Customers = append(p.Customers, *cs)
	}
	sort.Slice(p.Customers, func(i, j int) bool {
		a, b := p.Customers[i], p.Customers[j]
		return a.Namespace < b.Namespace || (a.Namespace == b.Namespace && a.Customer < b.Customer)
	})
}

// policyUse is what one policy authorized in the plan: licenses by
// customer tenant and offer, subscriptions by customer tenant, as the
// operator counts them (controllers/subscription/totals.go).
type policyUse struct {
	quantity      map[string]int64 // policy|tenant|offer
	subscriptions map[string]int   // policy|tenant
}

func item(r *check.Row, now time.Time, totals *policyUse) Item {
	res := r.Result
	it := Item{Namespace: r.Namespace, Name: r.Name, Customer: r.Customer, Partner: r.Target,
		Eligible: res.Eligible, Path: string(res.Path), Reason: string(res.Reason), Rule: res.Rule, Message: res.Message()}
	sub, target := r.Input.Subscription, r.Input.Target
	switch {
	case target == nil:
		it.Attention = Nothing
		return it
	case !res.Eligible && res.Path != v1alpha1.PathWaitForTermEnd: // a scheduled purchase is not eligible yet
		it.Attention = Blocked
		return it
	case res.Path == v1alpha1.PathNone:
		it.Attention = Nothing
		return it
	}

	// Whose credentials act, and whether they may act here (the operator's
	// mayActFor and targetClient).
	acts := target
	if target.Spec.CSPType == v1alpha1.CSPTypeIndirectReseller && r.Input.TargetProvider != nil {
		acts = r.Input.TargetProvider
	}
	if !acts.HasCredentials() && res.Path != v1alpha1.PathResellerRelationship {
		it.Attention = Blocked
		it.Message = fmt.Sprintf("Partner %s has no Partner Center credentials (spec.partnerCenter.credentialsSecretRef), so the operator cannot take the %s path for it; it would wait, Stalled, reason PartnerNotReady.", acts.Name, res.Path)
		return it
	}
	for i, p := range []*v1alpha1.Partner{target, acts} {
		if !p.HasCredentials() || (i == 1 && acts == target) {
			continue
		}
		switch serves, known := selects(p, r.Namespace); {
		case !serves && known:
			it.Attention = Blocked
			it.Message = fmt.Sprintf("Partner %s does not serve namespace %s (its spec.namespaceSelector %s), so nothing is done through its credentials here; the operator would report PartnerNotAllowed.",
				p.Name, r.Namespace, map[bool]string{true: "is absent", false: "does not select it"}[p.Spec.NamespaceSelector == nil])
			return it
		case !known:
			it.Caveats = append(it.Caveats, fmt.Sprintf("partner %s's spec.namespaceSelector must select namespace %s, whose labels the plan cannot see offline", p.Name, r.Namespace))
		}
	}

	customer := r.Input.Customer
	caller := "the operator, with partner " + target.Name + "'s credentials"
	if target.Spec.CSPType == v1alpha1.CSPTypeIndirectReseller {
		caller = fmt.Sprintf("the operator, with indirect provider %s's credentials for indirect reseller %s (Partner ID %s on record)",
			target.Spec.IndirectProviderRef, target.Name, target.Spec.PartnerID)
	}
	start := now.UTC()
	if res.NotBefore != nil && res.NotBefore.After(start) {
		start = res.NotBefore.UTC()
	}
	link := "GET /v1/customers/relationshiprequests (App+User)"
	if target.Spec.CSPType == v1alpha1.CSPTypeIndirectReseller {
		link = "GET /v1/customers/relationshiprequests?indirectResellerId=" + target.Spec.TenantID + " (App+User)"
	}
	it.Steps = append(it.Steps,
		Step{Step: StepRelationship, By: caller, Calls: []string{link},
			Detail: fmt.Sprintf("ResellerRelationship %s-%s asks for the request link, unless one exists for the pair.", customer.Name, target.Name)},
		Step{Step: StepConsent, By: fmt.Sprintf("customer %s's Global admin (tenant %s)", customer.Name, customer.Spec.TenantID),
			Calls:  []string{"GET /v1/customers/" + customer.Spec.TenantID},
			Detail: "The customer accepts the request link; the operator sees it when the customer appears for the partner as reseller."})

	// A purchase scheduled for the term's end is authorized when it is due,
	// as the NewLicenseSubscription it then is.
	acting := res.Path
	if acting == v1alpha1.PathWaitForTermEnd {
		acting = v1alpha1.PathNewLicenseSubscription
	}
	if policy.NeedsAuthorization(acting) {
		step := Step{Step: StepAuthorization}
		if name, why := authorizingPolicy(r, acting, totals); name != "" {
			it.Attention, it.Authorization = Automatic, v1alpha1.PolicyAuthorizationBy(name)
			step.By, step.Detail = v1alpha1.PolicyAuthorizationBy(name), "The policy authorizes the terms, which the operator records with the decision."
		} else {
			it.Attention = NeedsPerson
			it.Authorization = "a person with verb approve (" + why + ")"
			step.By = "a person with verb approve (the multichannel-global-admin role)"
			step.Detail = fmt.Sprintf("No ApprovalPolicy authorizes it (%s): kubectl multichannel approve %s -n %s.", why, sub.Name, sub.Namespace)
		}
		it.Steps = append(it.Steps, step)
	} else {
		it.Attention, it.Authorization = Automatic, "not needed: the path buys and transfers nothing"
	}

	switch res.Path {
	case v1alpha1.PathResellerRelationship:
		it.DoubleBilling = "none: nothing is bought"
	case v1alpha1.PathWaitForTermEnd:
		it.Steps = append(it.Steps, Step{Step: StepWait, By: "the operator", NotBefore: &start,
			Detail: fmt.Sprintf("The source license is in its term with partner %s until %s; nothing is bought before.", sourceName(r), day(start))})
		purchaseSteps(&it, r, caller, start)
	case v1alpha1.PathNewLicenseSubscription:
		purchaseSteps(&it, r, caller, start)
	case v1alpha1.PathNewAzureSubscription:
		it.Purchases = 1
		calls := append([]string{"GET /v1/customers/" + customer.Spec.TenantID + "/subscriptions",
			"GET /v1/customers/" + customer.Spec.TenantID + "/products/DZH318Z0BPS6/skus/0001/availabilities"}, cartCalls(customer)...)
		calls = append(calls, "PUT https://management.azure.com/providers/Microsoft.Subscription/aliases/{operation ID}")
		it.Steps = append(it.Steps, Step{Step: StepPurchase, By: caller, NotBefore: &start, Calls: calls,
			Detail: fmt.Sprintf("Creates an Azure subscription for customer %s under its one Azure plan with the partner (DZH318Z0BPS6:0001, billed by usage): the plan is bought once per customer and partner when Partner Center lists none, and comes with the first Azure subscription; each further one is created under it through Azure Resource Manager.", customer.Name)})
		switch d := disposition(sub); d {
		case v1alpha1.SourceCoexist:
			it.DoubleBilling = "none of fixed charges: both the source and the Azure plan bill usage, where the resources run"
		default:
			it.Steps = append(it.Steps, Step{Step: StepSourceCancellation, By: "a person, in the source's channel (outside Partner Center)",
				Detail: fmt.Sprintf("%s the source subscription %s, then records spec.state: Cancelled; the subscription completes then.", map[v1alpha1.SourceDisposition]string{
					v1alpha1.SourceCancelServices: "Cancels the services " + strings.Join(sub.Spec.Azure.Services, ", ") + " of", v1alpha1.SourceCancelSubscription: "Cancels"}[d], sub.Spec.SubscriptionID)})
			it.DoubleBilling = "both bill usage until the source is cancelled and its resources moved"
		}
	case v1alpha1.PathPartnerSwitch:
		it.Transfers = 1
		if sub.Spec.ServiceType == v1alpha1.ServiceUsageBased {
			it.Steps = append(it.Steps, Step{Step: StepPurchase, By: caller, NotBefore: &start,
				Calls:  append([]string{"GET /v1/customers/" + customer.Spec.TenantID + "/subscriptions"}, cartCalls(customer)...),
				Detail: fmt.Sprintf("Buys customer %s's Azure plan with the partner (DZH318Z0BPS6:0001) first, once, if Partner Center lists none: an Azure transfer needs it.", customer.Name)})
		}
		deadline := start.Add(transferWindow)
		it.Steps = append(it.Steps, Step{Step: StepTransfer, By: caller + "; accepted by source partner " + sourceName(r), NotBefore: &start, Deadline: &deadline,
			Calls: []string{"GET /v1/customers/" + customer.Spec.TenantID, "POST /v1/customers/" + customer.Spec.TenantID + "/transfers",
				"GET /v1/customers/" + customer.Spec.TenantID + "/transfers/{id}"},
			Detail: fmt.Sprintf("Asks partner %s to transfer subscription %s; it must accept within 30 days (by %s if asked %s).",
				sourceName(r), sub.Spec.SubscriptionID, day(deadline), day(start))})
		it.DoubleBilling = "none: the subscription itself moves"
		it.Irreversible = "a completed transfer is undone only by a transfer back"
	}
	if !res.NotAfter.IsZero() {
		na := res.NotAfter.UTC()
		for i := range it.Steps {
			if it.Steps[i].Step == StepPurchase && it.Steps[i].Deadline == nil {
				it.Steps[i].Deadline = &na
			}
		}
	}
	it.Earliest = &start
	return it
}

// purchaseSteps: a license bought anew, and its cancellation window.
func purchaseSteps(it *Item, r *check.Row, caller string, start time.Time) {
	sub, customer := r.Input.Subscription, r.Input.Customer
	term, cycle := purchaseTerms(sub)
	seats := int32(1)
	if sub.Spec.Quantity != nil {
		seats = *sub.Spec.Quantity
	}
	it.Seats, it.Purchases = seats, 1
	offer := sub.Spec.Offer.ID
	if p := sub.Spec.Purchase; p != nil && p.OfferID != "" {
		offer = p.OfferID
	}
	product, sku, _ := strings.Cut(offer, ":")
	sku, _, _ = strings.Cut(sku, ":")
	calls := append([]string{"GET /v1/customers/" + customer.Spec.TenantID + "/products/" + product + "/skus/" + sku + "/availabilities"}, cartCalls(customer)...)
	it.Steps = append(it.Steps, Step{Step: StepPurchase, By: caller, NotBefore: &start, Calls: calls,
		Detail: fmt.Sprintf("Buys %d x %s, a %s term billed %s, for customer %s.", seats, offer, term, strings.ToLower(cycle), customer.Name)})
	it.DoubleBilling = "none: the source term has ended or the source is cancelled"
	if strings.Contains(offer, ":") {
		until := start.Add(cancellationWindow)
		it.Steps = append(it.Steps, Step{Step: StepCancellationWindow, By: "a person with verb approve (kubectl multichannel cancel)", Deadline: &until,
			Calls:  []string{"PATCH /v1/customers/" + customer.Spec.TenantID + "/subscriptions/{id} (status deleted)"},
			Detail: fmt.Sprintf("Cancellable with a refund for 7 days after purchase (until %s if bought %s).", day(until), day(start))})
		it.Irreversible = fmt.Sprintf("after the 7-day cancellation window (%s if bought %s) the whole %s term of %d seats is owed", day(until), day(start), term, seats)
	} else {
		it.Irreversible = fmt.Sprintf("offer %s is not a new-commerce product and SKU (productId:skuId): the catalog does not sell it, so the operator buys nothing and says OfferNotAvailable; name what to buy in spec.purchase.offerID", offer)
	}
}

func cartCalls(customer *v1alpha1.Customer) []string {
	id := customer.Spec.TenantID
	return []string{"POST /v1/customers/" + id + "/carts", "POST /v1/customers/" + id + "/carts/{cart}/checkout", "GET /v1/customers/" + id + "/orders/{order}"}
}

// purchaseTerms: spec.purchase, defaulting as the operator does (P1Y, Monthly).
func purchaseTerms(sub *v1alpha1.CustomerSubscription) (term, cycle string) {
	term, cycle = string(v1alpha1.TermOneYear), string(v1alpha1.BillingMonthly)
	if p := sub.Spec.Purchase; p != nil {
		if p.TermDuration != "" {
			term = string(p.TermDuration)
		}
		if p.BillingCycle != "" {
			cycle = string(p.BillingCycle)
		}
	}
	return term, cycle
}

func disposition(sub *v1alpha1.CustomerSubscription) v1alpha1.SourceDisposition {
	if a := sub.Spec.Azure; a != nil && a.SourceDisposition != "" {
		return a.SourceDisposition
	}
	return v1alpha1.SourceCoexist
}

func sourceName(r *check.Row) string {
	if p := r.Input.ChannelPartner; p != nil {
		return p.Name
	}
	return string(r.Channel)
}

// authorizingPolicy is the first ApprovalPolicy (by name, as the operator
// lists them) that authorizes the row, counting what it authorized for the
// same customer earlier in the plan against its per-customer totals; or ""
// and why none does.
func authorizingPolicy(r *check.Row, path v1alpha1.SwitchPath, totals *policyUse) (string, string) {
	sub, target := r.Input.Subscription, r.Input.Target
	// A sharded replica sees only the policies of its shard (controllers/shard.go).
	var policies []*v1alpha1.ApprovalPolicy
	shard, sharded := sub.Labels[v1alpha1.LabelShard]
	for _, p := range r.Policies {
		if !sharded || p.Labels[v1alpha1.LabelShard] == shard {
			policies = append(policies, p)
		}
	}
	sort.Slice(policies, func(i, j int) bool { return policies[i].Name < policies[j].Name })
	// What the operator's terms would name: the Azure plan for a new Azure
	// subscription (one), the offer and quantity otherwise.
	offer, seats := sub.Spec.Offer.ID, int64(1)
	if sub.Spec.Quantity != nil {
		seats = int64(*sub.Spec.Quantity)
	}
	if path == v1alpha1.PathNewAzureSubscription {
		offer, seats = pc.AzurePlanProduct+":"+pc.AzurePlanSKU, 1
	}
	tenant := r.Input.Customer.Spec.TenantID
	var refusals []string
	for _, p := range policies {
		ok, why := policy.Authorizes(p, sub, target, path)
		qKey := p.Namespace + "/" + p.Name + "|" + tenant + "|" + offer
		sKey := p.Namespace + "/" + p.Name + "|" + tenant
		if ok && p.Spec.MaxQuantityPerCustomer != nil && totals.quantity[qKey]+seats > int64(*p.Spec.MaxQuantityPerCustomer) {
			ok, why = false, fmt.Sprintf("allows at most %d licenses of %s per customer in total; %d are planned before this one", *p.Spec.MaxQuantityPerCustomer, offer, totals.quantity[qKey])
		}
		if ok && p.Spec.MaxSubscriptionsPerCustomer != nil && totals.subscriptions[sKey]+1 > int(*p.Spec.MaxSubscriptionsPerCustomer) {
			ok, why = false, fmt.Sprintf("allows at most %d subscriptions per customer; %d are planned before this one", *p.Spec.MaxSubscriptionsPerCustomer, totals.subscriptions[sKey])
		}
		if !ok {
			refusals = append(refusals, p.Name+" "+why)
			continue
		}
		totals.quantity[qKey] += seats
		totals.subscriptions[sKey]++
		return p.Name, ""
	}
	if len(refusals) == 0 {
		return "", "no ApprovalPolicy in namespace " + sub.Namespace
	}
	return "", strings.Join(refusals, "; ")
}

// selects says whether p's namespaceSelector selects namespace, and whether
// that is known offline: absent selects none, {} selects all; any other is
// matched against the one label every namespace carries, its name, and is
// unknown when that does not decide it.
func selects(p *v1alpha1.Partner, namespace string) (serves, known bool) {
	sel := p.Spec.NamespaceSelector
	if sel == nil {
		return false, true
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false, true // an invalid selector selects nothing
	}
	if s.Matches(labels.Set{corev1.LabelMetadataName: namespace}) {
		return true, true
	}
	return false, false
}

func day(t time.Time) string { return t.UTC().Format(time.RFC3339) }
