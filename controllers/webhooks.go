package controllers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/changefeed"
	"github.com/partnerops/multichannel-operator/internal/pcwebhook"
)

// webhookReceiver serves Partner Center's webhooks on its own listener
// (Options.WebhookBindAddress; the chart's webhook-receiver Service), as
// Flux's notification-controller serves its Receivers. pcwebhook verifies
// each request as Partner Center documents its signing and refuses forged
// and replayed ones (counted in
// multichannel_partnercenter_webhook_requests_total); a verified event
// wakes the objects it concerns, as an activity-log record does.
type webhookReceiver struct {
	addr    string
	handler http.Handler
}

// newWebhookReceiver builds the receiver that wakes through w.
func newWebhookReceiver(c client.Reader, w *core.Wakeups, opts Options, metrics *pcwebhook.Metrics) (*webhookReceiver, error) {
	ro := pcwebhook.Options{Metrics: metrics, Log: ctrl.Log.WithName("webhooks")}
	if opts.Webhook != nil {
		ro = opts.Webhook(ro)
	}
	rc, err := pcwebhook.New(func(ctx context.Context, e pcwebhook.Event) error {
		rec := eventRecord(e)
		woken := w.Wake(ctx, c, rec)
		activityRecords.WithLabelValues("", rec.Change).Inc()
		ctrl.LoggerFrom(ctx).V(1).Info("webhook applied", "event", e.EventName, "resource", e.ResourceURI, "woken", woken)
		return nil
	}, ro)
	if err != nil {
		return nil, fmt.Errorf("the Partner Center webhook receiver: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+core.WebhookPath, rc)
	return &webhookReceiver{addr: opts.WebhookBindAddress, handler: mux}, nil
}

// eventRecord is what a webhook's event concerns: the customer, the
// subscription and the GDAP relationship its resource URI names.
func eventRecord(e pcwebhook.Event) changefeed.Record {
	rec := changefeed.Record{ID: e.AuditID(), At: e.ResourceChangeUTCDate, Customer: e.CustomerID(), Relationship: e.AdminRelationshipID(),
		Change: e.EventName}
	if id := e.SubscriptionID(); id != "" {
		rec.Subscriptions = []string{id}
	}
	return rec
}

// Start serves until ctx ends.
func (r *webhookReceiver) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		return fmt.Errorf("the Partner Center webhook receiver: %w", err)
	}
	srv := &http.Server{Handler: r.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	ctrl.Log.WithName("webhooks").Info("serving Partner Center webhooks", "address", ln.Addr().String(), "path", core.WebhookPath)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// NeedLeaderElection: only the leader's controllers run, so only the
// leader takes webhooks; Partner Center sends an event up to ten times.
func (r *webhookReceiver) NeedLeaderElection() bool { return true }
