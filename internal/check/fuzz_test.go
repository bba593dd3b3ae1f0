package check_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/partnerops/multichannel-operator/internal/check"
	"github.com/partnerops/multichannel-operator/internal/crdschema"
)

// FuzzLoadAndEvaluate: whatever bytes reach kubectl multichannel check, the
// loader returns documents or an *InputError naming where, and the evaluation
// returns rows or errors, never a panic; an evaluation never returns both.
func FuzzLoadAndEvaluate(f *testing.F) {
	samples, _ := filepath.Glob(filepath.Join("..", "..", "config", "samples", "*.yaml"))
	for _, p := range samples {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{kind: Partner}]\n"))
	f.Add([]byte("---\n---\n{}\n"))
	f.Add([]byte(`{"apiVersion":"multichannel.partnerops.io/v1alpha1","kind":"CustomerSubscription","spec":{"quantity":1e400}}`))
	validator, err := crdschema.New()
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := check.Load([]string{"-"}, bytes.NewReader(data))
		if err != nil {
			var inputErr *check.InputError
			if !errors.As(err, &inputErr) {
				t.Fatalf("Load: %v is not an *InputError", err)
			}
			return
		}
		rows, errs := check.Evaluate(context.Background(), docs, check.Options{Now: now, Namespace: "default", Validator: validator})
		if len(rows) > 0 && len(errs) > 0 {
			t.Fatalf("rows and errors together: %v, %v", rows, errs)
		}
	})
}
