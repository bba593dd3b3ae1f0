package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/azurerm"
	"github.com/partnerops/multichannel-operator/internal/destinations"
	"github.com/partnerops/multichannel-operator/internal/entra"
	"github.com/partnerops/multichannel-operator/internal/graph"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// ErrReferenceOnly: the Partner has no credentials, so nothing is called on its behalf.
var ErrReferenceOnly = errors.New("the partner has no Partner Center credentials (spec.partnerCenter.credentialsSecretRef or workloadIdentity)")

// CredentialsError: the partner's credentials cannot be used as declared (the
// Secret or a key is missing, it is outside the operator's namespace, or the
// endpoint is not allowed); a person must fix it. reason is the Partner's
// Ready reason.
type CredentialsError struct{ Reason, msg string }

func (e *CredentialsError) Error() string { return e.msg }

// PartnerClients keeps one Partner Center client per Partner, so that tokens
// and the per-tenant rate limit are shared by every reconciler. Credentials are
// read with an uncached get of the one Secret a Partner names, only in the
// operator's own namespace, and only for a Partner whose endpoints are allowed:
// the operator caches no Secret's data (it watches only their metadata, to
// refresh a Partner whose Secret changed), and sends a credential nowhere but
// its cloud's hosts and the origins its own flags add.
type PartnerClients struct {
	Secrets   client.Reader // uncached
	writer    client.Writer // stores renewed refresh tokens (refreshtokens.go); nil stores nothing
	clock     clock.PassiveClock
	Namespace string  // the operator's namespace, the only one Secrets are read in
	origins   Origins // extra origins credentials may go to
	tokenFile string  // the operator's service-account token, for workload identity
	newCfg    func(pc.Config) pc.Config
	newGraph  func(graph.Config) graph.Config

	mu      sync.Mutex
	clients map[string]partnerClient // by Partner name
	// latest is each Partner's newest renewed refresh token this process
	// holds, with the fingerprint of the Partner's token it descends from:
	// a client rebuilt (a rotated client secret, a changed spec) starts from
	// it, even when storing it failed.
	latest map[string]latestToken
}

type partnerClient struct {
	spec   string // specFingerprint of the Partner the client was built for
	secret string // secretFingerprint of its credentials, with the Partner's own refresh token
	client *pc.Client
	// graph is the partner's Microsoft Graph client (GDAP), built from the
	// same credentials; graphErr says why there is none.
	graph    *graph.Client
	graphErr error
	// arm is the partner's Azure Resource Manager client (Azure
	// subscriptions under a customer's Azure plan); armErr says why there
	// is none.
	arm    *azurerm.Client
	armErr error
	// kind is the credential that authenticates the partner's application.
	kind entra.Kind
	// renewedAt is when its refresh token was last renewed (or signed in),
	// if known.
	renewedAt time.Time
	// err says why there is no client (the Secret is missing or incomplete).
	// It is kept like a client, so that reconcilers do not read the Secret
	// again on every pass; the Partner reconciler's refresh replaces it, on
	// its period and whenever the Secret changes.
	err error
}

func NewPartnerClients(secrets client.Reader, writer client.Writer, opts Options) *PartnerClients {
	configure := opts.PartnerCenter
	if configure == nil {
		configure = func(c pc.Config) pc.Config { return c }
	}
	configureGraph := opts.Graph
	if configureGraph == nil {
		configureGraph = func(c graph.Config) graph.Config { return c }
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &PartnerClients{Secrets: secrets, writer: writer, clock: clk, Namespace: opts.OperatorNamespace, origins: opts.AllowedOrigins, tokenFile: opts.WorkloadIdentityTokenFile,
		newCfg: configure, newGraph: configureGraph, clients: map[string]partnerClient{}, latest: map[string]latestToken{}}
}

// Get returns the Partner's client, or why there is none, building it on
// first use. Only a first use, or a changed Partner spec, reads the Secret.
func (p *PartnerClients) Get(ctx context.Context, partner *v1alpha1.Partner) (*pc.Client, error) {
	p.mu.Lock()
	c, ok := p.clients[partner.Name]
	p.mu.Unlock()
	if ok && c.spec == specFingerprint(partner) {
		return c.client, c.err
	}
	return p.Refresh(ctx, partner)
}

// Refresh reads the Partner's Secret again and rebuilds its client when
// anything it was built from changed (a rotated or fixed secret, a new
// endpoint). Whatever it concludes replaces what was kept for the Partner,
// a remembered failure included, so that the next get sees it; only an error
// reading the Secret (not its absence) keeps the old entry until the retry.
func (p *PartnerClients) Refresh(ctx context.Context, partner *v1alpha1.Partner) (*pc.Client, error) {
	if !partner.HasCredentials() {
		p.Forget(partner.Name)
		return nil, ErrReferenceOnly
	}
	// Where the credentials would go is checked before they are read.
	for _, d := range []struct{ field, url string }{
		{"spec.partnerCenter.endpoint", destinations.EndpointOf(partner)},
		{"spec.partnerCenter.authorityHost", destinations.AuthorityOf(partner)},
	} {
		if err := destinations.Check(partner.Spec.Cloud, d.field, d.url, p.origins); err != nil {
			return nil, p.failed(partner, &CredentialsError{v1alpha1.ReasonEndpointNotAllowed, err.Error() + "; no credential is sent there"})
		}
	}
	creds, signedInAt, err := p.credentials(ctx, partner)
	if err != nil {
		var ce *CredentialsError
		if errors.As(err, &ce) {
			return nil, p.failed(partner, ce)
		}
		return nil, err
	}
	// The newest refresh token the operator stored, when it descends from
	// the Partner's: the one in the Partner's Secret may have been replaced.
	var renewedAt time.Time
	from := tokenFingerprint(creds.RefreshToken)
	if creds.RefreshToken != "" {
		stored, at, err := p.storedRefreshToken(ctx, partner, from)
		if err != nil {
			return nil, fmt.Errorf("reading the stored refresh token of partner %s: %w", partner.Name, err)
		}
		if stored != "" {
			creds.RefreshToken, renewedAt = stored, at
		} else {
			renewedAt = signedInAt
		}
		p.mu.Lock()
		if l, ok := p.latest[partner.Name]; ok && l.from == from && l.at.After(renewedAt) {
			creds.RefreshToken, renewedAt = l.token, l.at // newer than what was stored
		}
		p.mu.Unlock()
	}
	cfg := pc.Config{
		Endpoint: destinations.EndpointOf(partner), AuthorityHost: destinations.AuthorityOf(partner),
		TenantID: partner.Spec.TenantID, Credentials: creds,
		OnRefreshTokenRenewed: func(token string) {
			now := p.clock.Now()
			p.mu.Lock()
			p.latest[partner.Name] = latestToken{from: from, token: token, at: now}
			p.mu.Unlock()
			p.storeRefreshToken(partner, from, token, now)
		},
	}
	// The stored refresh token is not part of the fingerprint: its renewals
	// are the client's own, and keep the client.
	fp := creds
	fp.RefreshToken = from
	spec, sec := specFingerprint(partner), secretFingerprint(fp)

	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[partner.Name]; ok && c.err == nil && c.spec == spec && c.secret == sec {
		// Unchanged (its refresh token's renewals are its own): keep its
		// cached token and rate limiter.
		if c.renewedAt.IsZero() || renewedAt.After(c.renewedAt) {
			c.renewedAt = renewedAt
			p.clients[partner.Name] = c
		}
		return c.client, nil
	}
	c, err := pc.New(p.newCfg(cfg))
	if err != nil {
		err := &CredentialsError{v1alpha1.ReasonEndpointNotAllowed, fmt.Sprintf("partner %s: %v", partner.Name, err)}
		p.clients[partner.Name] = partnerClient{spec: spec, err: err}
		return nil, err
	}
	// get reuses the client while the Partner's spec is unchanged; a changed
	// Secret is picked up by the Partner reconciler, which watches it.
	g, gErr := p.buildGraph(partner, cfg)
	a, aErr := p.buildARM(partner, cfg)
	p.clients[partner.Name] = partnerClient{spec: spec, secret: sec, kind: creds.Kind(), renewedAt: renewedAt, client: c, graph: g, graphErr: gErr, arm: a, armErr: aErr}
	return c, nil
}

// GetGraph returns the Partner's Microsoft Graph client, or why there is none.
// It is built with the Partner Center client, from the same Secret and
// token service; Graph's endpoint passes the same destination check.
func (p *PartnerClients) GetGraph(ctx context.Context, partner *v1alpha1.Partner) (*graph.Client, error) {
	if _, err := p.Get(ctx, partner); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.clients[partner.Name]
	return c.graph, c.graphErr
}

// buildGraph makes the Graph client from the Partner Center client's configuration.
func (p *PartnerClients) buildGraph(partner *v1alpha1.Partner, cfg pc.Config) (*graph.Client, error) {
	if err := destinations.Check(partner.Spec.Cloud, "spec.partnerCenter.graphEndpoint", graphEndpointOf(partner), p.origins); err != nil {
		return nil, &CredentialsError{v1alpha1.ReasonEndpointNotAllowed, err.Error() + "; no credential is sent there"}
	}
	g, err := graph.New(p.newGraph(graph.Config{
		Endpoint: graphEndpointOf(partner), AuthorityHost: cfg.AuthorityHost,
		TenantID: cfg.TenantID, Credentials: cfg.Credentials,
	}))
	if err != nil {
		return nil, &CredentialsError{v1alpha1.ReasonEndpointNotAllowed, fmt.Sprintf("partner %s: %v", partner.Name, err)}
	}
	return g, nil
}

// GetARM returns the Partner's Azure Resource Manager client, or why there
// is none. It is built with the Partner Center client, from the same
// Secret and token service; its endpoint passes the same destination check.
func (p *PartnerClients) GetARM(ctx context.Context, partner *v1alpha1.Partner) (*azurerm.Client, error) {
	if _, err := p.Get(ctx, partner); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.clients[partner.Name]
	return c.arm, c.armErr
}

// buildARM makes the Azure Resource Manager client from the Partner Center
// client's configuration: the application's token for ARM's audience.
func (p *PartnerClients) buildARM(partner *v1alpha1.Partner, cfg pc.Config) (*azurerm.Client, error) {
	endpoint := resourceManagerEndpointOf(partner)
	if err := destinations.Check(partner.Spec.Cloud, "spec.partnerCenter.resourceManagerEndpoint", endpoint, p.origins); err != nil {
		return nil, &CredentialsError{v1alpha1.ReasonEndpointNotAllowed, err.Error() + "; no credential is sent there"}
	}
	cred, err := entra.AppCredential(entra.Config{AuthorityHost: cfg.AuthorityHost, TenantID: cfg.TenantID, Credentials: cfg.Credentials})
	if err == nil {
		var c *azurerm.Client
		if c, err = azurerm.New(azurerm.Config{Endpoint: endpoint, Audience: resourceManagerAudience(partner), Credential: cred}); err == nil {
			return c, nil
		}
	}
	return nil, &CredentialsError{v1alpha1.ReasonEndpointNotAllowed, fmt.Sprintf("partner %s: Azure Resource Manager: %v", partner.Name, err)}
}

// resourceManagerAudience is the token audience of the partner's cloud's
// ARM, whatever origin serves it (a simulator asks for the same).
func resourceManagerAudience(p *v1alpha1.Partner) string {
	if p.Spec.Cloud == v1alpha1.CloudUSGovernment {
		return v1alpha1.DefaultResourceManagerEndpointUSGovernment
	}
	return v1alpha1.DefaultResourceManagerEndpointPublic
}

func resourceManagerEndpointOf(p *v1alpha1.Partner) string {
	if c := p.Spec.PartnerCenter; c != nil && c.ResourceManagerEndpoint != "" {
		return c.ResourceManagerEndpoint
	}
	return resourceManagerAudience(p)
}

func graphEndpointOf(p *v1alpha1.Partner) string {
	if c := p.Spec.PartnerCenter; c != nil && c.GraphEndpoint != "" {
		return c.GraphEndpoint
	}
	if p.Spec.Cloud == v1alpha1.CloudUSGovernment {
		return v1alpha1.DefaultGraphEndpointUSGovernment
	}
	return v1alpha1.DefaultGraphEndpointPublic
}

// failed remembers why the Partner has no client, and returns err.
func (p *PartnerClients) failed(partner *v1alpha1.Partner, err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clients[partner.Name] = partnerClient{spec: specFingerprint(partner), err: err}
	return err
}

func (p *PartnerClients) Forget(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.clients, name)
	delete(p.latest, name)
}

// specFingerprint covers what a client is built from in the Partner's spec.
func specFingerprint(p *v1alpha1.Partner) string {
	ref := ""
	if c := p.Spec.PartnerCenter; c != nil && c.CredentialsSecretRef != nil {
		ref = c.CredentialsSecretRef.Namespace + "/" + c.CredentialsSecretRef.Name
	}
	if c := p.Spec.PartnerCenter; c != nil && c.WorkloadIdentity != nil {
		ref += "|workload-identity:" + c.WorkloadIdentity.ClientID
	}
	return destinations.EndpointOf(p) + "|" + destinations.AuthorityOf(p) + "|" + p.Spec.TenantID + "|" + ref + "|" + string(p.Spec.Cloud) + "|" + graphEndpointOf(p)
}

// tokenFingerprint tells refresh tokens apart without keeping them in clear.
func tokenFingerprint(token string) string {
	if token == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("refresh-token\x00" + token))
	return hex.EncodeToString(sum[:8])
}

// secretFingerprint tells credentials apart without keeping them in clear.
func secretFingerprint(c pc.Credentials) string {
	sum := sha256.Sum256([]byte(c.ClientID + "\x00" + c.ClientSecret + "\x00" + string(c.ClientCertificate) + "\x00" +
		c.FederatedTokenFile + "\x00" + c.RefreshToken))
	return hex.EncodeToString(sum[:8])
}

// latestToken is a Partner's newest renewed refresh token in memory.
type latestToken struct {
	from, token string
	at          time.Time
}
