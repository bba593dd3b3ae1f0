package core

import (
	"flag"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/graph"
	"github.com/partnerops/multichannel-operator/internal/install"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pcwebhook"
)

// Options are the knobs every reconciler shares; main binds most to flags.
type Options struct {
	// MaxConcurrentReconciles is how many objects of one kind reconcile at once.
	MaxConcurrentReconciles int
	// PollInterval is how often the operator asks Partner Center about what
	// another party must do: a customer's approval, a source partner's answer.
	PollInterval time.Duration
	// MaxRequeue bounds how long a scheduled subscription waits before it is
	// evaluated again, even when its notBefore is further away.
	MaxRequeue time.Duration
	// CartWindow is how long a cart takes a customer's purchases from one
	// partner after the first: those ready within it share one cart and one
	// checkout.
	CartWindow time.Duration
	// CredentialsRefresh is how often a Partner's Secret is read again even
	// when it did not change, so that what the token service says of the same
	// credentials is seen. A changed Secret is picked up at once: the Partner
	// reconciler watches the Secrets' metadata.
	CredentialsRefresh time.Duration
	// DeliveryRetry is the first wait after a channel failed to deliver an
	// invitation or reminder; it doubles with each attempt, up to 64 times.
	DeliveryRetry time.Duration

	// ActivityLogInterval is how often each partner's Partner Center
	// activity log is read; zero reads none, and every object polls at
	// PollInterval.
	ActivityLogInterval time.Duration
	// ActivityLogOverlap is how far before its checkpoint each read starts,
	// for records the log shows later than they are dated.
	ActivityLogOverlap time.Duration
	// FallbackPollInterval is how often an object that waits on Partner
	// Center polls while its partner's activity log is read: the log wakes
	// it when what it waits on changes.
	FallbackPollInterval time.Duration

	// Shard is the manager's shard (main's --shard), "" for all objects: each
	// shard keeps its own activity-log checkpoint.
	Shard string

	// WebhookBindAddress is where Partner Center's webhooks are received
	// (WebhookPath); "" or "0" receives none.
	WebhookBindAddress string
	// Webhook adjusts the webhook receiver's options (such as the
	// certificate hosts a test's simulator signs with); nil keeps Partner
	// Center's.
	Webhook func(pcwebhook.Options) pcwebhook.Options

	// OperatorNamespace is the operator's own namespace, the only one where it
	// reads Secrets (partners' credentials).
	OperatorNamespace string
	// AllowedOrigins are origins (scheme://host[:port]) credentials may be
	// sent to besides the hosts of each partner's cloud, such as a simulator.
	AllowedOrigins Origins
	// WorkloadIdentityTokenFile is the operator's projected service-account
	// token (audience api://AzureADTokenExchange) that Partners with
	// spec.partnerCenter.workloadIdentity exchange for Entra ID tokens.
	WorkloadIdentityTokenFile string

	// Clock tells the time; nil is the real clock. Tests move a fake one.
	Clock clock.PassiveClock
	// PartnerCenter adjusts every Partner Center client's configuration (such
	// as its retry policy); nil leaves the defaults.
	PartnerCenter func(pc.Config) pc.Config
	// Graph adjusts every Microsoft Graph client's configuration (GDAP); nil
	// leaves the defaults.
	Graph func(graph.Config) graph.Config
	// SkipNameValidation lets tests start several managers in one process.
	SkipNameValidation bool
	// PanicsCrash makes a reconciler's panic end the process instead of
	// being recovered as an error: tests set it, so that a panic cannot pass
	// for a retried pass.
	PanicsCrash bool
}

// BindFlags registers the options that are flags, with their defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.IntVar(&o.MaxConcurrentReconciles, "max-concurrent-reconciles", 4,
		"How many objects of each kind are reconciled at once.")
	fs.DurationVar(&o.PollInterval, "poll-interval", time.Minute,
		"How often to ask Partner Center about what another party must do (approvals, transfers).")
	fs.DurationVar(&o.MaxRequeue, "max-requeue", 12*time.Hour,
		"Longest a scheduled subscription waits before it is evaluated again.")
	fs.DurationVar(&o.CartWindow, "cart-window", 2*time.Second,
		"How long a cart takes a customer's purchases from one partner after the first: those ready within it are bought with one cart and one checkout.")
	fs.DurationVar(&o.CredentialsRefresh, "credentials-refresh", 10*time.Minute,
		"How often each Partner's credentials Secret is read again even when unchanged (a changed Secret is picked up at once).")
	fs.DurationVar(&o.DeliveryRetry, "delivery-retry", 30*time.Second,
		"The first wait after a channel failed to deliver an invitation or reminder to a customer's contacts; it doubles with each attempt, up to 64 times.")
	fs.DurationVar(&o.ActivityLogInterval, "activity-log-interval", time.Minute,
		"How often to read each partner's Partner Center activity log, waking only the objects each record concerns; 0 reads none, and objects poll every --poll-interval.")
	fs.DurationVar(&o.ActivityLogOverlap, "activity-log-overlap", 15*time.Minute,
		"How far before its checkpoint each activity-log read starts, for records Partner Center shows later than they are dated.")
	fs.DurationVar(&o.FallbackPollInterval, "fallback-poll-interval", 6*time.Hour,
		"How often objects poll Partner Center while their partner's activity log is read (it wakes them when what they wait on changes).")
	fs.StringVar(&o.WebhookBindAddress, "webhook-bind-address", "0",
		"Where to receive Partner Center's webhooks (path "+WebhookPath+"), verified as Partner Center signs them; 0 receives none.")
	fs.StringVar(&o.OperatorNamespace, "operator-namespace", os.Getenv("POD_NAMESPACE"),
		"The operator's own namespace, the only one where it reads Partners' credentials Secrets (default: $POD_NAMESPACE, else the service account's namespace).")
	fs.Var(&o.AllowedOrigins, "allowed-origins",
		"Origins (scheme://host[:port], comma-separated or repeated) that Partners' credentials may be sent to besides their cloud's Microsoft hosts, such as a Partner Center simulator.")
	fs.StringVar(&o.WorkloadIdentityTokenFile, "workload-identity-token-file", defaultWorkloadIdentityTokenFile(),
		"The operator's projected service-account token (audience api://AzureADTokenExchange), exchanged for Entra ID tokens by Partners with spec.partnerCenter.workloadIdentity (default: $AZURE_FEDERATED_TOKEN_FILE, else "+install.WorkloadIdentityTokenFile+").")
}

func defaultWorkloadIdentityTokenFile() string {
	if f := os.Getenv("AZURE_FEDERATED_TOKEN_FILE"); f != "" {
		return f
	}
	return install.WorkloadIdentityTokenFile
}

func (o Options) WithDefaults() Options {
	if o.MaxConcurrentReconciles <= 0 {
		o.MaxConcurrentReconciles = 4
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Minute
	}
	if o.MaxRequeue <= 0 {
		o.MaxRequeue = 12 * time.Hour
	}
	if o.CartWindow <= 0 {
		o.CartWindow = 2 * time.Second
	}
	if o.CredentialsRefresh <= 0 {
		o.CredentialsRefresh = 10 * time.Minute
	}
	if o.DeliveryRetry <= 0 {
		o.DeliveryRetry = 30 * time.Second
	}
	if o.ActivityLogOverlap <= 0 {
		o.ActivityLogOverlap = 15 * time.Minute
	}
	if o.FallbackPollInterval <= 0 {
		o.FallbackPollInterval = 6 * time.Hour
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.OperatorNamespace == "" {
		o.OperatorNamespace = DefaultOperatorNamespace
		if ns, err := os.ReadFile(serviceAccountNamespaceFile); err == nil && len(ns) > 0 {
			o.OperatorNamespace = strings.TrimSpace(string(ns))
		}
	}
	return o
}

// DefaultOperatorNamespace is where config/default installs the operator.
const DefaultOperatorNamespace = "multichannel-system"

const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// CacheByObject returns byObject (which it does not modify) with the one
// restriction the operator's cache needs besides sharding: Secrets are
// cached as metadata only (names and resource versions, never their data),
// and only in the operator's own namespace, the only one its Role lets it
// list and watch. The Partner reconciler watches them, so that a fixed
// Secret takes effect at once. Pass the result as the manager's
// cache.Options.ByObject.
func (o Options) CacheByObject(byObject map[client.Object]cache.ByObject) map[client.Object]cache.ByObject {
	ns := o.WithDefaults().OperatorNamespace
	out := make(map[client.Object]cache.ByObject, len(byObject)+1)
	for obj, by := range byObject {
		out[obj] = by
	}
	out[secretMetadata()] = cache.ByObject{Namespaces: map[string]cache.Config{ns: {}}}
	return out
}

// secretMetadata is a Secret as the cache holds it: metadata only.
func secretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}

func (o Options) ControllerOptions() controller.Options {
	opts := controller.Options{MaxConcurrentReconciles: o.MaxConcurrentReconciles}
	if o.SkipNameValidation {
		skip := true
		opts.SkipNameValidation = &skip
	}
	if o.PanicsCrash {
		crash := false
		opts.RecoverPanic = &crash
	}
	return opts
}

// Poll is when an object that waits on another party asks again: the poll
// interval with up to 10% jitter, so that objects created together do not
// ask Partner Center together forever.
func (o Options) Poll() time.Duration { return wait.Jitter(o.PollInterval, 0.1) }

// Follow is the poll interval of an object that waits on partner's side of
// Partner Center: the slow fallback while the partner's activity log (its
// indirect provider's, for a reseller) is read and wakes it, else poll.
func (o Options) Follow(w *Wakeups, partner *v1alpha1.Partner) time.Duration {
	return wait.Jitter(o.FollowInterval(w, partner), 0.1)
}

// FollowInterval is Follow without the jitter, for poll gates.
func (o Options) FollowInterval(w *Wakeups, partner *v1alpha1.Partner) time.Duration {
	if partner == nil || o.ActivityLogInterval <= 0 {
		return o.PollInterval
	}
	name := partner.Name
	if partner.Spec.CSPType == v1alpha1.CSPTypeIndirectReseller && partner.Spec.IndirectProviderRef != "" {
		name = partner.Spec.IndirectProviderRef
	}
	// A log not read for three intervals no longer wakes anything.
	if w.reportedRecently(name, time.Now(), 3*o.ActivityLogInterval+o.PollInterval) {
		return max(o.FallbackPollInterval, o.PollInterval)
	}
	return o.PollInterval
}

// WebhookPath is where the receiver takes Partner Center's webhooks: the
// URL a partner registers is https://<its host>/partnercenter/webhooks.
const WebhookPath = "/partnercenter/webhooks"
