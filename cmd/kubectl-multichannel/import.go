package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/destinations"
	"github.com/partnerops/multichannel-operator/internal/entra"
	"github.com/partnerops/multichannel-operator/internal/estate"
	"github.com/partnerops/multichannel-operator/internal/graph"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

type importOptions struct {
	access            partnerAccess
	partner           string
	customers         []string
	dryRun            bool
	outputDir         string
	requestsPerMinute int
	graphPerMinute    int
}

func newImportCommand(clock func() time.Time) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import --partner PARTNER [--customer TENANT_ID_OR_DOMAIN ...] [--dry-run] [--output-dir DIR]",
		Short: "Write a partner's existing estate in Partner Center and Microsoft Graph as manifests for Git",
		Long: `import reads what a Partner already holds, with the credentials the Partner names
(read as login reads them), and writes it as the operator's manifests: per customer
that accepted the partner as reseller, a namespace with the Customer, its
ResellerRelationship, a CustomerSubscription per license and per Azure subscription
under its Azure plan (bought from and supported by the partner: AlreadyManaged), a
DelegatedAdminRelationship per GDAP relationship (adopted by its display name), and a
CustomerSubscription per line item of each transfer under way from another CSP
partner, following that transfer (spec.transferID); the source partners as
reference-only Partners; kustomizations at every level. It only reads, within the
partner tenant's request budget (Partner Center's documented 500 calls a minute by
default), and a second run against the same estate changes no file.

A summary goes to stderr: what was imported, what was not and why, the calls made and
the time taken. --dry-run writes nothing and prints each file that would change.
See docs/adoption.md.`,
		Example: `  kubectl multichannel import --partner contoso-csp --output-dir estate/
  kubectl multichannel import --partner contoso-csp --customer woodgrove.onmicrosoft.com --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), clock)
		},
	}
	f := cmd.Flags()
	o.access.bind(f)
	f.StringVar(&o.partner, "partner", "", "The Partner whose estate is imported (required).")
	f.StringArrayVar(&o.customers, "customer", nil, "Import only this customer, by tenant ID or domain; repeatable.")
	f.BoolVar(&o.dryRun, "dry-run", false, "Write nothing: print what would be written.")
	f.StringVar(&o.outputDir, "output-dir", "multichannel-estate", "The directory the manifests are written under.")
	f.IntVar(&o.requestsPerMinute, "requests-per-minute", pc.DefaultRequestsPerMinute,
		"The partner tenant's Partner Center budget this import spends; lower it while the operator runs for the same tenant.")
	f.IntVar(&o.graphPerMinute, "graph-requests-per-minute", graph.DefaultRequestsPerMinute, "The Microsoft Graph budget this import spends.")
	_ = cmd.MarkFlagRequired("partner")
	return cmd
}

func (o *importOptions) run(ctx context.Context, out, errOut io.Writer, clock func() time.Time) error {
	bad := func(err error) error { return &exitError{code: exitBadInput, err: err} }
	start := clock()
	c, partner, err := o.access.connect(ctx, o.partner)
	if err != nil {
		return bad(err)
	}
	clients, calls, err := o.clients(ctx, c, partner)
	if err != nil {
		return bad(err)
	}
	known := &v1alpha1.PartnerList{}
	if err := c.List(ctx, known); err != nil {
		return bad(fmt.Errorf("listing the cluster's Partners: %w", err))
	}
	est, err := estate.Read(ctx, clients, estate.Options{Customers: o.customers})
	if err != nil {
		return bad(fmt.Errorf("importing partner %s: %w", partner.Name, err))
	}
	m, err := estate.Build(est, estate.BuildOptions{Partner: partner, KnownPartners: known.Items, OperatorNamespace: o.access.operatorNamespace})
	if err != nil {
		return bad(fmt.Errorf("importing partner %s: %w", partner.Name, err))
	}
	rep, err := estate.Write(m, partner, estate.WriteOptions{Dir: o.outputDir, DryRun: o.dryRun, Out: out})
	if err != nil {
		return bad(fmt.Errorf("writing under %s: %w", o.outputDir, err))
	}
	o.summary(errOut, partner, m, rep, est.Waits, calls, clock().Sub(start))
	return nil
}

// calls count the requests each client sent, token requests aside.
type calls struct{ partnerCenter, graph atomic.Int64 }

// counting counts the requests a client sends below the API's path
// (/v1/ for Partner Center, /v1.0/ for Graph), not those to the token service.
type counting struct {
	base http.RoundTripper
	api  string
	n    *atomic.Int64
}

func (c counting) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, c.api) {
		c.n.Add(1)
	}
	return c.base.RoundTrip(r)
}

// apiPath is the path an endpoint's API calls start with.
func apiPath(endpoint, version string) string {
	u, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil {
		return "/" + version + "/"
	}
	return u.Path + "/" + version + "/"
}

// clients are the partner's Partner Center and Graph clients, built as the
// operator builds them, with the application's credentials only (no
// refresh token: the import makes no App+User call, and renews nothing the
// operator holds).
func (o *importOptions) clients(ctx context.Context, c client.Client, p *v1alpha1.Partner) (estate.Clients, *calls, error) {
	creds, err := o.credentials(ctx, c, p)
	if err != nil {
		return estate.Clients{}, nil, err
	}
	n := &calls{}
	httpFor := func(api string, count *atomic.Int64) *http.Client {
		return &http.Client{Timeout: 30 * time.Second, Transport: counting{base: http.DefaultTransport, api: api, n: count}}
	}
	pcc, err := pc.New(pc.Config{Endpoint: destinations.EndpointOf(p), AuthorityHost: destinations.AuthorityOf(p), TenantID: p.Spec.TenantID,
		Credentials: creds, HTTPClient: httpFor(apiPath(destinations.EndpointOf(p), "v1"), &n.partnerCenter), RequestsPerMinute: o.requestsPerMinute})
	if err != nil {
		return estate.Clients{}, nil, fmt.Errorf("partner %s: %w", p.Name, err)
	}
	g, err := graph.New(graph.Config{Endpoint: destinations.GraphEndpointOf(p), AuthorityHost: destinations.AuthorityOf(p), TenantID: p.Spec.TenantID,
		Credentials: creds, HTTPClient: httpFor(apiPath(destinations.GraphEndpointOf(p), "v1.0"), &n.graph), RequestsPerMinute: o.graphPerMinute})
	if err != nil {
		return estate.Clients{}, nil, fmt.Errorf("partner %s: Microsoft Graph: %w", p.Name, err)
	}
	return estate.Clients{PartnerCenter: pcc, Graph: g}, n, nil
}

// credentials are the partner's application's, once every endpoint they
// would go to is checked; without the refresh token.
func (o *importOptions) credentials(ctx context.Context, c client.Client, p *v1alpha1.Partner) (entra.Credentials, error) {
	const outcome = "nothing is read"
	if !p.HasCredentials() {
		return entra.Credentials{}, fmt.Errorf("partner %s has no credentials (spec.partnerCenter.credentialsSecretRef or workloadIdentity): the import reads Partner Center as the partner's application", p.Name)
	}
	if p.Spec.CSPType == v1alpha1.CSPTypeIndirectReseller {
		return entra.Credentials{}, fmt.Errorf("partner %s is an indirect reseller: Partner Center is read through its indirect provider; import --partner %s", p.Name, p.Spec.IndirectProviderRef)
	}
	for _, d := range [][2]string{{"spec.partnerCenter.endpoint", destinations.EndpointOf(p)}, {"spec.partnerCenter.authorityHost", destinations.AuthorityOf(p)},
		{"spec.partnerCenter.graphEndpoint", destinations.GraphEndpointOf(p)}} {
		if err := o.access.checkDestination(p, d[0], d[1], outcome); err != nil {
			return entra.Credentials{}, err
		}
	}
	var secret *corev1.Secret
	if p.Spec.PartnerCenter.CredentialsSecretRef != nil {
		var err error
		if secret, _, err = o.access.secret(ctx, c, p, outcome); err != nil {
			return entra.Credentials{}, err
		}
	}
	// A workload identity's token must last the whole import: every token
	// the clients ask for presents it (the API server may shorten it).
	creds, err := o.access.credentials(ctx, c, p, secret, 6*time.Hour)
	creds.RefreshToken = ""
	return creds, err
}

// summary says on stderr what was imported and what was not, the calls
// made and the time taken.
func (o *importOptions) summary(w io.Writer, p *v1alpha1.Partner, m *estate.Manifests, rep *estate.WriteReport, waits int64, n *calls, took time.Duration) {
	k := m.Counts
	verb := "Wrote"
	if o.dryRun {
		verb = "Would write"
	}
	fmt.Fprintf(w, "Imported partner %s (tenant %s) in %s:\n", p.Name, p.Spec.TenantID, took.Round(time.Millisecond))
	fmt.Fprintf(w, "  customers            %d\n", k.Customers)
	fmt.Fprintf(w, "  subscriptions        %d: %d licenses, %d Azure subscriptions under %d Azure plans, %d in transfers under way\n",
		k.Licenses+k.AzureSubscriptions+k.TransferLineItems, k.Licenses, k.AzureSubscriptions, k.AzurePlans, k.TransferLineItems)
	fmt.Fprintf(w, "  GDAP relationships   %d, with %d access assignments\n", k.GDAP, k.AccessAssignments)
	fmt.Fprintf(w, "  transfers under way  %d, from %d source partners\n", k.Transfers, k.SourcePartners)
	fmt.Fprintf(w, "  Partner Center calls %d (%d waits for the tenant's budget or Retry-After)\n", n.partnerCenter.Load(), waits)
	fmt.Fprintf(w, "  Microsoft Graph calls %d\n", n.graph.Load())
	fmt.Fprintf(w, "%s %s: %d new, %d changed, %d unchanged, %d removed\n", verb, o.outputDir, len(rep.New), len(rep.Changed), len(rep.Unchanged), len(rep.Removed))
	for _, l := range rep.Left {
		fmt.Fprintf(w, "  left alone (not written by import): %s\n", l)
	}
	if len(m.Notes) > 0 {
		fmt.Fprintf(w, "Not imported, or to check (%d):\n", len(m.Notes))
		for _, n := range m.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
}
