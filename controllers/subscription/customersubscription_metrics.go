package subscription

import (
	"context"
	"errors"
	"sync/atomic"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var subscriptionsDesc = prometheus.NewDesc("multichannel_subscriptions",
	"CustomerSubscriptions by phase and multichannel path.", []string{"phase", "path"}, nil)

// subscriptionCollector counts subscriptions from the cache when scraped, so
// the gauge can never drift from the objects.
type subscriptionCollector struct {
	cache atomic.Pointer[client.Reader]
}

// subscriptions is registered once per process; each manager set up points it at its cache.
var subscriptions = &subscriptionCollector{}

func (c *subscriptionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- subscriptionsDesc }

func (c *subscriptionCollector) Collect(ch chan<- prometheus.Metric) {
	cache := c.cache.Load()
	if cache == nil {
		return
	}
	list := &v1alpha1.CustomerSubscriptionList{}
	// Read only: no deep copy of every subscription on each scrape.
	if err := (*cache).List(context.Background(), list, client.UnsafeDisableDeepCopy); err != nil {
		// The cache is not started yet (or stopping): report nothing rather
		// than an error, which would fail the whole scrape.
		return
	}
	type key struct{ phase, path string }
	counts := map[key]int{}
	for _, s := range list.Items {
		k := key{phase: string(s.Status.Phase), path: ""}
		if k.phase == "" {
			k.phase = string(v1alpha1.PhasePending)
		}
		if e := s.Status.Eligibility; e != nil {
			k.path = string(e.Path)
		}
		counts[k]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(subscriptionsDesc, prometheus.GaugeValue, float64(n), k.phase, k.path)
	}
}

// RegisterMetrics points the subscriptions gauge at cache and registers it once.
func RegisterMetrics(cache client.Reader) error {
	subscriptions.cache.Store(&cache)
	err := metrics.Registry.Register(subscriptions)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		return nil
	}
	return err
}
