package azurerm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/google/uuid"
)

// The billing accounts are listed with a plain request through the same
// azcore ARM pipeline as the alias calls (bearer token, bounded retries,
// no redirects), decoded into billingAccountList below, rather than with
// the SDK's armbilling module: the Go module proxy this project builds
// from does not serve armbilling (its version list answers 404), and one
// documented GET needs only the few fields read here.

// billingAPIVersion is the api-version of Microsoft's MPA article's
// "Find the billing accounts that you have access to" request.
const billingAPIVersion = "2020-05-01"

// agreementMPA is the agreementType of a Microsoft Partner Agreement
// billing account.
const agreementMPA = "MicrosoftPartnerAgreement"

// maxBillingPages bounds the nextLink pages read for one list.
const maxBillingPages = 20

// billingAccountList is the documented shape of GET
// /providers/Microsoft.Billing/billingAccounts (api-version 2020-05-01).
type billingAccountList struct {
	Value    []billingAccount `json:"value"`
	NextLink string           `json:"nextLink"`
}

type billingAccount struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Properties struct {
		DisplayName   string `json:"displayName"`
		AgreementType string `json:"agreementType"`
		AccountStatus string `json:"accountStatus"`
	} `json:"properties"`
}

// PartnerBillingScope returns the billing scope under which the partner
// creates Azure subscriptions for a customer:
// /providers/Microsoft.Billing/billingAccounts/{name}/customers/{customerTenantID},
// with the name of the partner's Microsoft Partner Agreement billing
// account. No such account is ErrNoPartnerAgreement; several Active ones
// are an error too, as the scope would be a guess.
func (c *Client) PartnerBillingScope(ctx context.Context, customerTenantID string) (string, error) {
	customer, err := uuid.Parse(customerTenantID)
	if err != nil || len(customerTenantID) != 36 {
		return "", fmt.Errorf("azure resource manager: customer tenant ID %q is not a GUID", customerTenantID)
	}
	accounts, err := c.billingAccounts(ctx)
	if err != nil {
		return "", err
	}
	name, err := partnerAgreement(accounts)
	if err != nil {
		return "", err
	}
	return "/providers/Microsoft.Billing/billingAccounts/" + name + "/customers/" + customer.String(), nil
}

// partnerAgreement picks the MPA billing account: the only one, or the
// only Active one among several.
func partnerAgreement(accounts []billingAccount) (string, error) {
	var mpa, active, others []string
	for _, a := range accounts {
		if !strings.EqualFold(a.Properties.AgreementType, agreementMPA) {
			others = append(others, a.Name+" ("+a.Properties.AgreementType+")")
			continue
		}
		mpa = append(mpa, a.Name)
		if strings.EqualFold(a.Properties.AccountStatus, "Active") {
			active = append(active, a.Name)
		}
	}
	switch {
	case len(mpa) == 1:
		return mpa[0], nil
	case len(active) == 1:
		return active[0], nil
	case len(mpa) == 0 && len(others) == 0:
		return "", fmt.Errorf("%w: it sees no billing account at all", ErrNoPartnerAgreement)
	case len(mpa) == 0:
		return "", fmt.Errorf("%w: it sees only %s", ErrNoPartnerAgreement, strings.Join(others, ", "))
	}
	return "", fmt.Errorf("azure resource manager: the partner sees %d Microsoft Partner Agreement billing accounts (%s), %d of them Active: which one bills the customer is ambiguous",
		len(mpa), strings.Join(mpa, ", "), len(active))
}

// billingAccounts lists the billing accounts the credential can see,
// following nextLink only to the endpoint's own host: the request carries
// the bearer token.
func (c *Client) billingAccounts(ctx context.Context) ([]billingAccount, error) {
	next := c.endpoint.JoinPath("/providers/Microsoft.Billing/billingAccounts").String() + "?api-version=" + billingAPIVersion
	var all []billingAccount
	for page := 0; next != ""; page++ {
		if page == maxBillingPages {
			return nil, fmt.Errorf("azure resource manager: the billing account list has more than %d pages", maxBillingPages)
		}
		list, err := c.billingAccountPage(ctx, next)
		if err != nil {
			return nil, err
		}
		all = append(all, list.Value...)
		if next, err = c.sameHost(list.NextLink); err != nil {
			return nil, err
		}
	}
	return all, nil
}

func (c *Client) billingAccountPage(ctx context.Context, pageURL string) (*billingAccountList, error) {
	req, err := runtime.NewRequest(ctx, http.MethodGet, pageURL)
	if err != nil {
		return nil, err
	}
	req.Raw().Header.Set("Accept", "application/json")
	resp, err := c.arm.Pipeline().Do(req)
	if err != nil {
		return nil, armError(err)
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return nil, armError(runtime.NewResponseError(resp))
	}
	var list billingAccountList
	if err := runtime.UnmarshalAsJSON(resp, &list); err != nil {
		return nil, fmt.Errorf("azure resource manager: reading the billing accounts: %w", err)
	}
	return &list, nil
}

// sameHost checks that a nextLink points at the endpoint ("" ends the list).
func (c *Client) sameHost(link string) (string, error) {
	if link == "" {
		return "", nil
	}
	u, err := url.Parse(link)
	if err != nil || u.Scheme != c.endpoint.Scheme || !strings.EqualFold(u.Host, c.endpoint.Host) || u.User != nil {
		return "", errors.New("azure resource manager: the billing account list's nextLink points away from the endpoint; the bearer token is not sent there")
	}
	return link, nil
}
