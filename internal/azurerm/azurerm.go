// Package azurerm creates Azure subscriptions under a customer's Azure plan
// through Azure Resource Manager (ARM). A CSP partner's customer holds one
// Azure plan with the partner; each further Azure subscription under it is
// a subscription alias (Microsoft.Subscription/aliases, api-version
// 2021-10-01) whose billing scope names the partner's Microsoft Partner
// Agreement (MPA) billing account and the customer:
//
//	/providers/Microsoft.Billing/billingAccounts/{billingAccountName}/customers/{customerTenantId}
//
// The alias is the idempotency handle: a PUT of an alias that exists
// answers its current state and creates nothing, so the operator derives
// the alias from its operation ID and may send it again after any failure.
// Creating a subscription is a long-running operation; CreateSubscription
// sends the PUT once and returns ARM's first answer (usually Accepted), and
// the caller reads the alias again later (GetSubscription) until it
// Succeeded.
//
// Sources: https://learn.microsoft.com/azure/cost-management-billing/manage/programmatically-create-subscription-microsoft-partner-agreement,
// https://learn.microsoft.com/rest/api/subscription/2021-10-01/alias/create and
// https://learn.microsoft.com/rest/api/subscription/2021-10-01/alias/get.
package azurerm

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/subscription/armsubscription"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
)

const (
	// DefaultEndpoint is Azure Resource Manager in Azure's public cloud.
	DefaultEndpoint = "https://management.azure.com"
	// DefaultAudience is the audience of the tokens ARM accepts; the
	// credential is asked for DefaultAudience + "/.default".
	DefaultAudience = "https://management.azure.com"

	// MaxRetries bounds azcore's retries of one call (408, 5xx and
	// transport errors, after Retry-After when ARM sends one). The operator
	// reconciles again later, so a call gives up early.
	MaxRetries = 3
	// MaxRetryDelay bounds one wait between those retries.
	MaxRetryDelay = 10 * time.Second

	// moduleName and moduleVersion name this client in the User-Agent of
	// the billing-account requests (azcore's telemetry policy).
	moduleName    = "github.com/partnerops/multichannel-operator/internal/azurerm"
	moduleVersion = "v0.1.0"
)

// Config says where Azure Resource Manager is and how to authenticate.
type Config struct {
	// Endpoint is ARM's base URL; default DefaultEndpoint. It must be
	// https: every request carries a bearer token.
	Endpoint string
	// Audience is the token audience; default DefaultAudience.
	Audience string
	// Credential gets the tokens, such as entra.AppCredential's.
	Credential azcore.TokenCredential
	// HTTPClient sends the requests; it is copied and never follows a
	// redirect. nil uses a client with a 30 second timeout.
	HTTPClient *http.Client
}

// Client talks to Azure Resource Manager.
type Client struct {
	endpoint *url.URL
	// arm is the pipeline of the billing-account requests, which are not
	// made through an SDK client (see billing.go).
	arm     *arm.Client
	aliases *armsubscription.AliasClient
}

// New returns a client for cfg. It refuses an endpoint that is not https.
func New(cfg Config) (*Client, error) {
	endpoint, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if cfg.Credential == nil {
		return nil, errors.New("azure resource manager: a credential is required")
	}
	audience := strings.TrimRight(cfg.Audience, "/")
	if audience == "" {
		audience = DefaultAudience
	}
	opts := clientOptions(endpoint.String(), audience, cfg.HTTPClient)
	base, err := arm.NewClient(moduleName, moduleVersion, cfg.Credential, opts)
	if err != nil {
		return nil, fmt.Errorf("azure resource manager client: %w", err)
	}
	aliases, err := armsubscription.NewAliasClient(cfg.Credential, opts)
	if err != nil {
		return nil, fmt.Errorf("azure resource manager alias client: %w", err)
	}
	return &Client{endpoint: endpoint, arm: base, aliases: aliases}, nil
}

// parseEndpoint checks that raw (default DefaultEndpoint) is an https URL
// of a host alone.
func parseEndpoint(raw string) (*url.URL, error) {
	if raw == "" {
		raw = DefaultEndpoint
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("azure resource manager endpoint %q: %w", raw, err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("azure resource manager endpoint %q must be an https URL: its requests carry a bearer token", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("azure resource manager endpoint %q must be a scheme and host alone", raw)
	}
	u.Path = ""
	return u, nil
}

// retriedStatusCodes are the answers azcore sends a call again after:
// azcore's defaults without 429 (http.StatusTooManyRequests).
var retriedStatusCodes = []int{http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway,
	http.StatusServiceUnavailable, http.StatusGatewayTimeout}

// clientOptions configure azcore: ARM at endpoint with the audience, the
// caller's HTTP client without redirects, bounded retries, and no resource
// provider registration (the alias and billing routes are tenant-level:
// there is no subscription to register a provider in).
func clientOptions(endpoint, audience string, hc *http.Client) *arm.ClientOptions {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &arm.ClientOptions{
		ClientOptions: policy.ClientOptions{
			Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: endpoint, Audience: audience},
			}},
			Transport: transport{apiretry.NoRedirects(hc, "Azure Resource Manager")},
			// 429 is not waited out inside a call: it returns at once, and
			// the caller tries again later. A 5xx is retried after its
			// Retry-After only when that is at most MaxRetryDelay (azcore
			// returns a longer one's answer at once).
			Retry: policy.RetryOptions{MaxRetries: MaxRetries, MaxRetryDelay: MaxRetryDelay, StatusCodes: retriedStatusCodes},
		},
		DisableRPRegistration: true,
	}
}

// transport sends azcore's requests with the no-redirect client, and marks
// a refused redirect as final: azcore's retry policy would otherwise send
// the request again, as it does after any transport error.
type transport struct{ hc *http.Client }

func (t transport) Do(req *http.Request) (*http.Response, error) {
	resp, err := t.hc.Do(req)
	if re, ok := apiretry.RedirectRefused(err); ok {
		return nil, finalError{re}
	}
	return resp, err
}

// finalError is an error azcore does not retry (it looks for the
// NonRetriable method).
type finalError struct{ error }

func (e finalError) NonRetriable() {}

func (e finalError) Unwrap() error { return e.error }
