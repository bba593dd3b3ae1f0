// Package layers checks the module's import graph: arrows run from the
// entry points (main, cmd, hack) down through controllers, its reconciler
// packages (controllers/subscription) and what they share
// (controllers/internal/...), to internal and api, never back up, and no
// production package imports a simulator or a test helper.
// docs/architecture.md draws the layers.
package layers

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/partnerops/multichannel-operator"

// The layers, lowest first.
const (
	layerAPI         = iota // api/, config/
	layerInternal           // internal/
	layerShared             // controllers/internal/: what the reconcilers share
	layerReconcilers        // controllers/<kind>: a reconciler of its own
	layerControllers        // controllers: the other reconcilers, and the setup of all
	layerEntry              // main, cmd/, hack/, test/: entry points and tests
)

// layer ranks a package: it may import only packages of a lower layer, or
// of its own layer in internal/ (Go itself refuses cycles there) and among
// the entry points.
func layer(pkg string) int {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	switch {
	case strings.HasPrefix(rel, "api/"), strings.HasPrefix(rel, "config/"):
		return layerAPI
	case strings.HasPrefix(rel, "internal/"):
		return layerInternal
	case strings.HasPrefix(rel, "controllers/internal/"):
		return layerShared
	case strings.HasPrefix(rel, "controllers/"):
		return layerReconcilers
	case rel == "controllers":
		return layerControllers
	}
	return layerEntry
}

// backUp says whether from importing to is an arrow back up: to a higher
// layer, or within a layer other than internal/ and the entry points (one
// reconciler's package importing another's, or one package under
// controllers/internal importing another).
func backUp(from, to string) bool {
	lf, lt := layer(from), layer(to)
	return lt > lf || (lt == lf && lt != layerInternal && lt != layerEntry)
}

// stands in for a service or a test: never imported by what ships.
func standIn(pkg string) bool {
	for _, s := range []string{"/sim", "/graphsim", "/armsim", "/notifytest", "/apiretrytest", "/internal/harness"} {
		if strings.HasSuffix(pkg, s) || strings.Contains(pkg, s+"/") {
			return true
		}
	}
	return false
}

// ships: part of the manager binary or the kubectl plugin.
func ships(pkg string) bool {
	return layer(pkg) < layerEntry && !standIn(pkg) || pkg == module || strings.HasPrefix(pkg, module+"/cmd/kubectl-multichannel")
}

type listed struct {
	ImportPath string
	Imports    []string
}

func TestImportsRunDown(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	seen := 0
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen++
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			if backUp(p.ImportPath, imp) {
				t.Errorf("%s imports %s: an arrow back up (layers: api and config, internal, controllers/internal, controllers/<kind>, controllers, entry points)", p.ImportPath, imp)
			}
			if ships(p.ImportPath) && standIn(imp) {
				t.Errorf("%s ships, yet imports %s, a simulator or test helper", p.ImportPath, imp)
			}
		}
	}
	if seen < 20 {
		t.Fatalf("go list listed %d packages: the check read too little to mean anything", seen)
	}
}

// TestRulesCatchBackArrows keeps the rules able to fail.
func TestRulesCatchBackArrows(t *testing.T) {
	for _, tc := range []struct{ from, to string }{
		{module + "/internal/graph", module + "/controllers"},
		{module + "/api/v1alpha1", module + "/internal/policy"},
		{module + "/controllers", module + "/cmd/kubectl-multichannel"},
		{module + "/controllers/subscription", module + "/controllers"},
		{module + "/controllers/internal/core", module + "/controllers"},
		{module + "/controllers/internal/core", module + "/controllers/subscription"},
		{module + "/controllers/subscription", module + "/controllers/partner"},
		{module + "/internal/pass", module + "/controllers/internal/core"},
	} {
		if !backUp(tc.from, tc.to) {
			t.Errorf("%s -> %s is not seen as an arrow back up", tc.from, tc.to)
		}
	}
	for _, tc := range []struct{ from, to string }{
		{module + "/controllers", module + "/controllers/subscription"},
		{module + "/controllers/subscription", module + "/controllers/internal/core"},
		{module + "/controllers/internal/core", module + "/internal/pass"},
		{module + "/internal/carts", module + "/internal/pollgate"},
	} {
		if backUp(tc.from, tc.to) {
			t.Errorf("%s -> %s is seen as an arrow back up", tc.from, tc.to)
		}
	}
	if !ships(module+"/controllers") || !ships(module+"/controllers/subscription") || !standIn(module+"/internal/partnercenter/sim") || ships(module+"/internal/partnercenter/sim") {
		t.Error("the controllers ship and the simulators do not")
	}
}
