// Command dev runs the whole operator on a developer's machine (make dev): a
// local kube-apiserver and etcd (state under bin/dev, so a second run resumes
// the same cluster), the CRDs, the Partner Center simulator with automatic
// approval, the samples, and the operator in the foreground. Ctrl-C stops
// every process it started.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers"
	"github.com/partnerops/multichannel-operator/internal/check"
	"github.com/partnerops/multichannel-operator/internal/crdschema"
	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
	"github.com/partnerops/multichannel-operator/internal/install"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

const (
	fieldOwner      = "multichannel-dev"
	systemNamespace = "multichannel-system"
)

type options struct {
	dir          string
	crds         string
	samples      string
	simAddr      string
	autoApprove  time.Duration
	pollInterval time.Duration
	namespace    string
}

func main() {
	var o options
	flag.StringVar(&o.dir, "dir", filepath.Join("bin", "dev"), "Directory for the cluster's and the simulator's state, the kubeconfig and the env file.")
	flag.StringVar(&o.crds, "crds", filepath.Join("config", "crd", "bases"), "CRDs to install.")
	flag.StringVar(&o.samples, "samples", filepath.Join("config", "samples"), "Manifests to apply.")
	flag.StringVar(&o.simAddr, "sim-address", "127.0.0.1:18090", "Address of the Partner Center simulator (fixed, because the Partner objects name it).")
	flag.DurationVar(&o.autoApprove, "auto-approve-after", 3*time.Second, "The simulator's customers and source partners accept this long after a request.")
	flag.DurationVar(&o.pollInterval, "poll-interval", 2*time.Second, "The operator's Partner Center polling interval.")
	flag.StringVar(&o.namespace, "namespace", "default", "Namespace of the samples that name none.")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseDevMode(true)))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "make dev:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return errors.New("KUBEBUILDER_ASSETS is not set: run 'make dev', which builds kube-apiserver and etcd first")
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "etcd"), 0o700); err != nil {
		return err
	}

	// The control plane; etcd keeps its data under bin/dev/etcd across runs.
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{o.crds},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
		ControlPlane:          envtest.ControlPlane{Etcd: &envtest.Etcd{DataDir: filepath.Join(dir, "etcd")}},
	}
	fmt.Println("starting etcd and kube-apiserver (state in", filepath.Join(o.dir, "etcd")+")")
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting the control plane: %w", err)
	}
	defer func() {
		fmt.Println("stopping kube-apiserver and etcd")
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the control plane:", err)
		}
	}()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(env, kubeconfig); err != nil {
		return err
	}

	// The Partner Center simulator; its state outlives the run too.
	simulator, err := sim.New(sim.Options{StatePath: filepath.Join(dir, "partnercenter.json"), AutoApproveAfter: o.autoApprove})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.simAddr)
	if err != nil {
		return fmt.Errorf("the simulator cannot listen on %s (is another make dev running?): %w", o.simAddr, err)
	}
	// The Microsoft Graph simulator (GDAP) shares the listener and the token
	// endpoint; simulated customers approve GDAP requests after the same delay.
	graphSimulator, err := graphsim.New(graphsim.Options{StatePath: filepath.Join(dir, "graph.json"), AutoApproveAfter: o.autoApprove})
	if err != nil {
		return err
	}

	// Over TLS, as Entra ID's token service: its certificate is trusted here
	// and, through SSL_CERT_FILE in the env file, by kubectl and curl.
	certFile, keyFile, err := sim.WriteLocalhostCertificate(dir)
	if err != nil {
		return err
	}
	if err := sim.Trust(certFile); err != nil {
		return err
	}
	// The env file's bundle: the system's roots and the simulator's, so that a
	// shell that sources it still reaches real hosts (the module proxy).
	bundle := filepath.Join(dir, "ca-bundle.crt")
	simCert, err := os.ReadFile(certFile)
	if err != nil {
		return err
	}
	system, _ := os.ReadFile("/etc/ssl/certs/ca-certificates.crt") // absent elsewhere: the simulator's alone
	if err := os.WriteFile(bundle, append(append(system, '\n'), simCert...), 0o600); err != nil {
		return err
	}
	simURL := "https://" + ln.Addr().String()
	simServer := &http.Server{Handler: graphsim.Compose(graphSimulator, simulator), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = simServer.ServeTLS(ln, certFile, keyFile) }()
	defer func() {
		fmt.Println("stopping the Partner Center simulator")
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = simServer.Shutdown(shutdown)
		_ = simulator.Close()
		_ = graphSimulator.Close()
	}()
	envFile := filepath.Join(dir, "env")
	if err := os.WriteFile(envFile, []byte(fmt.Sprintf("export KUBECONFIG=%s\nexport PARTNER_CENTER_ENDPOINT=%s\nexport SSL_CERT_FILE=%s\nexport CURL_CA_BUNDLE=%s\n", kubeconfig, simURL, bundle, bundle)), 0o600); err != nil {
		return err
	}

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	if err := installAdmissionAndRoles(ctx, c); err != nil {
		return err
	}
	applied, err := applySamples(ctx, c, o, simURL, func(tenant, address string) error {
		if err := graphSimulator.AddMailbox(tenant, address); err != nil {
			return err
		}
		return graphSimulator.Grant(tenant, graphsim.PermissionMailSend, graphsim.PermissionMailRead)
	})
	if err != nil {
		return err
	}

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultTransform: cache.TransformStripManagedFields()},
	})
	if err != nil {
		return err
	}
	if err := controllers.SetupWithManager(mgr, controllers.Options{PollInterval: o.pollInterval, MaxRequeue: time.Minute,
		OperatorNamespace: systemNamespace, AllowedOrigins: controllers.Origins{simURL}}); err != nil {
		return err
	}
	printNextSteps(o, envFile, simURL, applied)
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("the operator stopped: %w", err)
	}
	return nil
}

// writeKubeconfig writes an admin kubeconfig for kubectl.
func writeKubeconfig(env *envtest.Environment, path string) error {
	admin, err := env.AddUser(envtest.User{Name: "dev-admin", Groups: []string{"system:masters"}}, &rest.Config{})
	if err != nil {
		return fmt.Errorf("creating the admin user: %w", err)
	}
	data, err := admin.KubeConfig()
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// installAdmissionAndRoles installs the admission check on decisions, the
// admission warnings and the seed's roles, as config/default does.
func installAdmissionAndRoles(ctx context.Context, c client.Client) error {
	objs, err := install.Objects()
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	return nil
}

// giveMailbox creates, in the Graph simulator, the mailbox a Partner's
// spec.delivery.mail sends from, with its application's consent to send
// and find mail there.
func giveMailbox(partner *unstructured.Unstructured, mailbox func(tenant, address string) error) error {
	from, _, _ := unstructured.NestedString(partner.Object, "spec", "delivery", "mail", "from")
	tenant, _, _ := unstructured.NestedString(partner.Object, "spec", "tenantID")
	if from == "" {
		return nil
	}
	return mailbox(tenant, from)
}

// applySamples applies the samples with server-side apply, pointing the
// Partners that have credentials at the simulator and giving them a Secret.
func applySamples(ctx context.Context, c client.Client, o options, simURL string, mailbox func(tenant, address string) error) (int, error) {
	validator, err := crdschema.New()
	if err != nil {
		return 0, err
	}
	docs, err := check.Load([]string{o.samples}, nil)
	if err != nil {
		return 0, err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: systemNamespace}}
	if err := c.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
		return 0, err
	}
	n := 0
	for _, d := range docs {
		u := d.Object
		if u.GroupVersionKind().Group != v1alpha1.GroupVersion.Group {
			continue
		}
		if validator.Namespaced(u.GroupVersionKind()) && u.GetNamespace() == "" {
			u.SetNamespace(o.namespace)
		}
		if u.GetKind() == "Partner" {
			if err := pointAtSimulator(ctx, c, u, simURL); err != nil {
				return n, err
			}
			if err := labelForPartner(ctx, c, u, o.namespace); err != nil {
				return n, err
			}
			if err := giveMailbox(u, mailbox); err != nil {
				return n, err
			}
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			return n, fmt.Errorf("applying %s (%s %s): %w", d.Source, u.GetKind(), u.GetName(), err)
		}
		n++
	}
	return n, nil
}

// labelForPartner gives the samples' namespace the labels a Partner's
// spec.namespaceSelector matches, so that the samples may act through it.
func labelForPartner(ctx context.Context, c client.Client, u *unstructured.Unstructured, namespace string) error {
	want, found, _ := unstructured.NestedStringMap(u.Object, "spec", "namespaceSelector", "matchLabels")
	if !found || len(want) == 0 {
		return nil
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if err := c.Get(ctx, client.ObjectKeyFromObject(ns), ns); err != nil {
		return fmt.Errorf("reading namespace %s to label it for Partner %s: %w", namespace, u.GetName(), err)
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	for k, v := range want {
		ns.Labels[k] = v
	}
	return c.Update(ctx, ns)
}

// pointAtSimulator makes a Partner with credentials talk to the simulator, and
// creates the Secret it names, in the operator's namespace, with credentials
// the simulator accepts.
func pointAtSimulator(ctx context.Context, c client.Client, u *unstructured.Unstructured, simURL string) error {
	ref, found, _ := unstructured.NestedStringMap(u.Object, "spec", "partnerCenter", "credentialsSecretRef")
	if !found {
		return nil
	}
	for _, field := range []string{"endpoint", "authorityHost", "graphEndpoint", "resourceManagerEndpoint"} {
		if err := unstructured.SetNestedField(u.Object, simURL, "spec", "partnerCenter", field); err != nil {
			return err
		}
	}
	if ns := ref["namespace"]; ns != "" && ns != systemNamespace {
		return fmt.Errorf("partner %s names a Secret in namespace %s; the operator reads Secrets only in %s", u.GetName(), ns, systemNamespace)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: systemNamespace, Name: ref["name"]},
		StringData: map[string]string{
			v1alpha1.SecretKeyClientID:     "dev-" + u.GetName(),
			v1alpha1.SecretKeyClientSecret: "dev-secret",
			v1alpha1.SecretKeyRefreshToken: "dev-refresh-token",
		}}
	if err := c.Create(ctx, secret); client.IgnoreAlreadyExists(err) != nil {
		return fmt.Errorf("creating Secret %s/%s: %w", systemNamespace, ref["name"], err)
	}
	return nil
}

func printNextSteps(o options, envFile, simURL string, applied int) {
	fmt.Printf(`
The operator is running, with %d sample objects applied and Partner Center
simulated at %s (customers and source partners accept after %s).

In another terminal:

  source %s
  kubectl get multichannel -A
  kubectl get csub -A -w
  kubectl describe csub woodgrove-azure-fabrikam

woodgrove-azure-ea waits for a person: the ApprovalPolicy does not allow
cancelling a source subscription. Authorize it, then record the cancellation:

  go run ./cmd/kubectl-multichannel status woodgrove-azure-ea -n %[6]s
  go run ./cmd/kubectl-multichannel approve woodgrove-azure-ea -n %[6]s --reason "EA cancellation agreed"
  kubectl patch csub woodgrove-azure-ea -n %[6]s --type merge -p '{"spec":{"state":"Cancelled"}}'

  go run ./cmd/kubectl-multichannel check -f %[5]s
  curl -s $PARTNER_CENTER_ENDPOINT/sim/stats

Microsoft Graph (GDAP) is simulated on the same address; Woodgrove approves
Contoso's GDAP relationship after the same delay:

  kubectl get gdap -n %[6]s -o wide
  kubectl get cust -n %[6]s
  curl -s $PARTNER_CENTER_ENDPOINT/sim/graph/v1/stats

Contoso mails Woodgrove's contacts what Woodgrove must do (the reseller
request, the GDAP approval) from its simulated mailbox, and reminds them;
mailsSent counts the messages:

  go run ./cmd/kubectl-multichannel status cust/woodgrove -n %[6]s
  curl -s $PARTNER_CENTER_ENDPOINT/sim/graph/v1/stats | grep -o '"mailsSent":[0-9]*'

Ctrl-C stops the operator, the simulator, kube-apiserver and etcd; the next
make dev resumes the same cluster (delete %[7]s to start afresh).

`, applied, simURL, o.autoApprove, envFile, o.samples, o.namespace, o.dir)
}
