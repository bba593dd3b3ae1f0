package azurerm

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/subscription/armsubscription"
)

// The provisioning states of a subscription alias (the spec's enum).
const (
	ProvisioningAccepted  = string(armsubscription.ProvisioningStateAccepted)
	ProvisioningSucceeded = string(armsubscription.ProvisioningStateSucceeded)
	ProvisioningFailed    = string(armsubscription.ProvisioningStateFailed)
)

// Subscription is what ARM says of a subscription alias.
type Subscription struct {
	Alias string
	// SubscriptionID is the Azure subscription's ID, set only once
	// ProvisioningState is Succeeded. ARM's answers may name an ID while
	// Accepted (Microsoft's examples do, and the MPA article's Accepted
	// answer names another ID than its Succeeded one), so an earlier ID is
	// not reported: nothing should be recorded before it is final.
	SubscriptionID string
	// ProvisioningState is Accepted while ARM creates the subscription,
	// then Succeeded, or Failed (final for this alias: a new alias is a
	// new request).
	ProvisioningState string
}

// CreateSubscription asks ARM for an Azure subscription named displayName
// under billingScope (PartnerBillingScope's), as a Production workload,
// through a PUT of the subscription alias. It sends the PUT once (azcore
// repeats it only after a transport error, 408 or 5xx, which the alias
// makes safe; a 429 returns at once) and returns ARM's answer without waiting for the
// subscription: Accepted at first, the alias's current state when it
// already exists. A failure is an *Error when ARM answered.
func (c *Client) CreateSubscription(ctx context.Context, alias, displayName, billingScope string) (*Subscription, error) {
	if alias == "" || displayName == "" || billingScope == "" {
		return nil, errors.New("azure resource manager: an alias, a display name and a billing scope are required")
	}
	workload := armsubscription.WorkloadProduction
	body := armsubscription.PutAliasRequest{Properties: &armsubscription.PutAliasRequestProperties{
		DisplayName: &displayName, Workload: &workload, BillingScope: &billingScope,
	}}
	var resp *http.Response
	// The SDK's poller keeps the first answer to itself; the captured
	// response is that answer (its body already read into memory).
	if _, err := c.aliases.BeginCreate(policy.WithCaptureResponse(ctx, &resp), alias, body, nil); err != nil {
		return nil, armError(err)
	}
	if resp == nil {
		return nil, errors.New("azure resource manager: the alias PUT returned no response")
	}
	var created armsubscription.AliasResponse
	if err := runtime.UnmarshalAsJSON(resp, &created); err != nil {
		return nil, fmt.Errorf("azure resource manager: reading the alias PUT's answer: %w", err)
	}
	return subscriptionOf(alias, created)
}

// GetSubscription reads the subscription alias: its provisioning state and,
// once it Succeeded, the subscription's ID. An alias ARM does not know is
// ErrAliasNotFound (wrapping ARM's *Error).
func (c *Client) GetSubscription(ctx context.Context, alias string) (*Subscription, error) {
	if alias == "" {
		return nil, errors.New("azure resource manager: an alias is required")
	}
	got, err := c.aliases.Get(ctx, alias, nil)
	if err != nil {
		err = armError(err)
		var e *Error
		if errors.As(err, &e) && e.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("%w %q: %w", ErrAliasNotFound, alias, err)
		}
		return nil, err
	}
	return subscriptionOf(alias, got.AliasResponse)
}

// subscriptionOf reads the SDK's alias model. An alias that Succeeded
// without naming its subscription is an error: the caller would otherwise
// take the creation as done with nothing to record.
func subscriptionOf(alias string, r armsubscription.AliasResponse) (*Subscription, error) {
	s := &Subscription{Alias: alias}
	if r.Properties != nil && r.Properties.ProvisioningState != nil {
		s.ProvisioningState = string(*r.Properties.ProvisioningState)
	}
	if s.ProvisioningState != ProvisioningSucceeded {
		return s, nil
	}
	if r.Properties.SubscriptionID == nil || *r.Properties.SubscriptionID == "" {
		return nil, fmt.Errorf("azure resource manager: alias %q Succeeded without a subscriptionId", alias)
	}
	s.SubscriptionID = *r.Properties.SubscriptionID
	return s, nil
}
