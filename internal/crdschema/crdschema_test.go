package crdschema

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func license(quantity any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "multichannel.partnerops.io/v1alpha1", "kind": "CustomerSubscription",
		"metadata": map[string]any{"name": "m365", "namespace": "woodgrove"},
		"spec": map[string]any{
			"customerRef": "woodgrove", "subscriptionID": "s", "offer": map[string]any{"id": "o"},
			"serviceType": "LicenseBased", "quantity": quantity,
			"channel": map[string]any{"type": "Direct"},
			"term":    map[string]any{"endDate": "2027-01-01T00:00:00Z"},
		},
	}}
}

// TestNumbersAsDecodedByEncodingJSON: a float64 5 is the integer 5, as the API server sees it.
func TestNumbersAsDecodedByEncodingJSON(t *testing.T) {
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []any{float64(5), int64(5), int(5)} {
		if errs := v.Validate(context.Background(), license(q)); len(errs) > 0 {
			t.Errorf("quantity %T(5): %v", q, errs)
		}
	}
	if errs := v.Validate(context.Background(), license(float64(0))); len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), "spec.quantity") {
		t.Errorf("quantity 0: %v", errs)
	}
}

func TestDefaultsApplied(t *testing.T) {
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	obj := license(int64(1))
	if errs := v.Validate(context.Background(), obj); len(errs) > 0 {
		t.Fatal(errs)
	}
	for field, want := range map[string]string{"state": "Active", "commerce": "Legacy"} {
		if got, _, _ := unstructured.NestedString(obj.Object, "spec", field); got != want {
			t.Errorf("spec.%s = %q, want the default %q", field, got, want)
		}
	}
}
