package graph

import "github.com/partnerops/multichannel-operator/internal/apiretry"

// Metrics are the client's Prometheus collectors.
type Metrics = apiretry.Metrics

// NewMetrics returns unregistered collectors named multichannel_graph_*.
func NewMetrics() *Metrics { return apiretry.NewMetrics("graph", "Microsoft Graph (GDAP)") }

// DefaultMetrics are used by clients configured without Metrics.
var DefaultMetrics = NewMetrics()
