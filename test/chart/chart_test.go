// Package chart tests the Helm chart in charts/multichannel-operator with
// Helm's own Go library: it lints, renders with default and non-default
// values, applies the result with server-side dry-run to a real API server,
// and checks that the chart is what config/ generates: the same CRDs, the
// same permissions as config/default, the same restricted security context.
package chart

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/partnerops/multichannel-operator/internal/chartgen"
	"github.com/partnerops/multichannel-operator/internal/install"
)

var (
	root      = filepath.Join("..", "..")
	chartDir  = filepath.Join(root, chartgen.ChartDir)
	k8sClient client.Client
	warnings  = &warningRecorder{}
)

const releaseNamespace = "multichannel-system"

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
	env := &envtest.Environment{
		// The Prometheus Operator's kinds, reduced to what the API server
		// needs to accept a ServiceMonitor and a PrometheusRule.
		CRDs: []*apiextensionsv1.CustomResourceDefinition{
			openCRD("monitoring.coreos.com", "ServiceMonitor", "servicemonitors"),
			openCRD("monitoring.coreos.com", "PrometheusRule", "prometheusrules"),
		},
	}
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
	// The release namespace, as README tells users to create it.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: releaseNamespace, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
	}}}
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func openCRD(group, kind, plural string) *apiextensionsv1.CustomResourceDefinition {
	preserve := true
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: kind, ListKind: kind + "List", Plural: plural, Singular: strings.ToLower(kind)},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: &preserve}}}},
		},
	}
}

// nonDefault turns on everything that is off by default and changes the rest.
func nonDefault() map[string]any {
	return map[string]any{
		"image":        map[string]any{"repository": "registry.example.com/mc", "tag": "v9.9.9"},
		"replicaCount": 2,
		"manager": map[string]any{
			"pollInterval": "30s", "logLevel": "debug",
			"extraArgs": []any{"--credentials-refresh=5m"},
			"extraEnv":  []any{map[string]any{"name": "HTTPS_PROXY", "value": "http://proxy.example.com:3128"}},
		},
		"crds":             map[string]any{"keep": false},
		"metrics":          map[string]any{"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}}},
		"prometheusRule":   map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}},
		"dashboard":        map[string]any{"enabled": true},
		"sharding":         map[string]any{"shards": []any{"eu", "us"}},
		"podLabels":        map[string]any{"team": "partners"},
		"tolerations":      []any{map[string]any{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}},
		"serviceAccount":   map[string]any{"annotations": map[string]any{"azure.workload.identity/client-id": "6b1f0a7e-0000-4000-8000-00000000a001"}},
		"workloadIdentity": map[string]any{"enabled": true},
	}
}

// render runs 'helm template' on the chart with vals.
func render(t *testing.T, vals map[string]any) []*unstructured.Unstructured {
	t.Helper()
	return renderAs(t, chartDir, "multichannel", releaseNamespace, vals)
}

// renderAs runs 'helm template --namespace namespace release dir' with vals.
func renderAs(t *testing.T, dir, release, namespace string, vals map[string]any) []*unstructured.Unstructured {
	t.Helper()
	chrt, err := loader.Load(dir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun = true
	install.ClientOnly = true
	install.Replace = true
	install.IncludeCRDs = true
	install.ReleaseName = release
	install.Namespace = namespace
	install.KubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
	rel, err := install.Run(chrt, vals)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	var objs []*unstructured.Unstructured
	for _, doc := range releaseutil.SplitManifests(rel.Manifest) {
		// Through JSON, so that numbers are what the API machinery expects.
		data, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("the chart renders invalid YAML: %v\n%s", err, doc)
		}
		if string(data) == "null" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			t.Fatalf("the chart renders an invalid object: %v\n%s", err, doc)
		}
		objs = append(objs, u)
	}
	sort.SliceStable(objs, func(i, j int) bool { return kindOrder(objs[i]) < kindOrder(objs[j]) })
	return objs
}

// kindOrder applies CRDs first, as Helm does.
func kindOrder(u *unstructured.Unstructured) int {
	if u.GetKind() == "CustomResourceDefinition" {
		return 0
	}
	return 1
}

func kinds(objs []*unstructured.Unstructured) map[string]int {
	k := map[string]int{}
	for _, o := range objs {
		k[o.GetKind()]++
	}
	return k
}

func TestChartIsGeneratedFromConfig(t *testing.T) {
	files, err := chartgen.Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	stale, err := chartgen.Diff(root, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Errorf("the chart is out of date with config/ (%s): run 'make chart'", strings.Join(stale, ", "))
	}
}

func TestLint(t *testing.T) {
	for name, vals := range map[string]map[string]any{"default": nil, "non-default": nonDefault()} {
		t.Run(name, func(t *testing.T) {
			linter := lint.AllWithKubeVersionAndSchemaValidation(chartDir, vals, releaseNamespace,
				&chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}, false)
			for _, m := range linter.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", m)
				}
			}
		})
	}
}

func TestValuesSchemaRejectsMistakes(t *testing.T) {
	for name, vals := range map[string]map[string]any{
		"unknown key":        {"replicas": 2},
		"bad duration":       {"manager": map[string]any{"pollInterval": "soon"}},
		"bad shard name":     {"sharding": map[string]any{"shards": []any{"EU_West"}}},
		"POD_NAMESPACE":      {"manager": map[string]any{"extraEnv": []any{map[string]any{"name": "POD_NAMESPACE", "value": "x"}}}},
		"negative replicas":  {"replicaCount": -1},
		"unknown pullPolicy": {"image": map[string]any{"repository": "x", "pullPolicy": "Sometimes"}},
	} {
		t.Run(name, func(t *testing.T) {
			chrt, err := loader.Load(chartDir)
			if err != nil {
				t.Fatal(err)
			}
			merged, err := chartutil.ToRenderValues(chrt, vals, chartutil.ReleaseOptions{Name: "x", Namespace: "y"}, nil)
			if err == nil {
				vals, _ := merged["Values"].(chartutil.Values)
				err = chartutil.ValidateAgainstSchema(chrt, vals)
			}
			if err == nil || !strings.Contains(err.Error(), "schema") {
				t.Errorf("values.schema.json accepts %v: %v", vals, err)
			} else {
				t.Log(err)
			}
		})
	}
}

func TestDefaultValues(t *testing.T) {
	objs := render(t, nil)
	got := kinds(objs)
	for kind, want := range map[string]int{"CustomResourceDefinition": 6, "Deployment": 1, "Service": 1, "ServiceAccount": 1,
		"ValidatingAdmissionPolicy": 4, "ValidatingAdmissionPolicyBinding": 4} {
		if got[kind] != want {
			t.Errorf("renders %d %s, want %d", got[kind], kind, want)
		}
	}
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule", "ConfigMap", "Namespace"} {
		if got[kind] != 0 {
			t.Errorf("renders %d %s by default", got[kind], kind)
		}
	}
	apply(t, objs)
	deployments := deploymentsOf(t, objs)
	d := deployments[0]
	if d.Name != "multichannel-controller-manager" || *d.Spec.Replicas != 1 {
		t.Errorf("Deployment %s with %d replicas", d.Name, *d.Spec.Replicas)
	}
	c := d.Spec.Template.Spec.Containers[0]
	for _, arg := range []string{"--leader-elect", "--metrics-bind-address=:8443", "--health-probe-bind-address=:8081"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("manager args %v lack %s", c.Args, arg)
		}
	}
	if c.Image != "ghcr.io/partnerops/multichannel-operator:v0.1.0" {
		t.Errorf("image %s", c.Image)
	}
	checkPodNamespace(t, c)
	checkSecurityContext(t, d)
	checkPodSecurity(t, d)
	if err := install.CheckWorkloadIdentityToken(d.Spec.Template.Spec); err == nil || len(d.Spec.Template.Spec.Volumes) > 0 {
		t.Error("by default the manager gets a projected token (workloadIdentity.enabled is false)")
	}
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" && o.GetAnnotations()["helm.sh/resource-policy"] != "keep" {
			t.Errorf("CRD %s is not kept on uninstall", o.GetName())
		}
	}
}

func TestNonDefaultValues(t *testing.T) {
	objs := render(t, nonDefault())
	got := kinds(objs)
	for kind, want := range map[string]int{"Deployment": 2, "ServiceMonitor": 1, "PrometheusRule": 1, "ConfigMap": 1} {
		if got[kind] != want {
			t.Errorf("renders %d %s, want %d", got[kind], kind, want)
		}
	}
	apply(t, objs)
	deployments := deploymentsOf(t, objs)
	for i, shard := range []string{"eu", "us"} {
		d := deployments[i]
		if d.Name != "multichannel-controller-manager-"+shard {
			t.Errorf("Deployment %s for shard %s", d.Name, shard)
		}
		c := d.Spec.Template.Spec.Containers[0]
		for _, arg := range []string{"--shard=" + shard, "--poll-interval=30s", "--zap-log-level=debug", "--credentials-refresh=5m"} {
			if !slices.Contains(c.Args, arg) {
				t.Errorf("shard %s: manager args %v lack %s", shard, c.Args, arg)
			}
		}
		if d.Spec.Selector.MatchLabels["multichannel.partnerops.io/shard"] != shard {
			t.Errorf("shard %s: selector %v does not select the shard alone", shard, d.Spec.Selector.MatchLabels)
		}
		if c.Image != "registry.example.com/mc:v9.9.9" || *d.Spec.Replicas != 2 {
			t.Errorf("shard %s: image %s, %d replicas", shard, c.Image, *d.Spec.Replicas)
		}
		checkPodNamespace(t, c)
		checkSecurityContext(t, d)
		checkPodSecurity(t, d)
		if err := install.CheckWorkloadIdentityToken(d.Spec.Template.Spec); err != nil {
			t.Errorf("shard %s with workloadIdentity.enabled: %v", shard, err)
		}
	}
	for _, o := range objs {
		switch o.GetKind() {
		case "ServiceAccount":
			if o.GetAnnotations()["azure.workload.identity/client-id"] == "" {
				t.Errorf("ServiceAccount %s lacks serviceAccount.annotations: %v", o.GetName(), o.GetAnnotations())
			}
		case "CustomResourceDefinition":
			if _, ok := o.GetAnnotations()["helm.sh/resource-policy"]; ok {
				t.Errorf("CRD %s is kept though crds.keep is false", o.GetName())
			}
		case "PrometheusRule", "ServiceMonitor":
			if o.GetLabels()["release"] != "prom" {
				t.Errorf("%s lacks the labels Prometheus selects it by: %v", o.GetKind(), o.GetLabels())
			}
		case "ConfigMap":
			data, _, _ := unstructured.NestedString(o.Object, "data", "multichannel-operator.json")
			if !strings.Contains(data, "multichannel_") {
				t.Errorf("the dashboard ConfigMap holds no dashboard over the operator's metrics")
			}
		}
	}
}

func TestWithoutCRDsAndMetrics(t *testing.T) {
	objs := render(t, map[string]any{"crds": map[string]any{"install": false}, "metrics": map[string]any{"enabled": false}})
	got := kinds(objs)
	if got["CustomResourceDefinition"] != 0 || got["Service"] != 0 {
		t.Errorf("renders %v", got)
	}
	d := deploymentsOf(t, objs)[0]
	if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--metrics-bind-address=0") {
		t.Errorf("metrics are still served: %v", d.Spec.Template.Spec.Containers[0].Args)
	}
	apply(t, objs)
}

// apply applies objs with server-side dry-run, as 'kubectl apply
// --server-side --dry-run=server' would; no warning is expected.
func apply(t *testing.T, objs []*unstructured.Unstructured, opts ...client.ApplyOption) {
	t.Helper()
	if len(opts) == 0 {
		opts = []client.ApplyOption{client.DryRunAll}
	}
	opts = append(opts, client.FieldOwner("helm-chart-test"), client.ForceOwnership)
	ctx := context.Background()
	warnings.take()
	for _, o := range objs {
		if o.GetNamespace() == "" && o.GetKind() != "CustomResourceDefinition" && !strings.HasPrefix(o.GetKind(), "Cluster") &&
			!strings.HasPrefix(o.GetKind(), "ValidatingAdmissionPolicy") {
			t.Errorf("%s %s has no namespace", o.GetKind(), o.GetName())
		}
		err := k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()), opts...)
		if err != nil {
			t.Errorf("server-side dry-run apply of %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
		for _, w := range warnings.take() {
			t.Errorf("%s %s: the API server warned: %s", o.GetKind(), o.GetName(), w)
		}
	}
}

func deploymentsOf(t *testing.T, objs []*unstructured.Unstructured) []*appsv1.Deployment {
	t.Helper()
	var out []*appsv1.Deployment
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		d := &appsv1.Deployment{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		t.Fatal("no Deployment")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func checkPodNamespace(t *testing.T, c corev1.Container) {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == "POD_NAMESPACE" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace" {
			return
		}
	}
	t.Errorf("POD_NAMESPACE is not set from the downward API: %v", c.Env)
}

// configManager is the Deployment of config/manager.
func configManager(t *testing.T) *appsv1.Deployment {
	t.Helper()
	for _, o := range kustomize(t, filepath.Join(root, "config", "default")) {
		if o.GetKind() == "Deployment" {
			d := &appsv1.Deployment{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, d); err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	t.Fatal("config/default has no Deployment")
	return nil
}

// checkSecurityContext holds the chart's security contexts, probes and
// service account equal to config/manager's.
func checkSecurityContext(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	want := configManager(t)
	if !reflect.DeepEqual(d.Spec.Template.Spec.SecurityContext, want.Spec.Template.Spec.SecurityContext) {
		t.Errorf("%s: pod security context %+v, config/manager has %+v", d.Name, d.Spec.Template.Spec.SecurityContext, want.Spec.Template.Spec.SecurityContext)
	}
	got, exp := d.Spec.Template.Spec.Containers[0], want.Spec.Template.Spec.Containers[0]
	if !reflect.DeepEqual(got.SecurityContext, exp.SecurityContext) {
		t.Errorf("%s: container security context %+v, config/manager has %+v", d.Name, got.SecurityContext, exp.SecurityContext)
	}
	if !reflect.DeepEqual(got.LivenessProbe, exp.LivenessProbe) || !reflect.DeepEqual(got.ReadinessProbe, exp.ReadinessProbe) {
		t.Errorf("%s: probes differ from config/manager's", d.Name)
	}
	if d.Spec.Template.Spec.ServiceAccountName != want.Spec.Template.Spec.ServiceAccountName {
		t.Errorf("%s: service account %s, config/default has %s", d.Name, d.Spec.Template.Spec.ServiceAccountName, want.Spec.Template.Spec.ServiceAccountName)
	}
}

// checkPodSecurity has the API server's PodSecurity admission judge the pod
// template in the restricted release namespace.
func checkPodSecurity(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: releaseNamespace, Name: "manager-template", Labels: d.Spec.Template.Labels},
		Spec: *d.Spec.Template.Spec.DeepCopy()}
	if err := k8sClient.Create(context.Background(), pod, client.DryRunAll); err != nil {
		t.Errorf("%s: the restricted Pod Security standard rejects the manager pod: %v", d.Name, err)
	}
}

func kustomize(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var objs []*unstructured.Unstructured
	for _, r := range res.Resources() {
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

// TestCRDsAreConfigCRDs: the chart's CRDs are config/crd/bases, byte for
// byte in meaning, with only the release's labels and the keep annotation added.
func TestCRDsAreConfigCRDs(t *testing.T) {
	want := map[string]*unstructured.Unstructured{}
	for _, o := range kustomize(t, filepath.Join(root, "config", "crd")) {
		want[o.GetName()] = o
	}
	got := map[string]*unstructured.Unstructured{}
	for _, o := range render(t, nil) {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		o = o.DeepCopy()
		o.SetLabels(nil)
		ann := o.GetAnnotations()
		delete(ann, "helm.sh/resource-policy")
		o.SetAnnotations(ann)
		got[o.GetName()] = o
	}
	if len(got) != len(want) {
		t.Errorf("the chart has %d CRDs, config/crd %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("the chart lacks CRD %s", name)
			continue
		}
		if !reflect.DeepEqual(g.Object, w.Object) {
			t.Errorf("CRD %s differs from config/crd", name)
		}
	}
}

// grant is one object's permissions, stripped of what does not grant anything.
type grant struct {
	Kind, Namespace, Name string
	Rules, RoleRef        any
	Subjects              any
	AggregationRule       any
}

func grants(objs []*unstructured.Unstructured) map[string]grant {
	out := map[string]grant{}
	for _, o := range objs {
		switch o.GetKind() {
		case "ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding", "ServiceAccount":
		default:
			continue
		}
		g := grant{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName(),
			Rules: o.Object["rules"], RoleRef: o.Object["roleRef"], Subjects: o.Object["subjects"], AggregationRule: o.Object["aggregationRule"]}
		out[g.Kind+" "+g.Namespace+"/"+g.Name] = g
	}
	return out
}

// TestPermissionsMatchConfigDefault: installing with Helm or with
// config/default grants exactly the same permissions to the same subjects.
func TestPermissionsMatchConfigDefault(t *testing.T) {
	want := grants(kustomize(t, filepath.Join(root, "config", "default")))
	for name, vals := range map[string]map[string]any{"default": nil, "non-default": nonDefault()} {
		t.Run(name, func(t *testing.T) {
			got := grants(render(t, vals))
			for k, w := range want {
				g, ok := got[k]
				if !ok {
					t.Errorf("the chart lacks %s", k)
					continue
				}
				if !reflect.DeepEqual(g, w) {
					t.Errorf("%s differs:\nchart:          %+v\nconfig/default: %+v", k, g, w)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("the chart grants %s, which config/default does not", k)
				}
			}
		})
	}
}

// TestGitOpsExamplesInstall does what Argo CD and Flux do with the examples
// in config/gitops: render the chart at the path they name, with their
// release name, namespace and values, and apply the result (for real, with
// server-side apply, as Argo CD's ServerSideApply=true does).
func TestGitOpsExamplesInstall(t *testing.T) {
	type example struct {
		path, release, namespace string
		values                   map[string]any
	}
	read := func(file string) []map[string]any {
		data, err := os.ReadFile(filepath.Join(root, "config", "gitops", file))
		if err != nil {
			t.Fatal(err)
		}
		var docs []map[string]any
		for _, doc := range releaseutil.SplitManifests(string(data)) {
			m := map[string]any{}
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if len(m) > 0 {
				docs = append(docs, m)
			}
		}
		return docs
	}
	str := func(m map[string]any, path ...string) string {
		s, _, _ := unstructured.NestedString(m, path...)
		return s
	}
	examples := map[string]example{}
	for _, app := range read(filepath.Join("argocd", "application.yaml")) {
		values, _, _ := unstructured.NestedMap(app, "spec", "source", "helm", "valuesObject")
		examples["Argo CD Application"] = example{path: str(app, "spec", "source", "path"), release: str(app, "spec", "source", "helm", "releaseName"),
			namespace: str(app, "spec", "destination", "namespace"), values: values}
	}
	for _, o := range read(filepath.Join("flux", "helmrelease.yaml")) {
		if o["kind"] != "HelmRelease" {
			continue
		}
		values, _, _ := unstructured.NestedMap(o, "spec", "values")
		examples["Flux HelmRelease"] = example{path: str(o, "spec", "chart", "spec", "chart"), release: str(o, "spec", "releaseName"),
			namespace: str(o, "metadata", "namespace"), values: values}
	}
	if len(examples) != 2 {
		t.Fatalf("found %d examples, want the Argo CD Application and the Flux HelmRelease", len(examples))
	}
	for name, ex := range examples {
		t.Run(name, func(t *testing.T) {
			if filepath.Clean(ex.path) != chartgen.ChartDir {
				t.Fatalf("the example installs %s, not %s", ex.path, chartgen.ChartDir)
			}
			if ex.namespace != releaseNamespace || ex.release == "" {
				t.Fatalf("release %q in namespace %q", ex.release, ex.namespace)
			}
			objs := renderAs(t, filepath.Join(root, ex.path), ex.release, ex.namespace, ex.values)
			apply(t, objs, client.DryRunAll)
		})
	}
	// Then install one of them for real, as a sync would.
	ex := examples["Argo CD Application"]
	apply(t, renderAs(t, filepath.Join(root, ex.path), ex.release, ex.namespace, ex.values), &client.ApplyOptions{})
	d := &appsv1.Deployment{}
	if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: releaseNamespace, Name: "multichannel-controller-manager"}, d); err != nil {
		t.Fatalf("after the sync: %v", err)
	}
	if *d.Spec.Replicas != 2 {
		t.Errorf("the synced Deployment has %d replicas, the Application asks for 2", *d.Spec.Replicas)
	}
}

// TestWebhookReceiver: enabled, the receiver gets its flag, its container
// port and its Service; with sharding it is refused, since an event would
// reach one shard's manager only.
func TestWebhookReceiver(t *testing.T) {
	objs := render(t, map[string]any{"webhookReceiver": map[string]any{"enabled": true}})
	var svc *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "Service" && strings.HasSuffix(o.GetName(), "webhook-receiver") {
			svc = o
		}
	}
	if svc == nil {
		t.Fatal("no webhook-receiver Service")
	}
	if ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports"); len(ports) != 1 || ports[0].(map[string]any)["targetPort"] != "webhooks" {
		t.Errorf("Service ports %v", ports)
	}
	c := deploymentsOf(t, objs)[0].Spec.Template.Spec.Containers[0]
	if !slices.Contains(c.Args, "--webhook-bind-address=:9292") || !slices.Contains(c.Args, "--activity-log-interval=1m") {
		t.Errorf("manager args %v", c.Args)
	}
	if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "webhooks" && p.ContainerPort == 9292 }) {
		t.Errorf("container ports %v", c.Ports)
	}
	apply(t, objs)

	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun, install.ClientOnly, install.ReleaseName, install.Namespace = true, true, "multichannel", releaseNamespace
	install.KubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
	_, err = install.Run(chrt, map[string]any{"webhookReceiver": map[string]any{"enabled": true}, "sharding": map[string]any{"shards": []any{"eu"}}})
	if err == nil || !strings.Contains(err.Error(), "would reach one shard") {
		t.Errorf("the receiver with sharding: %v, want refused", err)
	}
}
