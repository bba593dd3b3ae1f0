package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"

	"github.com/partnerops/multichannel-operator/internal/check"
	"github.com/partnerops/multichannel-operator/internal/plan"
)

// Exit codes of plan --exit-code, for CI; the most serious wins.
const (
	exitPlanNothing     = 0 // nothing to do
	exitPlanAutomatic   = 3 // changes that run on their own once customers consent
	exitPlanNeedsPerson = 4 // a person with verb approve must authorize something
	exitPlanBlocked     = 5 // something is blocked (ineligible)
)

type planOptions struct {
	manifestInput
	output   string
	exitCode bool
	// cluster: plan only what changes against the cluster's objects.
	cluster             bool
	kubeconfig, context string
}

func newPlanCommand(clock func() time.Time) *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:   "plan -f FILE|DIR|- [-f ...]",
		Short: "Show what manifests will make the operator do, when, and what it costs, before they merge",
		Long: `plan reads manifests as check does (Partner, Customer, ApprovalPolicy and
CustomerSubscription; validated against the CRDs) and, with the operator's own
decision table and ApprovalPolicy rules, says per subscription: its path and each
step (the relationship request, the customer's consent, the authorization, a
purchase or transfer, the source's cancellation, the cancellation window), who
acts, the Partner Center calls, the earliest date and the deadlines, which
ApprovalPolicy authorizes it or that a person must, the seats bought, how long
both the source and the new subscription are billed, and what cannot be undone.
A summary per customer and for the whole change follows.

Output: text, json (schema in docs/plan.md) or markdown (a pull-request comment).

Exit status: 0, or with --exit-code: 0 nothing to do, 3 changes that run on their
own, 4 a person must authorize something, 5 something is blocked; 2 for bad
input.`,
		Example: `  kubectl multichannel plan -f config/samples
  kustomize build overlays/prod | kubectl multichannel plan -f - -o markdown > plan.md
  kubectl multichannel plan -f customers/ --now 2027-01-01T00:00:00Z -o json --exit-code`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), clock)
		},
	}
	f := cmd.Flags()
	o.bind(cmd)
	f.StringVarP(&o.output, "output", "o", "text", "Output format: text, json or markdown")
	f.BoolVar(&o.exitCode, "exit-code", false, "Exit 3, 4 or 5 when something runs on its own, needs a person, or is blocked")
	f.BoolVar(&o.cluster, "cluster", false, "Read the cluster's CustomerSubscriptions in the manifests' namespaces and plan only what changes (Create, Update), listing what is no longer declared")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "With --cluster: path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.context, "context", "", "With --cluster: the kubeconfig context to use")
	return cmd
}

func (o *planOptions) run(ctx context.Context, stdin io.Reader, stdout io.Writer, clock func() time.Time) error {
	bad := func(err error) error { return &exitError{code: exitBadInput, err: err} }
	write := map[string]func(io.Writer, *plan.Plan) error{"text": plan.WriteText, "json": plan.WriteJSON, "markdown": plan.WriteMarkdown}[o.output]
	if write == nil {
		return bad(fmt.Errorf("--output %q is not supported: use text, json or markdown", o.output))
	}
	if len(o.files) == 0 {
		return bad(errors.New("plan needs manifests: -f FILE, -f DIR or -f - for stdin"))
	}
	rows, now, err := o.evaluate(ctx, stdin, clock)
	if err != nil {
		return err
	}
	var p *plan.Plan
	if o.cluster {
		current, err := o.currentSubscriptions(ctx, rows)
		if err != nil {
			return bad(err)
		}
		p = plan.BuildChanges(rows, now, current)
	} else {
		p = plan.Build(rows, now)
	}
	if err := write(stdout, p); err != nil {
		return err
	}
	if !o.exitCode {
		return nil
	}
	switch t := p.Totals; {
	case t.Blocked > 0:
		return &exitError{code: exitPlanBlocked}
	case t.NeedsPerson > 0:
		return &exitError{code: exitPlanNeedsPerson}
	case t.Automatic > 0 || len(p.Removed) > 0: // pruning deletes what is no longer declared
		return &exitError{code: exitPlanAutomatic}
	}
	return &exitError{code: exitPlanNothing}
}

// currentSubscriptions reads the cluster's CustomerSubscriptions in the
// namespaces the manifests declare subscriptions in.
func (o *planOptions) currentSubscriptions(ctx context.Context, rows []check.Row) ([]v1alpha1.CustomerSubscription, error) {
	flags := clusterFlags{kubeconfig: o.kubeconfig, context: o.context}
	c, _, err := flags.connect()
	if err != nil {
		return nil, err
	}
	namespaces := map[string]bool{}
	for _, r := range rows {
		namespaces[r.Namespace] = true
	}
	var out []v1alpha1.CustomerSubscription
	for ns := range namespaces {
		list := &v1alpha1.CustomerSubscriptionList{}
		if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("--cluster: listing the CustomerSubscriptions of namespace %s: %w", ns, err)
		}
		out = append(out, list.Items...)
	}
	return out, nil
}
