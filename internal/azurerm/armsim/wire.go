package armsim

// The wire types are the simulator's own, written from Microsoft's
// published shapes, so that the client's decoding is tested against them
// rather than against itself.

// errorResponse is ARM's error body: {"error":{"code":...,"message":...}}.
type errorResponse struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// BillingAccount is a billing account as GET
// /providers/Microsoft.Billing/billingAccounts?api-version=2020-05-01
// lists it. The simulator fills ID and Type when they are empty.
type BillingAccount struct {
	ID         string                   `json:"id"`
	Name       string                   `json:"name"`
	Type       string                   `json:"type"`
	Properties BillingAccountProperties `json:"properties"`
}

// BillingAccountProperties are the documented properties of a billing
// account.
type BillingAccountProperties struct {
	DisplayName   string `json:"displayName,omitempty"`
	AgreementType string `json:"agreementType"`
	AccountStatus string `json:"accountStatus,omitempty"`
	AccountType   string `json:"accountType,omitempty"`
	HasReadAccess bool   `json:"hasReadAccess"`
}

// AgreementMPA is the agreementType of a Microsoft Partner Agreement
// billing account.
const AgreementMPA = "MicrosoftPartnerAgreement"

// PartnerAgreement is an Active Microsoft Partner Agreement billing account,
// as the MPA article's example lists it.
func PartnerAgreement(name, displayName string) BillingAccount {
	return BillingAccount{Name: name, Properties: BillingAccountProperties{
		DisplayName: displayName, AgreementType: AgreementMPA, AccountStatus: "Active", AccountType: "Partner", HasReadAccess: true,
	}}
}

type billingAccountList struct {
	Value    []BillingAccount `json:"value"`
	NextLink string           `json:"nextLink,omitempty"`
}

// putAliasRequest is the body of Alias_Create (PutAliasRequest).
type putAliasRequest struct {
	Properties *putAliasProperties `json:"properties"`
}

type putAliasProperties struct {
	DisplayName    string  `json:"displayName"`
	Workload       string  `json:"workload"`
	BillingScope   string  `json:"billingScope"`
	SubscriptionID *string `json:"subscriptionId"`
	ResellerID     *string `json:"resellerId"`
}

// aliasResponse is SubscriptionAliasResponse.
type aliasResponse struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Properties aliasProperties `json:"properties"`
}

type aliasProperties struct {
	SubscriptionID    string `json:"subscriptionId,omitempty"`
	DisplayName       string `json:"displayName"`
	ProvisioningState string `json:"provisioningState"`
	BillingScope      string `json:"billingScope"`
	Workload          string `json:"workload"`
	CreatedTime       string `json:"createdTime,omitempty"`
}
