// Command chaos is make chaos: it runs every reliability scenario
// (docs/reliability.md) against the real manager binary, the simulator binary
// and a real control plane, and reports each run as a table and as JSON. It
// exits non-zero when a scenario did not converge or created anything twice.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/partnerops/multichannel-operator/internal/harness"
)

func main() {
	n := flag.Int("n", 300, "Subscriptions per scenario, in equal shares of the four acting paths.")
	kills := flag.Int("kills", 10, "SIGKILLs of the manager in the kill scenario.")
	only := flag.String("scenarios", strings.Join(harness.Scenarios, ","), "Scenarios to run, comma-separated.")
	dir := flag.String("dir", filepath.Join("bin", "chaos"), "Directory for binaries, state and logs (emptied first).")
	out := flag.String("json", filepath.Join("bin", "chaos", "report.json"), "File the JSON report is written to.")
	timeout := flag.Duration("timeout", 15*time.Minute, "How long a scenario may take to converge.")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "Seed of the random kill moments.")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard()) // the harness's own clients log nothing worth reading

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *n, *kills, strings.Split(*only, ","), *dir, *out, *timeout, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "make chaos:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n, kills int, scenarios []string, dir, out string, timeout time.Duration, seed uint64) error {
	for _, s := range scenarios {
		if !slices.Contains(harness.Scenarios, s) {
			return fmt.Errorf("unknown scenario %q (known: %v)", s, harness.Scenarios)
		}
	}
	root, err := harness.Root()
	if err != nil {
		return err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	fmt.Println("building the manager and the simulator")
	bin, err := harness.Build(ctx, root, filepath.Join(dir, "bin"))
	if err != nil {
		return err
	}
	var reports []harness.Report
	var failed []string
	for i, name := range scenarios {
		fmt.Printf("scenario %s: N=%d\n", name, n)
		r, err := harness.Run(ctx, harness.Scenario{Name: name, N: n, Kills: kills, Root: root, Dir: filepath.Join(dir, name),
			Bin: bin, Seed: seed + uint64(i), Timeout: timeout})
		reports = append(reports, r)
		if err != nil {
			fmt.Fprintf(os.Stderr, "scenario %s failed: %v\n", name, err)
			failed = append(failed, name)
		}
	}
	print(reports)
	data, err := json.MarshalIndent(map[string]any{"seed": seed, "reports": reports}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, data, 0o600); err != nil {
		return err
	}
	fmt.Println("JSON report:", out)
	if len(failed) > 0 {
		return fmt.Errorf("failed: %v", failed)
	}
	return nil
}

func print(reports []harness.Report) {
	var baseline time.Duration
	for _, r := range reports {
		if r.Scenario == harness.Baseline {
			baseline = r.Converged
		}
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	defer func() { _ = w.Flush() }()
	fmt.Fprintln(w, "SCENARIO\tN\tKILLS\tRESTARTS\tTHROTTLED\tERRORS\tEARLY RETRIES\tBOUGHT\tTRANSFERS\tDUPLICATES\tSUPPRESSED\tCONVERGED\tVS BASELINE\tTAKEOVER")
	for _, r := range reports {
		ratio := "-"
		if baseline > 0 {
			ratio = fmt.Sprintf("%.2fx", float64(r.Converged)/float64(baseline))
		}
		takeover := "-"
		if r.Takeover > 0 {
			takeover = r.Takeover.Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d/%d\t%d/%d\t%d\t%d\t%s\t%s\t%s\n", r.Scenario, r.N, r.Kills,
			r.SimulatorRestarts+r.APIServerRestarts, r.Throttled, r.ErrorsInjected, r.EarlyRetries, r.Purchases, r.Expected.Purchases,
			r.Transfers, r.Expected.Transfers, r.DuplicatePurchases+r.DuplicateTransfers+r.DuplicateAzurePlans+r.DuplicateAliases, r.DuplicatesSuppressed,
			r.Converged.Round(100*time.Millisecond), ratio, takeover)
	}
}
