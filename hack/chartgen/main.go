// Command chartgen writes the generated parts of charts/multichannel-operator
// (CRDs, RBAC, admission policies, alerting rules, dashboard) from config/.
// With -check it writes nothing and fails when the chart is out of date.
// 'make chart' runs it; 'make verify' runs it with -check.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/partnerops/multichannel-operator/internal/chartgen"
)

func main() {
	check := flag.Bool("check", false, "fail when the chart differs from what config/ generates, instead of writing it")
	root := flag.String("root", ".", "the repository root")
	flag.Parse()
	chartgen.Warn = func(msg string) { fmt.Fprintln(os.Stderr, "chartgen: warning:", msg) }
	files, err := chartgen.Generate(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chartgen:", err)
		os.Exit(1)
	}
	if *check {
		stale, err := chartgen.Diff(*root, files)
		if err != nil {
			fmt.Fprintln(os.Stderr, "chartgen:", err)
			os.Exit(1)
		}
		if len(stale) > 0 {
			fmt.Fprintf(os.Stderr, "chartgen: %s is out of date (%s): run 'make chart' and commit\n",
				chartgen.ChartDir, strings.Join(stale, ", "))
			os.Exit(1)
		}
		return
	}
	if err := chartgen.Write(*root, files); err != nil {
		fmt.Fprintln(os.Stderr, "chartgen:", err)
		os.Exit(1)
	}
}
