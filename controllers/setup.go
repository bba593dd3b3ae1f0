// Package controllers holds one reconciler per kind of the multichannel API
// (the CustomerSubscription reconciler in controllers/subscription, what
// the reconcilers share in controllers/internal/core) and registers them.
// Each reads what it needs into a scope, runs small phase functions over it
// (internal/pass), and writes status once at the end of the pass, and only
// when it changed.
package controllers

import (
	"fmt"

	"github.com/partnerops/multichannel-operator/internal/sharedcalls"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/controllers/subscription"
	"github.com/partnerops/multichannel-operator/internal/graph"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pcwebhook"
)

// eventRecorderName names the operator in the Events it writes.
const eventRecorderName = "multichannel-operator"

// SetupWithManager registers every reconciler, the field indexes they share
// and the metrics with mgr.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	opts = opts.WithDefaults()
	if err := core.RegisterIndexes(mgr); err != nil {
		return err
	}
	if err := pc.DefaultMetrics.Register(metrics.Registry); err != nil {
		return fmt.Errorf("registering Partner Center metrics: %w", err)
	}
	if err := graph.DefaultMetrics.Register(metrics.Registry); err != nil {
		return fmt.Errorf("registering Microsoft Graph metrics: %w", err)
	}
	if err := subscription.RegisterMetrics(mgr.GetCache()); err != nil {
		return fmt.Errorf("registering subscription metrics: %w", err)
	}
	if err := registerPartnerMetrics(); err != nil {
		return fmt.Errorf("registering partner metrics: %w", err)
	}
	if err := registerInvitationMetrics(); err != nil {
		return fmt.Errorf("registering invitation metrics: %w", err)
	}
	if err := registerActivityMetrics(); err != nil {
		return fmt.Errorf("registering activity-log metrics: %w", err)
	}
	if err := registerAlertMetrics(mgr.GetCache()); err != nil {
		return fmt.Errorf("registering alert metrics: %w", err)
	}
	clients := core.NewPartnerClients(mgr.GetAPIReader(), mgr.GetClient(), opts)
	recorder := mgr.GetEventRecorder(eventRecorderName)
	shared := sharedcalls.New()
	wake := core.NewWakeups(shared)
	setups := []struct {
		kind  string
		setup func(ctrl.Manager, Options) error
	}{
		{"Partner", (&PartnerReconciler{clients: clients, recorder: recorder}).SetupWithManager},
		{"Customer", (&CustomerReconciler{clients: clients, recorder: recorder, wake: wake}).SetupWithManager},
		{"CustomerSubscription", subscription.NewReconciler(clients, recorder, shared, wake).SetupWithManager},
		{"ResellerRelationship", (&ResellerRelationshipReconciler{clients: clients, recorder: recorder, shared: shared, wake: wake}).SetupWithManager},
		{"ApprovalPolicy", (&ApprovalPolicyReconciler{}).SetupWithManager},
		{"DelegatedAdminRelationship", (&DelegatedAdminRelationshipReconciler{clients: clients, recorder: recorder, wake: wake}).SetupWithManager},
	}
	if opts.ActivityLogInterval > 0 {
		setups = append(setups, struct {
			kind  string
			setup func(ctrl.Manager, Options) error
		}{"activity log", (&ActivityLogReconciler{clients: clients, wake: wake, read: readActivity}).SetupWithManager})
	}
	for _, s := range setups {
		if err := s.setup(mgr, opts); err != nil {
			return fmt.Errorf("setting up the %s reconciler: %w", s.kind, err)
		}
	}
	return addWebhookReceiver(mgr, wake, opts)
}

// webhookMetrics count the receiver's requests by outcome.
var webhookMetrics = pcwebhook.NewMetrics()

// addWebhookReceiver adds the Partner Center webhook receiver to mgr, when
// opts ask for one.
func addWebhookReceiver(mgr ctrl.Manager, wake *core.Wakeups, opts Options) error {
	if opts.WebhookBindAddress == "" || opts.WebhookBindAddress == "0" {
		return nil
	}
	if err := webhookMetrics.Register(metrics.Registry); err != nil {
		return fmt.Errorf("registering webhook metrics: %w", err)
	}
	rcv, err := newWebhookReceiver(mgr.GetClient(), wake, opts, webhookMetrics)
	if err != nil {
		return err
	}
	return mgr.Add(rcv)
}
