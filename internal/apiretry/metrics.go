package apiretry

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are a client's Prometheus collectors: requests by operation and
// status; retries, throttled responses and calls held back by the tenant's
// own budget by operation.
type Metrics struct {
	requests    *prometheus.CounterVec
	retries     *prometheus.CounterVec
	throttled   *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
}

// NewMetrics returns unregistered collectors named multichannel_<service>_...
// and described for display, the service's name as people know it.
func NewMetrics(service, display string) *Metrics {
	return &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "multichannel_" + service + "_requests_total",
			Help: "Requests sent to " + display + ", by operation and HTTP status code (\"error\" when no response came).",
		}, []string{"operation", "code"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "multichannel_" + service + "_retries_total",
			Help: display + " requests sent again within one call after a failed or lost attempt, by operation (a throttled call is not retried within the call: its caller calls again later).",
		}, []string{"operation"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "multichannel_" + service + "_throttled_total",
			Help: display + " responses with HTTP 429 Too Many Requests, by operation.",
		}, []string{"operation"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "multichannel_" + service + "_rate_limited_total",
			Help: display + " calls not sent because the partner tenant's own request budget was spent, by operation.",
		}, []string{"operation"}),
	}
}

// Register registers the collectors with reg; registering twice is not an error.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.requests, m.retries, m.throttled, m.rateLimited} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}

// Requests is the request counter of one operation and status code.
func (m *Metrics) Requests(operation, code string) prometheus.Counter {
	return m.requests.WithLabelValues(operation, code)
}

// Retries is the retry counter of one operation.
func (m *Metrics) Retries(operation string) prometheus.Counter {
	return m.retries.WithLabelValues(operation)
}

// Throttled is the throttled-response counter of one operation.
func (m *Metrics) Throttled(operation string) prometheus.Counter {
	return m.throttled.WithLabelValues(operation)
}

// RateLimited is the counter of one operation's calls the tenant's own
// request budget held back.
func (m *Metrics) RateLimited(operation string) prometheus.Counter {
	return m.rateLimited.WithLabelValues(operation)
}
