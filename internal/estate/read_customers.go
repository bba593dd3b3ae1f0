package estate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/partnerops/multichannel-operator/internal/graph"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// customers reads each customer, Workers at once, and returns those that
// can be imported in ids' order. The first error stops the others.
func (r *reader) customers(ctx context.Context, ids []string) ([]CustomerEstate, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out, errs := make([]*CustomerEstate, len(ids)), make([]error, len(ids))
	work := make(chan int)
	var wg sync.WaitGroup
	for range r.o.Workers {
		wg.Go(func() {
			for i := range work {
				if out[i], errs[i] = r.customer(ctx, ids[i]); errs[i] != nil {
					cancel()
				}
			}
		})
	}
feed:
	for i := range ids {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	var read []CustomerEstate
	for i, ce := range out {
		if errs[i] != nil && !errors.Is(errs[i], context.Canceled) {
			return nil, errs[i]
		}
		if ce != nil {
			read = append(read, *ce)
		}
	}
	return read, ctx.Err()
}

// customer reads one customer: its profile (the country is read by ID
// only), subscriptions, each active Azure plan's Azure subscriptions, and
// transfers. A customer that is not the partner's reseller customer is a
// note, unless it was asked for by name.
func (r *reader) customer(ctx context.Context, id string) (*CustomerEstate, error) {
	p := r.c.PartnerCenter
	var cu *pc.Customer
	err := r.patiently(ctx, func() (err error) { cu, err = p.GetCustomer(ctx, id); return err })
	switch {
	case (pc.IsNotFound(err) || pc.IsNoCommerceRelationship(err)) && len(r.o.Customers) > 0:
		return nil, fmt.Errorf("customer %s: not a customer of the partner in Partner Center: %w", id, err)
	case pc.IsNotFound(err) || pc.IsNoCommerceRelationship(err):
		r.note("customer %s: listed, then not found (%v); not imported", id, err)
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("customer %s: reading it: %w", id, err)
	case cu.RelationshipToPartner != pc.RelationshipReseller:
		r.note("customer %s (%s): its relationship to the partner is %q, not reseller; not imported", id, cu.CompanyProfile.Domain, cu.RelationshipToPartner)
		return nil, nil
	}
	ce := &CustomerEstate{Customer: *cu, Entitlements: map[string][]pc.AzureEntitlement{}}
	if err := r.patiently(ctx, func() (err error) { ce.Subscriptions, err = p.ListSubscriptions(ctx, id); return err }); err != nil {
		return nil, fmt.Errorf("customer %s: listing its subscriptions: %w", id, err)
	}
	for _, s := range ce.Subscriptions {
		if !pc.IsAzurePlan(s.OfferID) || s.Status != pc.SubscriptionActive {
			continue
		}
		var ents []pc.AzureEntitlement
		if err := r.patiently(ctx, func() (err error) { ents, err = p.AzureEntitlements(ctx, id, s.ID); return err }); err != nil {
			return nil, fmt.Errorf("customer %s: listing the Azure subscriptions of Azure plan %s: %w", id, s.ID, err)
		}
		ce.Entitlements[s.ID] = ents
	}
	if err := r.patiently(ctx, func() (err error) { ce.Transfers, err = p.ListTransfers(ctx, id); return err }); err != nil {
		return nil, fmt.Errorf("customer %s: listing its transfers: %w", id, err)
	}
	return ce, nil
}

// relationships reads the partner's GDAP relationships with the customers
// of ids, by customer tenant, and the access assignments of those active.
func (r *reader) relationships(ctx context.Context, ids []string) (map[string][]GDAP, error) {
	if r.c.Graph == nil {
		r.note("no Microsoft Graph client: GDAP relationships are not imported")
		return nil, nil
	}
	rels, err := r.listRelationships(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]GDAP{}
	for _, rel := range rels {
		tenant := ""
		if rel.Customer != nil {
			tenant = strings.ToLower(rel.Customer.TenantID)
		}
		if _, wanted := slices.BinarySearch(ids, tenant); !wanted || !r.importableRelationship(rel, tenant) {
			continue
		}
		g := GDAP{Relationship: rel}
		if rel.Status == graph.StatusActive || rel.Status == graph.StatusExpiring {
			if err := r.patiently(ctx, func() (err error) { g.Assignments, err = r.c.Graph.ListAccessAssignments(ctx, rel.ID); return err }); err != nil {
				return nil, fmt.Errorf("GDAP relationship %q of customer %s: listing its access assignments: %w", rel.DisplayName, tenant, err)
			}
		}
		out[tenant] = append(out[tenant], g)
	}
	return out, nil
}

// importableRelationship: the partner's own relationship, active or on its
// way there; why not is a note.
func (r *reader) importableRelationship(rel graph.Relationship, tenant string) bool {
	switch {
	case rel.ODataType == graph.ODataResellerRelationship:
		r.note("GDAP relationship %q of customer %s is an indirect reseller's (resellerDelegatedAdminRelationship); not imported", rel.DisplayName, tenant)
	case !slices.Contains(importableGDAP, rel.Status):
		r.note("GDAP relationship %q of customer %s is %s; only active ones and those awaiting the customer are imported", rel.DisplayName, tenant, rel.Status)
	default:
		return true
	}
	return false
}

// listRelationships reads every page of the partner's relationships,
// sorted by ID.
func (r *reader) listRelationships(ctx context.Context) ([]graph.Relationship, error) {
	g := r.c.Graph
	var page *graph.RelationshipPage
	err := r.patiently(ctx, func() (err error) { page, err = g.ListRelationships(ctx, ""); return err })
	var all []graph.Relationship
	for err == nil {
		all = append(all, page.Relationships...)
		if page.NextLink == "" {
			slices.SortFunc(all, func(a, b graph.Relationship) int { return strings.Compare(a.ID, b.ID) })
			return all, nil
		}
		next := page.NextLink
		err = r.patiently(ctx, func() (err error) { page, err = g.NextRelationships(ctx, next); return err })
	}
	return nil, fmt.Errorf("listing the partner's GDAP relationships (after %d): %w", len(all), err)
}
