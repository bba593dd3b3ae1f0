package harness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The scenarios of make chaos (docs/reliability.md).
const (
	Baseline = "baseline" // no fault: the time the others are compared with
	Kill     = "kill"     // the manager killed with SIGKILL at random moments and started again
	Faults   = "faults"   // Partner Center throttles, fails and is slow
	Restarts = "restarts" // the simulator and kube-apiserver restarted mid-run
	Failover = "failover" // two managers with leader election; the leader is killed
)

// Scenarios lists every scenario in the order make chaos runs them.
var Scenarios = []string{Baseline, Kill, Faults, Restarts, Failover}

// Scenario is one run.
type Scenario struct {
	Name    string
	N       int
	Kills   int
	Root    string
	Dir     string // a fresh directory for this run's state and logs
	Bin     Binaries
	Seed    uint64
	Timeout time.Duration
}

// Report is what a run measured.
type Report struct {
	Scenario             string        `json:"scenario"`
	N                    int           `json:"n"`
	Kills                int           `json:"kills"`
	SimulatorRestarts    int           `json:"simulatorRestarts"`
	APIServerRestarts    int           `json:"apiServerRestarts"`
	Throttled            int           `json:"throttled"`
	ErrorsInjected       int           `json:"errorsInjected"`
	EarlyRetries         int           `json:"earlyRetries"`
	Expected             Expected      `json:"expected"`
	Purchases            int           `json:"purchases"` // line items Partner Center ordered: subscriptions sold
	Transfers            int           `json:"transfers"`
	DuplicatePurchases   int           `json:"duplicatePurchases"`
	DuplicateTransfers   int           `json:"duplicateTransfers"`
	AzurePlans           int           `json:"azurePlans"`
	DuplicateAzurePlans  int           `json:"duplicateAzurePlans"`
	Aliases              int           `json:"aliases"` // Azure subscriptions created through ARM
	DuplicateAliases     int           `json:"duplicateAliases"`
	DuplicatesSuppressed int           `json:"duplicatesSuppressed"`
	Converged            time.Duration `json:"convergedNanos"`
	Takeover             time.Duration `json:"takeoverNanos,omitempty"`
}

// Run runs the scenario and reports; it fails when the subscriptions did
// not all complete or anything was created twice.
func Run(ctx context.Context, s Scenario) (Report, error) {
	r := Report{Scenario: s.Name, N: s.N}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return r, err
	}
	cluster, err := StartCluster(ctx, s.Root, s.Dir)
	if err != nil {
		return r, err
	}
	defer func() { _ = cluster.Stop() }()

	simOpts := SimulatorOptions{AutoApproveAfter: time.Second}
	if s.Name == Faults {
		simOpts = SimulatorOptions{AutoApproveAfter: time.Second, ThrottleRate: 0.3, RetryAfter: time.Second, ErrorRate: 0.1, Latency: 200 * time.Millisecond}
	}
	simulator, simURL, err := StartSimulator(ctx, s.Bin.Simulator, s.Dir, simOpts)
	if err != nil {
		return r, err
	}
	defer simulator.Stop()

	managers := []*Process{NewManager(s.Bin.Manager, s.Dir, "manager", cluster, simURL, s.Name == Failover)}
	if s.Name == Failover {
		managers = append(managers, NewManager(s.Bin.Manager, s.Dir, "manager-standby", cluster, simURL, true))
	}
	for _, m := range managers {
		if err := m.Start(); err != nil {
			return r, err
		}
		defer m.Stop()
	}

	start := time.Now()
	exp, err := Workload{N: s.N}.Apply(ctx, cluster.Client, simURL)
	if err != nil {
		return r, err
	}
	r.Expected = exp

	disrupted := make(chan error, 1)
	runCtx, stopDisrupting := context.WithCancel(ctx)
	if s.Name == Failover {
		runCtx = ctx // the takeover is measured to its end, even after the workload converged
	}
	go func() { disrupted <- disrupt(runCtx, s, &r, cluster, simulator, managers) }()
	waitErr := WaitCompleted(ctx, cluster.Client, exp.Subscriptions, s.Timeout)
	r.Converged = time.Since(start)
	stopDisrupting()
	disruptErr := <-disrupted

	st, err := Stats(simURL)
	if err != nil {
		return r, fmt.Errorf("reading the simulator's counters: %w", err)
	}
	r.Purchases, r.Transfers = st.ObjectsCreated["orderLineItem"], st.ObjectsCreated["transfer"]
	// Subscriptions moving between the same partners for one customer share
	// a transfer: a duplicate is a transfer no subscription recorded.
	if exp.Transfers, err = RecordedTransfers(ctx, cluster.Client); err != nil {
		return r, err
	}
	r.Expected = exp
	r.DuplicatePurchases, r.DuplicateTransfers = Duplicates(st, exp)
	recordedAliases, err := RecordedAliases(ctx, cluster.Client)
	if err != nil {
		return r, err
	}
	for _, n := range st.AzurePlansBought {
		r.AzurePlans += n
	}
	r.DuplicateAzurePlans, r.Aliases = DuplicateAzurePlans(st), st.ARM.AliasesCreated
	r.DuplicateAliases = st.ARM.AliasesCreated - recordedAliases
	r.DuplicatesSuppressed, r.Throttled, r.ErrorsInjected, r.EarlyRetries = st.DuplicatesSuppressed, st.Throttled, st.ErrorsInjected, st.EarlyRetries
	if disruptErr != nil && !errors.Is(disruptErr, context.Canceled) {
		return r, fmt.Errorf("disrupting: %w\nlog tails:\n%s", disruptErr, logTails(managers))
	}
	if waitErr != nil {
		return r, fmt.Errorf("%w\nlog tails:\n%s", waitErr, logTails(managers))
	}
	if r.DuplicatePurchases != 0 || r.DuplicateTransfers != 0 || r.DuplicateAzurePlans != 0 || r.DuplicateAliases != 0 {
		return r, fmt.Errorf("bought %d subscriptions (%d Azure plans) and created %d transfers and %d Azure subscriptions through ARM, want %d, %d, %d and %d",
			r.Purchases, r.AzurePlans, r.Transfers, r.Aliases, exp.Purchases, exp.AzurePlans, exp.Transfers, recordedAliases)
	}
	return r, nil
}

// disrupt does what the scenario does to the running system until ctx ends.
func disrupt(ctx context.Context, s Scenario, r *Report, c *Cluster, simulator *Process, managers []*Process) error {
	rng := rand.New(rand.NewPCG(s.Seed, 0x6d756c7469))
	sleep := func(d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}
	switch s.Name {
	case Kill:
		for r.Kills < s.Kills {
			// A random moment within the next 1.5 s: mid-call, mid-write or idle.
			if err := sleep(time.Duration(200+rng.IntN(1300)) * time.Millisecond); err != nil {
				return err
			}
			managers[0].Kill()
			r.Kills++
			if err := managers[0].Start(); err != nil {
				return err
			}
		}
	case Restarts:
		if err := sleep(time.Second); err != nil {
			return err
		}
		simulator.Kill()
		if err := simulator.Start(); err != nil {
			return err
		}
		r.SimulatorRestarts++
		if err := sleep(time.Second); err != nil {
			return err
		}
		if err := c.RestartAPIServer(); err != nil {
			return err
		}
		r.APIServerRestarts++
	case Failover:
		leader, err := waitLeader(ctx, managers)
		if err != nil {
			return err
		}
		if err := sleep(time.Second); err != nil {
			return err
		}
		holder, err := leaseHolder(ctx, c.Client)
		if err != nil {
			return err
		}
		killed := time.Now()
		leader.Kill()
		r.Kills++
		for time.Since(killed) < time.Minute {
			if h, err := leaseHolder(ctx, c.Client); err == nil && h != "" && h != holder {
				r.Takeover = time.Since(killed)
				return nil
			}
			if err := sleep(100 * time.Millisecond); err != nil {
				return err
			}
		}
		return fmt.Errorf("no manager took the lease over from %s within a minute of killing it", holder)
	}
	return nil
}

// leaseName is the manager's leader election Lease (main.go).
const leaseName = "multichannel.partnerops.io"

func leaseHolder(ctx context.Context, c client.Client) (string, error) {
	lease := &coordinationv1.Lease{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: OperatorNamespace, Name: leaseName}, lease); err != nil {
		return "", err
	}
	if lease.Spec.HolderIdentity == nil {
		return "", nil
	}
	return *lease.Spec.HolderIdentity, nil
}

// waitLeader finds the manager that logged acquiring the lease.
func waitLeader(ctx context.Context, managers []*Process) (*Process, error) {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		for _, m := range managers {
			if strings.Contains(strings.ToLower(m.Output()), "successfully acquired lease") {
				return m, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil, errors.New("no manager acquired the lease within a minute")
}

// ScenarioDir is a fresh directory for one run under base.
func ScenarioDir(base, name string) string { return filepath.Join(base, name) }

func logTails(ps []*Process) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "--- %s\n%s\n", p.Name, logTail(p.Output(), 2000))
	}
	return b.String()
}
