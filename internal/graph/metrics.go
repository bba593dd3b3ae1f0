package graph

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the client's Prometheus collectors.
type Metrics struct {
	requests  *prometheus.CounterVec
	retries   *prometheus.CounterVec
	throttled *prometheus.CounterVec
}

// NewMetrics returns unregistered collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "multichannel_graph_requests_total",
			Help: "Requests sent to Microsoft Graph (GDAP), by operation and HTTP status code (\"error\" when no response came).",
		}, []string{"operation", "code"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "multichannel_graph_retries_total",
			Help: "Microsoft Graph requests sent again after a throttled, failed or lost attempt, by operation.",
		}, []string{"operation"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "multichannel_graph_throttled_total",
			Help: "Microsoft Graph responses with HTTP 429 Too Many Requests, by operation.",
		}, []string{"operation"}),
	}
}

// DefaultMetrics are used by clients configured without Metrics.
var DefaultMetrics = NewMetrics()

// Register registers the collectors with reg; registering twice is not an error.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.requests, m.retries, m.throttled} {
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
