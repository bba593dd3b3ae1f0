// Command kubectl-multichannel is a kubectl plugin (kubectl multichannel ...)
// for the multichannel operator. Its check command evaluates committed
// Partner, Customer and CustomerSubscription manifests with no cluster, so a
// GitOps pipeline can see each subscription's path before it merges; approve,
// deny and status record and show a person's decisions, as cert-manager's
// cmctl approve does for certificate requests; import writes a partner's
// existing estate in Partner Center and Microsoft Graph as manifests.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partnerops/multichannel-operator/internal/check"
	"github.com/partnerops/multichannel-operator/internal/crdschema"
)

// Exit codes of check.
const (
	exitOK         = 0
	exitIneligible = 1 // with --fail-on-ineligible
	exitBadInput   = 2
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, time.Now))
}

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, clock func() time.Time) int {
	root := &cobra.Command{
		Use:           "kubectl-multichannel",
		Short:         "Work with the multichannel operator's resources",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newCheckCommand(clock), newDecideCommand(true, clock), newDecideCommand(false, clock), newCancelCommand(clock), newPlanCommand(clock), newLoginCommand(clock), newStatusCommand(), newImportCommand(clock))

	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, ee.err)
		}
		return ee.code
	}
	// Cobra's own errors: an unknown flag or command.
	fmt.Fprintln(stderr, "error:", err)
	return exitBadInput
}

type checkOptions struct {
	manifestInput
	output           string
	failOnIneligible bool
}

// manifestInput is what check and plan read: manifests, the time to
// evaluate them at, and the namespace of objects that name none.
type manifestInput struct {
	files     []string
	now       string
	namespace string
}

func (m *manifestInput) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVarP(&m.files, "filename", "f", nil, "Manifest file or directory to read, or - for stdin; repeatable")
	f.StringVar(&m.now, "now", "", "Evaluate as of this time (RFC 3339) instead of the current time")
	f.StringVarP(&m.namespace, "namespace", "n", "default", "Namespace for namespaced objects that name none")
}

func newCheckCommand(clock func() time.Time) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check -f FILE|DIR|- [-f ...]",
		Short: "Evaluate subscriptions' multichannel eligibility from manifests, offline",
		Long: `check reads Partner, Customer and CustomerSubscription manifests from files,
directories (searched recursively for .yaml, .yml and .json) or stdin (-f -),
validates them against the operator's CRDs (schema and CEL rules, as the API
server would), and evaluates every CustomerSubscription with the same decision
table the operator runs. Objects of other kinds are passed over.

Exit status: 0 when the input is valid; 1 with --fail-on-ineligible when any
subscription is ineligible; 2 for bad input (the message names the file, the
document and the field).`,
		Example: `  kubectl multichannel check -f config/samples
  kustomize build overlays/prod | kubectl multichannel check -f - -o json
  kubectl multichannel check -f customers/ --now 2027-07-01T00:00:00Z --fail-on-ineligible`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), clock)
		},
	}
	f := cmd.Flags()
	o.bind(cmd)
	f.StringVarP(&o.output, "output", "o", "table", "Output format: table or json")
	f.BoolVar(&o.failOnIneligible, "fail-on-ineligible", false, "Exit 1 when any subscription is ineligible")
	return cmd
}

func (o *checkOptions) run(ctx context.Context, stdin io.Reader, stdout io.Writer, clock func() time.Time) error {
	bad := func(err error) error { return &exitError{code: exitBadInput, err: err} }
	if o.output != "table" && o.output != "json" {
		return bad(fmt.Errorf("--output %q is not supported: use table or json", o.output))
	}
	rows, _, err := o.evaluate(ctx, stdin, clock)
	if err != nil {
		return err
	}

	if o.output == "json" {
		err = writeJSON(stdout, rows)
	} else {
		err = writeTable(stdout, rows)
	}
	if err != nil {
		return err
	}
	if o.failOnIneligible {
		for _, r := range rows {
			if !r.Result.Eligible {
				return &exitError{code: exitIneligible}
			}
		}
	}
	return nil
}

// jsonRow is one subscription in -o json.
type jsonRow struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Eligible  bool   `json:"eligible"`
	Path      string `json:"path"`
	Reason    string `json:"reason"`
	Message   string `json:"message"`
	NotBefore string `json:"notBefore,omitempty"`
	NotAfter  string `json:"notAfter,omitempty"`
}

// evaluate loads manifests (files, or stdin for -), validates them against
// the CRDs and applies the decision table at now (the --now flag, or the
// clock), as check and plan do. Bad input is an exitError with its place.
func (m *manifestInput) evaluate(ctx context.Context, stdin io.Reader, clock func() time.Time) ([]check.Row, time.Time, error) {
	files, nowFlag, namespace := m.files, m.now, m.namespace
	bad := func(err error) error { return &exitError{code: exitBadInput, err: err} }
	now := clock()
	if nowFlag != "" {
		t, err := time.Parse(time.RFC3339, nowFlag)
		if err != nil {
			return nil, now, bad(fmt.Errorf("--now %q is not an RFC 3339 time such as 2027-01-01T00:00:00Z", nowFlag))
		}
		now = t
	}
	validator, err := crdschema.New()
	if err != nil {
		return nil, now, fmt.Errorf("loading the CRDs: %w", err)
	}
	docs, err := check.Load(files, stdin)
	if err != nil {
		return nil, now, bad(err)
	}
	rows, errs := check.Evaluate(ctx, docs, check.Options{Now: now, Namespace: namespace, Validator: validator})
	if len(errs) > 0 {
		return nil, now, bad(errors.Join(errs...))
	}
	return rows, now, nil
}

func writeJSON(w io.Writer, rows []check.Row) error {
	out := make([]jsonRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, jsonRow{
			Namespace: r.Namespace, Name: r.Name, Eligible: r.Result.Eligible,
			Path: string(r.Result.Path), Reason: string(r.Result.Reason), Message: r.Result.Message(),
			NotBefore: notBefore(r, ""), NotAfter: notAfter(r),
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeTable(w io.Writer, rows []check.Row) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tNAME\tCUSTOMER\tCHANNEL\tTYPE\tTARGET\tELIGIBLE\tPATH\tREASON\tNOT-BEFORE")
	for _, r := range rows {
		target := r.Target
		if target == "" {
			target = "<none>"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Namespace, r.Name, r.Customer, r.Channel, r.ServiceType, target,
			strconv.FormatBool(r.Result.Eligible), r.Result.Path, r.Result.Reason, notBefore(r, "<none>"))
	}
	return tw.Flush()
}

// notAfter is the path's deadline (an expired license's), or "".
func notAfter(r check.Row) string {
	if r.Result.NotAfter.IsZero() {
		return ""
	}
	return r.Result.NotAfter.UTC().Format(time.RFC3339)
}

func notBefore(r check.Row, none string) string {
	if r.Result.NotBefore == nil {
		return none
	}
	return r.Result.NotBefore.UTC().Format(time.RFC3339)
}
