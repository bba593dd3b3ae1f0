// Command manager runs the multichannel operator: the controllers that work out
// whether a CSP partner can take on a customer's subscription bought elsewhere,
// and drive the reseller relationship request, approval and switch in Partner Center.
package main

import (
	"crypto/tls"
	"flag"
	"math"
	"os"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	multichannelv1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers"
	"github.com/partnerops/multichannel-operator/internal/graph"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(multichannelv1alpha1.AddToScheme(scheme))
}

func main() {
	var (
		metricsAddr          string
		pprofAddr            string
		metricsSecure        bool
		probeAddr            string
		enableLeaderElection bool
		leaderElectionNS     string
		shard                string
		enableHTTP2          bool
		partnerCenterRPM     int
		opts                 controllers.Options
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0",
		"Address the metrics endpoint binds to, such as :8443 (HTTPS) or :8080 (HTTP); 0 disables it.")
	flag.BoolVar(&metricsSecure, "metrics-secure", true,
		"Serve metrics over HTTPS, behind Kubernetes authentication and authorization.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the liveness and readiness probes bind to.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0",
		"Address Go's pprof profiles are served on (/debug/pprof/), such as 127.0.0.1:6060; \"0\" (default) serves none.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", false,
		"Elect a leader so that only one replica reconciles at a time.")
	flag.StringVar(&leaderElectionNS, "leader-election-namespace", "",
		"Namespace of the leader election Lease (default: the operator's namespace when running outside a cluster, the pod's inside).")
	flag.StringVar(&shard, "shard", "",
		"Reconcile only the namespaced objects labelled multichannel.partnerops.io/shard=<shard> (empty: every object); replicas of one shard elect their own leader.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false,
		"Serve the metrics endpoint over HTTP/2 as well (off: HTTP/2 Stream Cancellation and Rapid Reset CVEs).")
	flag.IntVar(&partnerCenterRPM, "partner-center-requests-per-minute", pc.DefaultRequestsPerMinute,
		"Requests per minute the operator sends to Partner Center for each partner tenant, one budget shared by every Partner with that tenant "+
			"(Partner Center's guidance: about 500 a minute per tenant on customer and subscription calls). A call over the budget is not sent: "+
			"its object is requeued for when the budget has room, and no worker waits.")
	opts.BindFlags(flag.CommandLine)
	zapOpts := zap.Options{Development: false}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	setupLog := ctrl.Log.WithName("setup")

	// The Go heap of a manager serving 10,000 subscriptions peaks near twice
	// what it holds: with GOMEMLIMIT at 90% of the container's memory limit
	// (its cgroup), the garbage collector works harder near the limit instead
	// of the container being killed. GOMEMLIMIT set in the environment wins.
	if limit, err := memlimit.Set(memlimit.WithProvider(memlimit.FromCgroup)); err != nil {
		setupLog.Info("no memory limit found for GOMEMLIMIT; the Go runtime's default applies", "reason", err.Error())
	} else if limit < math.MaxInt64 {
		setupLog.Info("Go memory limit", "GOMEMLIMIT", limit)
	}

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOptions := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: metricsSecure,
		TLSOpts:       tlsOpts,
	}
	if metricsSecure {
		metricsOptions.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	byObject, err := controllers.ShardCache(shard)
	if err != nil {
		setupLog.Error(err, "invalid --shard")
		os.Exit(1)
	}
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsOptions,
		HealthProbeBindAddress:  probeAddr,
		PprofBindAddress:        pprofAddr,
		LeaderElection:          enableLeaderElection,
		LeaderElectionNamespace: leaderElectionNamespace(leaderElectionNS, opts.OperatorNamespace),
		LeaderElectionID:        controllers.LeaderElectionID(shard),
		// The process exits right after the manager stops, so the lease can be
		// released at once and a standby takes over without waiting for it to expire.
		LeaderElectionReleaseOnCancel: true,
		// managedFields are never read by the controllers: keep them out of the
		// cache. Secrets are cached as metadata only, in the operator's namespace.
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: opts.CacheByObject(byObject)},
	})
	if err != nil {
		setupLog.Error(err, "unable to create the manager")
		os.Exit(1)
	}

	// One budget per partner tenant, kept across the clients the controllers
	// build and rebuild (several Partners with one tenant, rotated secrets).
	limits, configure := pc.NewTenantLimiters(partnerCenterRPM), opts.PartnerCenter
	opts.PartnerCenter = func(c pc.Config) pc.Config {
		if configure != nil {
			c = configure(c)
		}
		c.Limits = limits
		return c
	}
	// Microsoft Graph (GDAP) keeps its own budget per partner tenant.
	graphLimits, configureGraph := pc.NewTenantLimiters(graph.DefaultRequestsPerMinute), opts.Graph
	opts.Graph = func(c graph.Config) graph.Config {
		if configureGraph != nil {
			c = configureGraph(c)
		}
		c.Limits = graphLimits
		return c
	}
	opts.Shard = shard
	if err := controllers.SetupWithManager(mgr, opts); err != nil {
		setupLog.Error(err, "unable to set up the controllers")
		os.Exit(1)
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up the readiness check")
		os.Exit(1)
	}

	setupLog.Info("starting the manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "the manager stopped with an error")
		os.Exit(1)
	}
}

// leaderElectionNamespace is the flag's value, else the operator's namespace
// when one was given, else empty: in a cluster controller-runtime then uses the
// pod's own namespace.
func leaderElectionNamespace(flagValue, operatorNamespace string) string {
	if flagValue != "" {
		return flagValue
	}
	return operatorNamespace
}
