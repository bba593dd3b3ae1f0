// Package layers checks the module's import graph: arrows run from the
// entry points (main, cmd, hack) down through controllers to internal and
// api, never back up, and no production package imports a simulator or a
// test helper. docs/architecture.md draws the layers.
package layers

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/partnerops/multichannel-operator"

// layer ranks a package: it may import only packages of a lower layer, or
// of its own layer in internal/ (Go itself refuses cycles there).
func layer(pkg string) int {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	switch {
	case strings.HasPrefix(rel, "api/"), strings.HasPrefix(rel, "config/"):
		return 0
	case strings.HasPrefix(rel, "internal/"):
		return 1
	case rel == "controllers":
		return 2
	}
	return 3 // main, cmd/, hack/, test/: entry points and tests
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
	return layer(pkg) < 3 && !standIn(pkg) || pkg == module || strings.HasPrefix(pkg, module+"/cmd/kubectl-multichannel")
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
			if layer(imp) > layer(p.ImportPath) || (layer(imp) == layer(p.ImportPath) && layer(imp) != 1 && layer(imp) != 3) {
				t.Errorf("%s imports %s: an arrow back up (layers: api and config 0, internal 1, controllers 2, entry points 3)", p.ImportPath, imp)
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
	} {
		if layer(tc.to) <= layer(tc.from) {
			t.Errorf("%s -> %s is not seen as an arrow back up", tc.from, tc.to)
		}
	}
	if !ships(module+"/controllers") || !standIn(module+"/internal/partnercenter/sim") || ships(module+"/internal/partnercenter/sim") {
		t.Error("the controllers ship and the simulators do not")
	}
}
