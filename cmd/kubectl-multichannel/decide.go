package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/decide"
)

// clusterFlags are kubectl's flags for reaching a cluster.
type clusterFlags struct {
	kubeconfig, context, namespace, as string
}

func (f *clusterFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
	cmd.Flags().StringVar(&f.context, "context", "", "The kubeconfig context to use.")
	cmd.Flags().StringVarP(&f.namespace, "namespace", "n", "", "The object's namespace (default: the context's).")
	cmd.Flags().StringVar(&f.as, "as", "", "User to impersonate, as kubectl --as.")
}

// connect returns a client and the namespace to use.
func (f *clusterFlags) connect() (client.Client, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: f.context}
	overrides.Context.Namespace = f.namespace
	overrides.AuthInfo.Impersonate = f.as
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("loading the kubeconfig: %w", err)
	}
	ns, _, err := loader.Namespace()
	if err != nil {
		return nil, "", err
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	return c, ns, err
}

// approver connects as the person and checks that they hold verb approve
// on the object, as approve, deny and cancel need: it returns the client,
// the namespace and the user name the API server knows them by.
func (f *clusterFlags) approver(ctx context.Context, kind decide.Kind, name string) (client.Client, string, string, error) {
	c, ns, err := f.connect()
	if err != nil {
		return nil, "", "", &exitError{code: exitBadInput, err: err}
	}
	user, err := decide.WhoAmI(ctx, c)
	if err != nil {
		return nil, "", "", &exitError{code: exitBadInput, err: err}
	}
	if err := decide.CheckAllowed(ctx, c, kind, ns, name, user); err != nil {
		return nil, "", "", &exitError{code: exitBadInput, err: err}
	}
	return c, ns, user, nil
}

func newDecideCommand(approve bool, clock func() time.Time) *cobra.Command {
	var flags clusterFlags
	var reason string
	var generation int64
	verb, what := "approve", "Authorize"
	if !approve {
		verb, what = "deny", "Refuse"
	}
	cmd := &cobra.Command{
		Use:   verb + " [csub/|rr/]NAME",
		Short: what + " a subscription, or record a reference-only customer's decision on a reseller relationship",
		Long: what + ` the operator's acting on a CustomerSubscription (buying, transferring, cancelling
its source) for the generation of its spec you see, or, with rr/NAME, record the
customer's answer to a reseller relationship request of a partner without Partner
Center credentials. You need verb approve on the object (the
multichannel-global-admin role); the decision records your user name as the API
server knows it, and it is final.`,
		Example: "  kubectl multichannel " + verb + " woodgrove-azure-ea -n woodgrove --reason \"checked with the customer\"\n" +
			"  kubectl multichannel " + verb + " rr/woodgrove-northwind -n woodgrove --reason \"accepted by phone\"",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !approve && strings.TrimSpace(reason) == "" {
				return &exitError{code: exitBadInput, err: fmt.Errorf("deny needs --reason: say why, for the record")}
			}
			kind, name, err := decide.ParseTarget(args[0])
			if err != nil {
				return &exitError{code: exitBadInput, err: err}
			}
			ctx := cmd.Context()
			c, ns, user, err := flags.approver(ctx, kind, name)
			if err != nil {
				return err
			}
			d := decide.Decision{Approve: approve, User: user, Reason: reason, Now: clock(), Generation: generation}
			out, err := decide.Record(ctx, c, kind, client.ObjectKey{Namespace: ns, Name: name}, d)
			if err != nil {
				return &exitError{code: exitBadInput, err: err}
			}
			past := map[bool]string{true: "approved", false: "denied"}[approve]
			if !out.Written {
				fmt.Fprintf(cmd.OutOrStdout(), "%s/%s was already %s by you (%s): nothing to write\n", kind, name, past, out.What)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s/%s %s by %s (%s)\n", kind, name, past, user, out.What)
			return nil
		},
	}
	flags.bind(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "Why, in your words; recorded with the decision (required for deny).")
	cmd.Flags().Int64Var(&generation, "generation", 0,
		"The subscription's generation you reviewed (kubectl multichannel status shows it); the decision fails if the spec changed since. Default: the generation read now.")
	return cmd
}

func newStatusCommand() *cobra.Command {
	var flags clusterFlags
	cmd := &cobra.Command{
		Use:   "status [csub/|rr/|cust/]NAME",
		Short: "Show where a subscription or reseller relationship stands and which approval gate is open, or what a customer was asked and told",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name, ok := customerTarget(args[0]); ok {
				c, ns, err := flags.connect()
				if err != nil {
					return &exitError{code: exitBadInput, err: err}
				}
				customer := &v1alpha1.Customer{}
				if err := c.Get(cmd.Context(), client.ObjectKey{Namespace: ns, Name: name}, customer); err != nil {
					return &exitError{code: exitBadInput, err: err}
				}
				printCustomer(cmd.OutOrStdout(), customer)
				return nil
			}
			kind, name, err := decide.ParseTarget(args[0])
			if err != nil {
				return &exitError{code: exitBadInput, err: err}
			}
			c, ns, err := flags.connect()
			if err != nil {
				return &exitError{code: exitBadInput, err: err}
			}
			key := client.ObjectKey{Namespace: ns, Name: name}
			if kind == decide.Relationship {
				rr := &v1alpha1.ResellerRelationship{}
				if err := c.Get(cmd.Context(), key, rr); err != nil {
					return &exitError{code: exitBadInput, err: err}
				}
				printRelationship(cmd.OutOrStdout(), rr)
				return nil
			}
			sub := &v1alpha1.CustomerSubscription{}
			if err := c.Get(cmd.Context(), key, sub); err != nil {
				return &exitError{code: exitBadInput, err: err}
			}
			printSubscription(cmd.OutOrStdout(), sub)
			return nil
		},
	}
	flags.bind(cmd)
	return cmd
}

func printSubscription(out io.Writer, sub *v1alpha1.CustomerSubscription) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer func() { _ = w.Flush() }()
	st := sub.Status
	fmt.Fprintf(w, "CustomerSubscription\t%s/%s (generation %d)\n", sub.Namespace, sub.Name, sub.Generation)
	fmt.Fprintf(w, "Phase\t%s\n", orNone(string(st.Phase)))
	if e := st.Eligibility; e != nil {
		fmt.Fprintf(w, "Path\t%s (%s)\n", e.Path, e.Reason)
	}
	for _, gate := range []struct{ name, condition string }{
		{"Customer's consent", v1alpha1.ConditionRelationshipApproved},
		{"Partner's authorization", v1alpha1.ConditionAuthorized},
	} {
		fmt.Fprintf(w, "%s\t%s\n", gate.name, conditionLine(meta.FindStatusCondition(st.Conditions, gate.condition)))
	}
	if t := st.Terms; t != nil {
		fmt.Fprintf(w, "Terms\t%s\n", decide.DescribeTerms(t))
	}
	if a := st.Authorization; a != nil {
		on := "no terms"
		if a.Terms != nil {
			on = decide.DescribeTerms(a.Terms)
		}
		fmt.Fprintf(w, "Decision\t%s by %s (%s)%s on %s\n", a.Decision, a.By, a.Source, atTime(a.At), on)
	}
	if op := st.Operation; op != nil {
		fmt.Fprintf(w, "Operation\t%s %s -> %s (authorized by %s)\n", op.Type, op.ID, orNone(op.ExternalID), orNone(op.AuthorizedBy))
	}
	if u := st.CancellableUntil; u != nil {
		fmt.Fprintf(w, "Cancellable until\t%s (kubectl multichannel cancel %s -n %s --reason ...)\n", u.UTC().Format(time.RFC3339), sub.Name, sub.Namespace)
	}
	if c := st.Cancellation; c != nil {
		outcome := "asked; the operator sends it to Partner Center"
		switch {
		case c.CompletedAt != nil:
			outcome = "cancelled" + atTime(c.CompletedAt) + ", refund: " + c.Refund
		case c.Refusal != "":
			outcome = "not made: " + c.Refusal
		}
		fmt.Fprintf(w, "Cancellation\t%s by %s at %s (%q): %s\n", c.SubscriptionID, c.By, c.At.UTC().Format(time.RFC3339), c.Reason, outcome)
	}
	fmt.Fprintf(w, "Ready\t%s\n", conditionLine(meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)))
}

func printRelationship(out io.Writer, rr *v1alpha1.ResellerRelationship) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer func() { _ = w.Flush() }()
	fmt.Fprintf(w, "ResellerRelationship\t%s/%s (partner %s, customer %s)\n", rr.Namespace, rr.Name, rr.Spec.PartnerRef, rr.Spec.CustomerRef)
	fmt.Fprintf(w, "Phase\t%s\n", orNone(string(rr.Status.Phase)))
	fmt.Fprintf(w, "Invitation\t%s\n", orNone(rr.Status.InvitationURL))
	if a := rr.Status.Approval; a != nil {
		fmt.Fprintf(w, "Decision\t%s by %s (%s)%s\n", a.Decision, a.By, a.Source, atTime(a.At))
	}
	fmt.Fprintf(w, "Ready\t%s\n", conditionLine(meta.FindStatusCondition(rr.Status.Conditions, v1alpha1.ConditionReady)))
}

func conditionLine(c *metav1.Condition) string {
	if c == nil {
		return "unknown"
	}
	return fmt.Sprintf("%s (%s): %s", c.Status, c.Reason, c.Message)
}

func atTime(t *metav1.Time) string {
	if t == nil {
		return ""
	}
	return " at " + t.UTC().Format(time.RFC3339)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func newCancelCommand(clock func() time.Time) *cobra.Command {
	var flags clusterFlags
	var reason string
	cmd := &cobra.Command{
		Use:   "cancel [csub/]NAME --reason TEXT",
		Short: "Cancel, with a refund, what the operator bought for a subscription, within Partner Center's cancellation window",
		Long: `Cancel the new-commerce subscription the operator bought for a CustomerSubscription
(status.targetSubscriptionID), within the window Partner Center gives it
(status.cancellableUntil: seven days after purchase), for a refund. After the
window Partner Center refuses, and the whole term is owed; the command says so
and writes nothing. You need verb approve on the object (the
multichannel-global-admin role); the request records your user name as the API
server knows it, and it is final. The operator sends it to Partner Center once
and records the outcome and the refund in status.cancellation, with an Event.`,
		Example: `  kubectl multichannel cancel woodgrove-visio -n woodgrove --reason "quantity merged by mistake: 100 instead of 10"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return &exitError{code: exitBadInput, err: fmt.Errorf("cancel needs --reason: say why, for the record")}
			}
			kind, name, err := decide.ParseTarget(args[0])
			if err != nil || kind != decide.Subscription {
				return &exitError{code: exitBadInput, err: fmt.Errorf("%q: only a CustomerSubscription's purchase can be cancelled (NAME or csub/NAME)", args[0])}
			}
			ctx := cmd.Context()
			c, ns, user, err := flags.approver(ctx, kind, name)
			if err != nil {
				return err
			}
			out, err := decide.RecordCancellation(ctx, c, client.ObjectKey{Namespace: ns, Name: name}, decide.Cancellation{User: user, Reason: reason, Now: clock()})
			if err != nil {
				return &exitError{code: exitBadInput, err: err}
			}
			if !out.Written {
				fmt.Fprintf(cmd.OutOrStdout(), "csub/%s: you already asked to cancel %s: nothing to write; kubectl multichannel status %s shows the outcome\n", name, out.What, name)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "csub/%s: cancellation of %s asked by %s; the operator sends it to Partner Center and records the refund in status.cancellation\n", name, out.What, user)
			return nil
		},
	}
	flags.bind(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "Why, in your words; recorded with the cancellation (required).")
	return cmd
}
