package sim

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/partnerops/multichannel-operator/internal/azurerm/armsim"
)

// Azure under an Azure plan: the plan's Azure subscriptions (its
// entitlements, "Get a list of Azure entitlements for a subscription"), and
// Azure Resource Manager (armsim) on the same server, which creates more
// of them under the plan through the partner's Microsoft Partner Agreement
// billing account.
// Sources:
// https://learn.microsoft.com/partner-center/developer/get-a-list-of-azure-entitlements-for-subscription
// https://learn.microsoft.com/partner-center/developer/create-azure-plan
// https://learn.microsoft.com/azure/cost-management-billing/manage/programmatically-create-subscription-microsoft-partner-agreement

// azureEntitlement is the AzureEntitlement resource: an Azure subscription
// (id) under the Azure plan subscriptionId.
type azureEntitlement struct {
	ID             string `json:"id"`
	FriendlyName   string `json:"friendlyName"`
	Status         string `json:"status"`
	SubscriptionID string `json:"subscriptionId"`
}

// firstAzureSubscriptionName is the friendlyName of the Azure subscription
// an Azure plan's purchase creates, as the documented entitlement example
// names it ("When an Azure plan is created in Partner Center, a
// corresponding Azure usage subscription is also created in Azure").
const firstAzureSubscriptionName = "Microsoft Azure"

// addEntitlement puts a new Azure subscription under the plan and returns
// its ID. The caller holds s.mu.
func (s *Server) addEntitlement(planID, friendlyName string) string {
	e := azureEntitlement{ID: uuid.NewString(), FriendlyName: friendlyName, Status: "active", SubscriptionID: planID}
	s.st.Entitlements[planID] = append(s.st.Entitlements[planID], e)
	s.st.Stats.ObjectsCreated["azureSubscription"]++
	return e.ID
}

// azureEntitlements lists the Azure subscriptions under one of the
// partner's Azure plans for the customer; any other subscription is not
// found, as a subscription the partner does not hold is.
func (s *Server) azureEntitlements(r *http.Request, partner string) reply {
	provisioned := s.provisionDue(partner, r.PathValue("customer"))
	o, errReply := s.ownedSubscription(r, partner)
	if o == nil {
		return errReply
	}
	if !isAzurePlan(o.Subscription.OfferID) {
		return fail(http.StatusNotFound, codeSubscriptionNotFound, "Subscription with ID %s not found: it is not an Azure plan.", o.Subscription.ID)
	}
	items := append([]azureEntitlement{}, s.st.Entitlements[o.Subscription.ID]...)
	return ok(collection[azureEntitlement]{TotalCount: len(items), Items: items, Attributes: attributes{ObjectType: "Collection"}}, provisioned)
}

// BillingAccountName is the name of the partner tenant's Microsoft Partner
// Agreement billing account, derived from the tenant in the documented
// form <guid>:<guid>_YYYY-MM-DD (the MPA article's billing account list).
func BillingAccountName(partnerTenant string) string {
	id := uuid.NewSHA1(billingNamespace, []byte(strings.ToLower(partnerTenant)))
	return id.String() + ":" + strings.ToLower(partnerTenant) + "_2019-05-31"
}

var billingNamespace = uuid.MustParse("6c1f0c52-3f7e-4c38-9a55-0f2b8d4e7a19")

// billingAccounts are the billing accounts a partner tenant's ARM tokens
// see: its one Microsoft Partner Agreement account.
func billingAccounts(tenant string) []armsim.BillingAccount {
	return []armsim.BillingAccount{armsim.PartnerAgreement(BillingAccountName(tenant), "Partner "+tenant)}
}

// createUnderPlan is armsim's CreateUnderPlan: the customer must hold an
// active Azure plan with the partner ("You can create subscriptions for
// these customers", customers with Azure plans); the new Azure subscription
// joins the plan's entitlements. An indirect provider holding plans for
// several resellers gets the first by ID: armsim does not pass the alias's
// resellerId. serveARM holds s.mu while armsim calls it.
func (s *Server) createUnderPlan(partner, _, customer, displayName string) (string, error) {
	s.provisionDue(partner, customer)
	var plans []string
	for id, o := range s.st.Subscriptions {
		if o.Owner == partner && strings.EqualFold(o.Customer, customer) && isAzurePlan(o.Subscription.OfferID) && o.Subscription.Status == "active" {
			plans = append(plans, id)
		}
	}
	if len(plans) == 0 {
		return "", armsim.NoAzurePlan(customer)
	}
	sort.Strings(plans)
	return s.addEntitlement(plans[0], displayName), nil
}

// serveARM serves Azure Resource Manager's routes. armsim calls back into
// the simulator's state (CreateUnderPlan) with its own lock held, so this
// holds s.mu throughout: the lock order is always s.mu, then armsim's. The
// state, ARM's included, is saved after each request.
func (s *Server) serveARM(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arm.ServeHTTP(w, r)
	_ = s.save()
}

// VerifyToken checks the signature of a bearer token of the simulator's
// token endpoint and returns its claims: tid (the tenant), aud (the
// resource its scope named), exp and grant. Expiry is the caller's to
// check, as armsim does (answering ARM's ExpiredAuthenticationToken). It is
// armsim's Options.VerifyToken, and takes no lock.
func (s *Server) VerifyToken(raw string) (map[string]any, error) {
	c, err := s.parseToken(raw)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	return claims, json.Unmarshal(data, &claims)
}

// newARM is the ARM simulator the server mounts at /providers/.
func (s *Server) newARM() *armsim.Server {
	return armsim.New(armsim.Options{VerifyToken: s.VerifyToken, BillingAccounts: billingAccounts,
		CreateUnderPlan: s.createUnderPlan, ProvisioningPolls: s.opts.ARMProvisioningPolls, Now: s.opts.Now})
}
