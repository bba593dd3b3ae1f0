package harness

import (
	"context"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// Acceptor plays the workload's customers: each accepts its partner's
// reseller request a fixed time after the operator showed it the link
// (status.invitationURL on its ResellerRelationship, as the bench's watch
// first sees it), through the simulator's acting endpoint, so that Partner
// Center records the acceptance in its activity log when it happens.
//
// The simulator's own --auto-approve-after accepts a customer only when
// the partner next asks Partner Center about it (the request link names no
// customer): that acceptance is recorded then, never by the clock alone, so
// a manager that follows the activity log instead of polling would not see
// it. Transfers and orders are applied by the clock (and by every read of
// the log) and need no one to act.
type Acceptor struct {
	mu       sync.Mutex
	seen     map[string]bool
	accepted int
	failed   int
	lastErr  error
}

// AcceptRelationships starts accepting, after after, every reseller
// request the operator shows a workload customer, until ctx ends.
func AcceptRelationships(ctx context.Context, cfg *rest.Config, simURL string, after time.Duration) (*Acceptor, error) {
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return nil, err
	}
	a := &Acceptor{seen: map[string]bool{}}
	go func() {
		rv := "" // where the last watch ended; a new one resumes there
		for ctx.Err() == nil {
			if rv == "" {
				// A list first: nothing shown before the watch starts is missed.
				list := &v1alpha1.ResellerRelationshipList{}
				if err := c.List(ctx, list); err != nil {
					time.Sleep(time.Second)
					continue
				}
				for i := range list.Items {
					a.consider(ctx, simURL, &list.Items[i], after)
				}
				rv = list.ResourceVersion
			}
			wi, err := c.Watch(ctx, &v1alpha1.ResellerRelationshipList{}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
			if err != nil {
				rv = ""
				time.Sleep(time.Second)
				continue
			}
			for ev := range wi.ResultChan() {
				if ev.Type == watch.Error {
					rv = "" // too old: list again
					break
				}
				rr, ok := ev.Object.(*v1alpha1.ResellerRelationship)
				if !ok {
					continue
				}
				rv = rr.ResourceVersion
				if ev.Type == watch.Added || ev.Type == watch.Modified {
					a.consider(ctx, simURL, rr, after)
				}
			}
			wi.Stop()
		}
	}()
	return a, nil
}

// consider schedules the customer's acceptance of a request shown to it.
func (a *Acceptor) consider(ctx context.Context, simURL string, rr *v1alpha1.ResellerRelationship, after time.Duration) {
	if !strings.HasPrefix(rr.Namespace, "customers-") || rr.Status.InvitationURL == "" || rr.Status.Phase != v1alpha1.RelationshipRequested {
		return
	}
	key := rr.Namespace + "/" + rr.Name
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen[key] {
		return
	}
	a.seen[key] = true
	body := map[string]string{"partnerTenantId": tenant("partner/" + rr.Spec.PartnerRef), "customerTenantId": tenant("customer/" + rr.Spec.CustomerRef)}
	time.AfterFunc(after, func() {
		err := actAs(ctx, simURL+"/sim/v1/relationships/accept", body)
		a.mu.Lock()
		defer a.mu.Unlock()
		if err != nil {
			a.failed++
			a.lastErr = err
			return
		}
		a.accepted++
	})
}

// Counts are the acceptances sent so far, those that failed and the last
// failure.
func (a *Acceptor) Counts() (accepted, failed int, last error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.accepted, a.failed, a.lastErr
}
