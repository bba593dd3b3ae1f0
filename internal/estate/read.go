// Package estate imports what a partner already holds in Partner Center
// and Microsoft Graph, its customers with their license subscriptions,
// Azure plans and the Azure subscriptions under them, the transfers it
// asked of other CSP partners that are still under way, and its GDAP
// relationships with their access assignments, as manifests of the
// operator's kinds for Git: kubectl multichannel import. It only reads:
// every call it makes is a GET. It stays within the partner tenant's
// request budget by waiting when its client says the budget is spent, or
// when the service throttles.
package estate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/apiretry"
	"github.com/partnerops/multichannel-operator/internal/graph"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// Defaults of Options.
const (
	// DefaultPageSize is how many customers a page of the list holds.
	DefaultPageSize = 100
	// DefaultWorkers is how many customers are read at once: enough to
	// spend the tenant's budget despite each call's latency.
	DefaultWorkers = 4
)

// Clients are the partner's clients. Graph may be nil: the GDAP
// relationships are then not read, and a note says so.
type Clients struct {
	PartnerCenter *pc.Client
	Graph         *graph.Client
}

// Options say what to read.
type Options struct {
	// Customers limits the import to these customers, each a tenant ID or a
	// domain; empty reads every customer.
	Customers []string
	// PageSize is the customer list's page size; 0 is DefaultPageSize.
	PageSize int
	// Workers is how many customers are read at once; 0 is DefaultWorkers.
	Workers int
	// Sleep waits d or until ctx ends; nil waits on the wall clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Estate is what was read.
type Estate struct {
	// Customers that accepted the partner as reseller, in the order of
	// their tenant IDs.
	Customers []CustomerEstate
	// Notes say what was read but cannot be imported, and why.
	Notes []string
	// Waits counts the calls that waited for the tenant's budget or for
	// the service's Retry-After (each once, however long it waited).
	Waits int64
}

// CustomerEstate is one customer and what it holds with the partner.
type CustomerEstate struct {
	Customer      pc.Customer
	Subscriptions []pc.Subscription
	// Entitlements are the Azure subscriptions under each Azure plan, by
	// the plan's subscription ID.
	Entitlements map[string][]pc.AzureEntitlement
	Transfers    []pc.Transfer
	GDAP         []GDAP
}

// GDAP is a relationship and its access assignments.
type GDAP struct {
	Relationship graph.Relationship
	Assignments  []graph.AccessAssignment
}

// reader reads one estate.
type reader struct {
	c     Clients
	o     Options
	waits atomic.Int64
	mu    sync.Mutex
	notes []string
}

// Read reads the partner's estate. An error reading a customer fails the
// read, naming the customer; what is read but not importable is a note.
func Read(ctx context.Context, c Clients, o Options) (*Estate, error) {
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	r := &reader{c: c, o: o}
	ids, err := r.customerIDs(ctx)
	if err != nil {
		return nil, err
	}
	// Graph is read while Partner Center is; a failure of either stops both.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var gdap map[string][]GDAP
	var gdapErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		if gdap, gdapErr = r.relationships(ctx, ids); gdapErr != nil {
			cancel()
		}
	}()
	customers, err := r.customers(ctx, ids)
	if err != nil {
		cancel()
	}
	<-done
	if err = cause(err, gdapErr); err != nil {
		return nil, err
	}
	for i := range customers {
		customers[i].GDAP = gdap[strings.ToLower(customers[i].Customer.ID)]
	}
	return &Estate{Customers: customers, Notes: r.notes, Waits: r.waits.Load()}, nil
}

// cause is the error that stopped a read: the first that is not the
// cancellation it caused in the other.
func cause(errs ...error) error {
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}

func (r *reader) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// patiently makes a call until it is not throttled: a call over the
// tenant's budget (not sent) or answered 429 waits the time its
// ThrottledError names, then is made again. Waits counts the calls that
// waited, once each.
func (r *reader) patiently(ctx context.Context, call func() error) error {
	for waited := false; ; waited = true {
		err := call()
		d, throttled := apiretry.ThrottledFor(err)
		if !throttled {
			return err
		}
		if !waited {
			r.waits.Add(1)
		}
		if err := r.o.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// customerIDs are the tenants to read: the --customer tenant IDs as they
// are, or the customer list's, limited to the --customer tenant IDs and
// domains. A --customer the list does not hold is an error.
func (r *reader) customerIDs(ctx context.Context) ([]string, error) {
	if len(r.o.Customers) > 0 && allTenantIDs(r.o.Customers) {
		ids := make([]string, 0, len(r.o.Customers))
		for _, c := range r.o.Customers {
			ids = append(ids, strings.ToLower(c))
		}
		slices.Sort(ids)
		return slices.Compact(ids), nil
	}
	listed, err := r.listCustomers(ctx)
	if err != nil {
		return nil, err
	}
	return selectCustomers(listed, r.o.Customers)
}

// listCustomers reads every page of the customer list.
func (r *reader) listCustomers(ctx context.Context) ([]pc.Customer, error) {
	var page *pc.CustomerPage
	err := r.patiently(ctx, func() (err error) { page, err = r.c.PartnerCenter.ListCustomers(ctx, r.o.PageSize); return err })
	var all []pc.Customer
	for err == nil {
		all = append(all, page.Customers...)
		if page.Next == nil {
			return all, nil
		}
		next := page.Next
		err = r.patiently(ctx, func() (err error) { page, err = r.c.PartnerCenter.NextCustomers(ctx, next); return err })
	}
	return nil, fmt.Errorf("listing the partner's customers (after %d): %w", len(all), err)
}

// selectCustomers is the listed customers' tenant IDs, sorted; with
// wanted, only those each names by tenant ID or domain.
func selectCustomers(listed []pc.Customer, wanted []string) ([]string, error) {
	matches := func(c pc.Customer, w string) bool {
		return strings.EqualFold(w, c.ID) || strings.EqualFold(w, c.CompanyProfile.Domain)
	}
	var ids []string
	found := map[string]bool{}
	for _, c := range listed {
		hit := len(wanted) == 0
		for _, w := range wanted {
			if matches(c, w) {
				found[strings.ToLower(w)], hit = true, true
			}
		}
		if hit {
			ids = append(ids, strings.ToLower(c.ID))
		}
	}
	var missing []string
	for _, w := range wanted {
		if !found[strings.ToLower(w)] {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("--customer %s: not among the partner's customers in Partner Center (by tenant ID or domain)", strings.Join(missing, ", "))
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// allTenantIDs: every value is a GUID, so the customers are read by ID
// without listing them all.
func allTenantIDs(values []string) bool {
	for _, v := range values {
		if !tenantID.MatchString(v) {
			return false
		}
	}
	return true
}

// importable GDAP statuses: active, or on its way there; one created but
// not locked for approval is the partner's draft, and one ended is history.
var importableGDAP = []string{graph.StatusActive, graph.StatusExpiring, graph.StatusApprovalPending, graph.StatusApproved, graph.StatusActivating}

// cloudOf is the partner's cloud, its customers' too.
func cloudOf(p *v1alpha1.Partner) v1alpha1.Cloud {
	if p.Spec.Cloud == "" {
		return v1alpha1.CloudPublic
	}
	return p.Spec.Cloud
}
