package crd

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// TestSamplesAccepted creates every object of every file in config/samples.
func TestSamplesAccepted(t *testing.T) {
	ns := newNamespace(t)
	files, err := filepath.Glob(filepath.Join(root, "config", "samples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]int{}
	for _, file := range files {
		if filepath.Base(file) == "kustomization.yaml" {
			continue
		}
		objs := readObjects(t, file)
		if len(objs) == 0 {
			t.Errorf("%s: no objects", file)
		}
		for i, obj := range objs {
			if obj.GetKind() != "Partner" {
				obj.SetNamespace(ns)
			}
			if errs := offlineValidator.Validate(context.Background(), obj.DeepCopy()); len(errs) > 0 {
				t.Errorf("%s, document %d (%s %s): the offline validator rejects it: %v", file, i+1, obj.GetKind(), obj.GetName(), errs)
			}
			if err := k8sClient.Create(context.Background(), obj); err != nil {
				t.Errorf("%s, document %d (%s %s) was rejected: %v", file, i+1, obj.GetKind(), obj.GetName(), err)
				continue
			}
			created[obj.GetKind()]++
		}
	}
	for _, kind := range []string{"Partner", "Customer", "CustomerSubscription", "ResellerRelationship", "ApprovalPolicy"} {
		if created[kind] == 0 {
			t.Errorf("config/samples has no accepted %s", kind)
		}
	}
}

// TestDefaults checks the defaults the API documents (kubectl explain) are applied by the schema.
func TestDefaults(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()

	csub := &v1alpha1.CustomerSubscription{}
	csub.Namespace, csub.Name = ns, "defaults"
	csub.Spec = v1alpha1.CustomerSubscriptionSpec{
		CustomerRef: "c", SubscriptionID: "s", Offer: v1alpha1.Offer{ID: "o"},
		ServiceType: v1alpha1.ServiceUsageBased, Channel: v1alpha1.Channel{Type: v1alpha1.ChannelDirect},
		Azure: &v1alpha1.AzureSource{},
	}
	if err := k8sClient.Create(ctx, csub); err != nil {
		t.Fatal(err)
	}
	if csub.Spec.State != v1alpha1.SubscriptionActive || csub.Spec.Commerce != v1alpha1.CommerceLegacy ||
		csub.Spec.Azure.SourceDisposition != v1alpha1.SourceCoexist {
		t.Errorf("CustomerSubscription defaults: state=%q commerce=%q sourceDisposition=%q, want Active, Legacy, Coexist",
			csub.Spec.State, csub.Spec.Commerce, csub.Spec.Azure.SourceDisposition)
	}

	rr := &v1alpha1.ResellerRelationship{}
	rr.Namespace, rr.Name = ns, "defaults"
	rr.Spec = v1alpha1.ResellerRelationshipSpec{PartnerRef: "p", CustomerRef: "c"}
	if err := k8sClient.Create(ctx, rr); err != nil {
		t.Fatal(err)
	}
	if rr.Spec.DelegatedAdmin == nil || *rr.Spec.DelegatedAdmin || rr.Spec.ExpiresAfter == nil || rr.Spec.ExpiresAfter.Hours() != 720 {
		t.Errorf("ResellerRelationship defaults: delegatedAdmin=%v expiresAfter=%v, want false (DAP is retired), 720h", rr.Spec.DelegatedAdmin, rr.Spec.ExpiresAfter)
	}

	cust := &v1alpha1.Customer{}
	cust.Namespace, cust.Name = ns, "defaults"
	cust.Spec = v1alpha1.CustomerSpec{DisplayName: "C", TenantID: "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e", Country: "US"}
	if err := k8sClient.Create(ctx, cust); err != nil {
		t.Fatal(err)
	}
	if cust.Spec.Cloud != v1alpha1.CloudPublic {
		t.Errorf("Customer cloud default = %q, want Public", cust.Spec.Cloud)
	}
}

// TestEveryFieldDocumented walks the installed CRDs' schemas: every property
// must carry a description, so that kubectl explain is useful for each field.
func TestEveryFieldDocumented(t *testing.T) {
	list := &apiextensionsv1.CustomResourceDefinitionList{}
	if err := k8sClient.List(context.Background(), list); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, crd := range list.Items {
		if crd.Spec.Group != v1alpha1.GroupVersion.Group {
			continue
		}
		seen++
		if !contains(crd.Spec.Names.Categories, "multichannel") {
			t.Errorf("%s: not in category multichannel", crd.Name)
		}
		for _, v := range crd.Spec.Versions {
			s := v.Schema.OpenAPIV3Schema
			for _, top := range []string{"spec", "status"} {
				prop, ok := s.Properties[top]
				if !ok {
					t.Errorf("%s: no %s", crd.Name, top)
					continue
				}
				checkDescribed(t, crd.Spec.Names.Kind+"."+top, prop)
			}
		}
	}
	if seen != 6 {
		t.Errorf("found %d CRDs of group %s, want 6", seen, v1alpha1.GroupVersion.Group)
	}
}

func checkDescribed(t *testing.T, path string, s apiextensionsv1.JSONSchemaProps) {
	t.Helper()
	if strings.TrimSpace(s.Description) == "" {
		t.Errorf("%s has no description (kubectl explain would print nothing)", path)
	}
	// metav1.Condition and LabelSelector are documented upstream.
	if strings.HasSuffix(path, ".conditions") || strings.HasSuffix(path, ".partnerSelector") {
		return
	}
	for name, p := range s.Properties {
		checkDescribed(t, path+"."+name, p)
	}
	if s.Items != nil && s.Items.Schema != nil {
		for name, p := range s.Items.Schema.Properties {
			checkDescribed(t, path+"[]."+name, p)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readObjects decodes every document of a multi-document YAML file.
func readObjects(t *testing.T, file string) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var objs []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs
			}
			t.Fatalf("%s: %v", file, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		objs = append(objs, obj)
	}
}
