package partnercenter

import "github.com/partnerops/multichannel-operator/internal/apiretry"

// Metrics are the client's Prometheus collectors.
type Metrics = apiretry.Metrics

// NewMetrics returns unregistered collectors named multichannel_partnercenter_*.
func NewMetrics() *Metrics { return apiretry.NewMetrics("partnercenter", "Partner Center") }

// DefaultMetrics are used by clients configured without Metrics.
var DefaultMetrics = NewMetrics()
