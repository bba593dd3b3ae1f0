package controllers

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// refreshTokenRenewed is when each Partner's refresh token was last renewed
// (or signed in): the alert MultichannelRefreshTokenAging fires 60 days on.
var refreshTokenRenewed = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "multichannel_partner_refresh_token_renewed_timestamp_seconds",
	Help: "When the partner's App+User refresh token was last renewed by the token service or signed in (Unix seconds); unused for 90 days it expires.",
}, []string{"partner"})

func registerPartnerMetrics() error {
	err := metrics.Registry.Register(refreshTokenRenewed)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		return nil
	}
	return err
}

// deliveries counts what the channels did with invitations and reminders.
var deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "multichannel_customer_deliveries_total",
	Help: "Invitations and reminders sent to customers' contacts, by channel (Mail, Webhook), kind (Invitation, Reminder) and result (delivered, failed).",
}, []string{"channel", "kind", "result"})

// invitationAccepted is how many reminders it took before the customer did
// what it was asked.
var invitationAccepted = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "multichannel_customer_acceptance_reminders",
	Help:    "How many reminders had been sent when the operator saw the customer do what it was asked, by action.",
	Buckets: []float64{0, 1, 2, 3, 5, 10},
}, []string{"action"})

func registerInvitationMetrics() error {
	for _, c := range []prometheus.Collector{deliveries, invitationAccepted} {
		err := metrics.Registry.Register(c)
		var are prometheus.AlreadyRegisteredError
		if err != nil && !errors.As(err, &are) {
			return err
		}
	}
	return nil
}

// The activity log's metrics: reads per partner and result, the records
// applied by what changed, and checkpoint IDs dropped over
// changefeed.MaxSeen (whose records, read again, wake their objects again).
var (
	activityReads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "multichannel_activity_log_reads_total",
		Help: "Reads of a partner's Partner Center activity log, by result (read; failed; restarted: a checkpoint too old for one query, read afresh).",
	}, []string{"partner", "result"})
	activityRecords = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "multichannel_activity_records_applied_total",
		Help: "Activity-log records and webhook events applied (the objects they concern woken), by what changed.",
	}, []string{"partner", "change"})
	activityUnstored = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "multichannel_activity_log_ids_unstored",
		Help: "Record IDs of the overlap the stored checkpoint leaves out (over its bound of 2,000), as of its last write: the manager keeps them in memory; after a restart, such a record read again is applied once more.",
	}, []string{"partner"})
)

func registerActivityMetrics() error {
	for _, c := range []prometheus.Collector{activityReads, activityRecords, activityUnstored} {
		err := metrics.Registry.Register(c)
		var are prometheus.AlreadyRegisteredError
		if err != nil && !errors.As(err, &are) {
			return err
		}
	}
	return nil
}
