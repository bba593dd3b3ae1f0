// Package chaos runs every make chaos scenario with a small N, so that CI
// proves in minutes what make chaos measures at full size.
package chaos

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/partnerops/multichannel-operator/internal/harness"
)

// n is the number of subscriptions per scenario: CHAOS_N, or a small default.
func n(t *testing.T) int {
	if v := os.Getenv("CHAOS_N"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return 16
}

func TestScenarios(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run 'make test'")
	}
	ctx := context.Background()
	root, err := harness.Root()
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	bin, err := harness.Build(ctx, root, filepath.Join(base, "bin"))
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range harness.Scenarios {
		t.Run(name, func(t *testing.T) {
			r, err := harness.Run(ctx, harness.Scenario{Name: name, N: n(t), Kills: 3, Root: root, Dir: filepath.Join(base, name),
				Bin: bin, Seed: uint64(i + 1), Timeout: 3 * time.Minute})
			t.Logf("%+v", r)
			if err != nil {
				t.Fatal(err)
			}
			switch name {
			case harness.Kill:
				if r.Kills != 3 {
					t.Errorf("%d kills, want 3", r.Kills)
				}
			case harness.Faults:
				if r.Throttled == 0 || r.ErrorsInjected == 0 {
					t.Errorf("no fault was injected: throttled %d, errors %d", r.Throttled, r.ErrorsInjected)
				}
				if r.EarlyRetries != 0 {
					t.Errorf("%d requests were retried before their Retry-After", r.EarlyRetries)
				}
			case harness.Restarts:
				if r.SimulatorRestarts != 1 || r.APIServerRestarts != 1 {
					t.Errorf("restarts: simulator %d, kube-apiserver %d", r.SimulatorRestarts, r.APIServerRestarts)
				}
			case harness.Failover:
				if r.Takeover == 0 || r.Takeover > 30*time.Second { // a 15 s lease, 2 s retries, and a loaded machine
					t.Errorf("the standby took over after %v, want within the 15 s lease, a retry and some load", r.Takeover)
				}
			}
		})
	}
}
