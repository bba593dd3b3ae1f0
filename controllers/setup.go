// Package controllers holds one reconciler per kind of the multichannel API.
// Each reads what it needs into a scope, runs small phase functions over it,
// and writes status once at the end of the pass, and only when it changed.
package controllers

import (
	"flag"
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

// Options are the knobs every reconciler shares; main binds them to flags.
type Options struct {
	// MaxConcurrentReconciles is how many objects of one kind reconcile at once.
	MaxConcurrentReconciles int
	// PollInterval is how often the operator asks Partner Center about something
	// another party must do (a customer's approval, a source partner's answer).
	PollInterval time.Duration
}

// BindFlags registers the options on fs with their defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.IntVar(&o.MaxConcurrentReconciles, "max-concurrent-reconciles", 4,
		"How many objects of each kind are reconciled at once.")
	fs.DurationVar(&o.PollInterval, "poll-interval", time.Minute,
		"How often to ask Partner Center about what another party must do (approvals, transfers).")
}

func (o Options) withDefaults() Options {
	if o.MaxConcurrentReconciles <= 0 {
		o.MaxConcurrentReconciles = 4
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Minute
	}
	return o
}

// SetupWithManager registers every reconciler with mgr.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	opts = opts.withDefaults()
	setups := []struct {
		kind  string
		setup func(ctrl.Manager, Options) error
	}{
		{"Partner", (&PartnerReconciler{}).SetupWithManager},
		{"Customer", (&CustomerReconciler{}).SetupWithManager},
		{"CustomerSubscription", (&CustomerSubscriptionReconciler{}).SetupWithManager},
		{"ResellerRelationship", (&ResellerRelationshipReconciler{}).SetupWithManager},
		{"ApprovalPolicy", (&ApprovalPolicyReconciler{}).SetupWithManager},
	}
	for _, s := range setups {
		if err := s.setup(mgr, opts); err != nil {
			return fmt.Errorf("setting up the %s reconciler: %w", s.kind, err)
		}
	}
	return nil
}
