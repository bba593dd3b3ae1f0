// Package deploy renders config/default as kustomize would and applies it to
// a real API server with server-side dry-run: the production manifests must
// apply cleanly and meet the restricted Pod Security standard.
package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/partnerops/multichannel-operator/internal/install"
)

var (
	k8sClient client.Client
	warnings  = &warningRecorder{}
)

// warningRecorder keeps the API server's warnings (PodSecurity reports through them).
type warningRecorder struct {
	mu   sync.Mutex
	list []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.list
	w.list = nil
	return l
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	env := &envtest.Environment{}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting envtest (run 'make test', which sets KUBEBUILDER_ASSETS): %v\n", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = warnings
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if k8sClient, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// render builds a kustomization directory as 'kustomize build' would.
func render(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var objs []*unstructured.Unstructured
	for _, r := range res.Resources() {
		// Through JSON, so that numbers are what the API machinery expects.
		data, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, u)
	}
	return objs
}

func TestDefaultAppliesWithServerSideDryRun(t *testing.T) {
	ctx := context.Background()
	objs := render(t, filepath.Join("..", "..", "config", "default"))
	// Namespaces first, as kubectl apply orders them: the namespaced objects'
	// dry-run needs them to exist.
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			if err := k8sClient.Create(ctx, o.DeepCopy()); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("creating Namespace %s: %v", o.GetName(), err)
			}
		}
	}
	kinds := map[string]int{}
	var deployment *unstructured.Unstructured
	for _, o := range objs {
		kinds[o.GetKind()]++
		if o.GetKind() == "Deployment" {
			deployment = o
		}
		if o.GetKind() == "Namespace" {
			continue
		}
		if err := k8sClient.Create(ctx, o.DeepCopy(), client.DryRunAll); err != nil {
			t.Errorf("server-side dry-run of %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
		for _, w := range warnings.take() {
			t.Errorf("%s %s: the API server warned: %s", o.GetKind(), o.GetName(), w)
		}
	}
	for kind, want := range map[string]int{"CustomResourceDefinition": 6, "Deployment": 1, "Namespace": 1, "ServiceAccount": 1,
		"ClusterRole": 7, "ClusterRoleBinding": 2, "Role": 2, "RoleBinding": 2, "Service": 1,
		"ValidatingAdmissionPolicy": 4, "ValidatingAdmissionPolicyBinding": 4} {
		if kinds[kind] != want {
			t.Errorf("config/default renders %d %s, want %d", kinds[kind], kind, want)
		}
	}
	if deployment == nil {
		t.Fatal("no Deployment")
	}
	checkDeployment(t, ctx, deployment)
}

// checkDeployment: leader election, probes, resources, the metrics endpoint
// behind authentication, and a pod the restricted Pod Security standard admits.
func checkDeployment(t *testing.T, ctx context.Context, u *unstructured.Unstructured) {
	d := &appsv1.Deployment{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, d); err != nil {
		t.Fatal(err)
	}
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%d containers", len(d.Spec.Template.Spec.Containers))
	}
	c := d.Spec.Template.Spec.Containers[0]
	for _, arg := range []string{"--leader-elect", "--metrics-bind-address=:8443"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("manager args %v lack %s", c.Args, arg)
		}
	}
	if slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--metrics-secure=false") }) {
		t.Error("the metrics endpoint is not behind authentication")
	}
	if c.LivenessProbe == nil || c.ReadinessProbe == nil {
		t.Error("no liveness or readiness probe")
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			t.Errorf("no %s request", r)
		}
		if _, ok := c.Resources.Limits[r]; !ok {
			t.Errorf("no %s limit", r)
		}
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("the root filesystem is writable")
	}

	// The API server's PodSecurity admission judges a pod from the template.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: "manager-template", Labels: d.Spec.Template.Labels},
		Spec: d.Spec.Template.Spec}
	if err := k8sClient.Create(ctx, pod, client.DryRunAll); err != nil {
		t.Errorf("the restricted Pod Security standard rejects the manager pod: %v", err)
	}
	// And it would reject a pod that is not restricted: the check is live.
	bad := pod.DeepCopy()
	bad.Name = "privileged"
	bad.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr(true)}
	if err := k8sClient.Create(ctx, bad, client.DryRunAll); err == nil || !strings.Contains(err.Error(), "restricted") {
		t.Errorf("a privileged pod was not rejected by PodSecurity: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestWorkloadIdentityOverlay: config/workload-identity is config/default
// with the manager's projected token for Entra ID where its
// --workload-identity-token-file flag reads it, and the API server admits it.
func TestWorkloadIdentityOverlay(t *testing.T) {
	ctx := context.Background()
	objs := render(t, filepath.Join("..", "..", "config", "workload-identity"))
	var deployment *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			deployment = o
		}
	}
	if deployment == nil {
		t.Fatal("no Deployment")
	}
	d := &appsv1.Deployment{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(deployment.Object, d); err != nil {
		t.Fatal(err)
	}
	if err := install.CheckWorkloadIdentityToken(d.Spec.Template.Spec); err != nil {
		t.Error(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: d.Namespace}}
	if err := k8sClient.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	checkDeployment(t, ctx, deployment)
	if err := k8sClient.Create(ctx, deployment.DeepCopy(), client.DryRunAll); err != nil {
		t.Errorf("server-side dry-run of the Deployment: %v", err)
	}
}
