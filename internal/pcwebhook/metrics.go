package pcwebhook

import (
	"errors"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcome is what became of one request.
type Outcome string

// Outcomes.
const (
	// OutcomeVerified: signed by Partner Center, fresh and new; the
	// callback took it.
	OutcomeVerified Outcome = "verified"
	// OutcomeForged: the signature, the certificate's URL, chain or names
	// do not hold.
	OutcomeForged Outcome = "forged"
	// OutcomeReplayed: an event taken before (or being taken), or one
	// whose date is outside the freshness window.
	OutcomeReplayed Outcome = "replayed"
	// OutcomeMalformed: not a request Partner Center sends (method,
	// headers, size, or a body that is not an event).
	OutcomeMalformed Outcome = "malformed"
	// OutcomeUnavailable: the signing certificate could not be downloaded;
	// Partner Center sends the event again.
	OutcomeUnavailable Outcome = "unavailable"
	// OutcomeFailed: verified, but the callback failed; Partner Center
	// sends the event again.
	OutcomeFailed Outcome = "failed"
)

// Counts are the requests by outcome since the Receiver was made.
type Counts struct {
	Verified, Forged, Replayed, Malformed, Unavailable, Failed int64
}

type counts struct {
	verified, forged, replayed, malformed, unavailable, failed atomic.Int64
}

func (c *counts) add(o Outcome) {
	switch o {
	case OutcomeVerified:
		c.verified.Add(1)
	case OutcomeForged:
		c.forged.Add(1)
	case OutcomeReplayed:
		c.replayed.Add(1)
	case OutcomeMalformed:
		c.malformed.Add(1)
	case OutcomeUnavailable:
		c.unavailable.Add(1)
	case OutcomeFailed:
		c.failed.Add(1)
	}
}

func (c *counts) snapshot() Counts {
	return Counts{Verified: c.verified.Load(), Forged: c.forged.Load(), Replayed: c.replayed.Load(),
		Malformed: c.malformed.Load(), Unavailable: c.unavailable.Load(), Failed: c.failed.Load()}
}

// Metrics are the Receiver's Prometheus collectors:
// multichannel_partnercenter_webhook_requests_total by outcome.
type Metrics struct {
	requests *prometheus.CounterVec
}

// NewMetrics returns unregistered collectors.
func NewMetrics() *Metrics {
	return &Metrics{requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "multichannel_partnercenter_webhook_requests_total",
		Help: "Requests to the Partner Center webhook receiver, by outcome: verified, forged, replayed, malformed, unavailable (the signing certificate could not be downloaded), failed (verified, the callback failed).",
	}, []string{"outcome"})}
}

// Register registers the collectors with reg (such as controller-runtime's
// metrics.Registry); registering twice is not an error.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	if err := reg.Register(m.requests); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return err
		}
	}
	return nil
}

// Requests is the counter of one outcome.
func (m *Metrics) Requests(o Outcome) prometheus.Counter {
	return m.requests.WithLabelValues(string(o))
}
