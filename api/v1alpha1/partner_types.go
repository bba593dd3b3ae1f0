package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CSPType is how an organisation takes part in the Cloud Solution Provider program.
// +kubebuilder:validation:Enum=DirectBill;IndirectProvider;IndirectReseller;None
type CSPType string

const (
	// CSPTypeDirectBill bills its customers directly and buys from Microsoft.
	CSPTypeDirectBill CSPType = "DirectBill"
	// CSPTypeIndirectProvider (a distributor) sells through indirect resellers.
	CSPTypeIndirectProvider CSPType = "IndirectProvider"
	// CSPTypeIndirectReseller sells through an indirect provider.
	CSPTypeIndirectReseller CSPType = "IndirectReseller"
	// CSPTypeNone is an organisation outside the CSP program.
	CSPTypeNone CSPType = "None"
)

// Defaults for a partner's Partner Center connection.
const (
	// DefaultPartnerCenterEndpoint is the public Partner Center REST API.
	DefaultPartnerCenterEndpoint = "https://api.partnercenter.microsoft.com"
	// DefaultAuthorityHostPublic is Entra ID's token service in the public cloud.
	DefaultAuthorityHostPublic = "https://login.microsoftonline.com"
	// DefaultAuthorityHostUSGovernment is Entra ID's token service for US Government.
	DefaultAuthorityHostUSGovernment = "https://login.microsoftonline.us"
)

// Keys of a partner's credentials Secret.
const (
	SecretKeyClientID     = "clientID"
	SecretKeyClientSecret = "clientSecret"
	// SecretKeyClientCertificate holds PEM: the certificate registered with
	// the partner's application and its unencrypted RSA private key. It is
	// used instead of clientSecret when both are present.
	SecretKeyClientCertificate = "clientCertificate"
	SecretKeyRefreshToken      = "refreshToken"
)

// AnnotationRefreshTokenRenewedAt is when a Secret's refresh token was
// signed in (kubectl multichannel login writes it on the Partner's Secret)
// or last renewed by the token service (the operator's own Secret). The
// operator warns 60 days after it: a refresh token unused for 90 expires.
const AnnotationRefreshTokenRenewedAt = "multichannel.partnerops.io/refresh-token-renewed-at"

// Reasons of a Partner's Ready condition.
const (
	// ReasonReferenceOnly: the partner has no credentials; it is reference data.
	ReasonReferenceOnly = "ReferenceOnly"
	// ReasonTokenObtained: the credentials were accepted by the token service.
	ReasonTokenObtained = "TokenObtained"
	// ReasonCredentialsNotFound: the Secret or one of its keys is missing.
	ReasonCredentialsNotFound = "CredentialsNotFound"
	// ReasonTokenFailed: the token service refused the credentials or could not be reached.
	ReasonTokenFailed = "TokenFailed"
	// ReasonEndpointNotAllowed: endpoint or authorityHost is not an https URL on
	// a host of the partner's cloud, nor an origin the operator's flags allow;
	// no credential is sent there.
	ReasonEndpointNotAllowed = "EndpointNotAllowed"
	// ReasonSecretNamespaceNotAllowed: credentialsSecretRef names a namespace
	// other than the operator's own, the only one where it reads Secrets.
	ReasonSecretNamespaceNotAllowed = "SecretNamespaceNotAllowed"
)

// ConditionAppUserCalls says whether the partner's credentials can make App+User
// calls (the reseller request link needs one): True when the Secret holds a
// refreshToken that the token service accepted.
const ConditionAppUserCalls = "AppUserCalls"

// Reasons of a Partner's AppUserCalls condition.
const (
	// ReasonUserTokenObtained: the refresh token earned an App+User token.
	ReasonUserTokenObtained = "UserTokenObtained"
	// ReasonNoRefreshToken: the Secret has no refreshToken, so only App-only
	// calls are possible; reseller request links cannot be asked for.
	ReasonNoRefreshToken = "NoRefreshToken"
	// ReasonRefreshTokenFailed: the token service refused the refresh token
	// (revoked, replaced, or expired unused): a person signs in again.
	ReasonRefreshTokenFailed = "RefreshTokenFailed"
	// ReasonRefreshTokenAging: the refresh token works but has not been
	// renewed for 60 days; unused for 90 it expires.
	ReasonRefreshTokenAging = "RefreshTokenAging"
)

// SecretReference names a Secret in the operator's own namespace.
type SecretReference struct {
	// namespace of the Secret. The operator reads Secrets only in its own
	// namespace; leave this empty, or name that namespace. Any other is refused
	// (Ready False, reason SecretNamespaceNotAllowed).
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace,omitempty"`

	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// PartnerCenterConnection says how the operator reaches Partner Center on behalf of a partner.
type PartnerCenterConnection struct {
	// endpoint is the base URL of the Partner Center REST API. When empty the
	// operator uses the public Partner Center API, https://api.partnercenter.microsoft.com.
	// It must be an https URL on a host of the partner's cloud, or an origin the
	// operator's --allowed-origins flag adds; otherwise nothing is sent
	// (Ready False, reason EndpointNotAllowed).
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^\s]+$`
	Endpoint string `json:"endpoint,omitempty"`

	// authorityHost is the base URL of the Entra ID token service; tokens are
	// requested from {authorityHost}/{tenantID}/oauth2/v2.0/token. When empty it
	// follows spec.cloud: https://login.microsoftonline.com for Public,
	// https://login.microsoftonline.us for USGovernment. The same host rule as
	// endpoint applies: the client secret goes only to an allowed token service.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^\s]+$`
	AuthorityHost string `json:"authorityHost,omitempty"`

	// graphEndpoint is the base URL of Microsoft Graph, which the operator
	// calls for GDAP relationships (DelegatedAdminRelationship) with the same
	// credentials and token service. When empty it follows spec.cloud:
	// https://graph.microsoft.com for Public, https://graph.microsoft.us for
	// USGovernment. The same host rule as endpoint applies.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^\s]+$`
	GraphEndpoint string `json:"graphEndpoint,omitempty"`

	// resourceManagerEndpoint is Azure Resource Manager's base URL, where
	// the operator creates Azure subscriptions under a customer's Azure
	// plan, with the same credentials and token service. When empty it
	// follows spec.cloud: https://management.azure.com for Public,
	// https://management.usgovcloudapi.net for USGovernment. The same host
	// rule as endpoint applies.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^\s]+$`
	ResourceManagerEndpoint string `json:"resourceManagerEndpoint,omitempty"`

	// credentialsSecretRef names the Secret, in the operator's own namespace,
	// holding the partner's application credentials: key clientID, and
	// clientCertificate (PEM certificate and private key, preferred) or
	// clientSecret; optionally refreshToken (needed for App+User calls such
	// as the reseller request link). With workloadIdentity, only its
	// refreshToken is read. Without either, the partner is reference data
	// only and the operator calls nothing on its behalf.
	// +optional
	CredentialsSecretRef *SecretReference `json:"credentialsSecretRef,omitempty"`

	// workloadIdentity makes the operator authenticate as the partner's
	// application with Kubernetes workload identity federation: it
	// exchanges its own service-account token (audience
	// api://AzureADTokenExchange, the file its --workload-identity-token-file
	// flag names) for an Entra ID token, so no client secret or key is kept
	// at rest. The application needs a federated identity credential trusting
	// the cluster's service-account issuer and the operator's service
	// account. A credentialsSecretRef beside it is read for refreshToken only.
	// +optional
	WorkloadIdentity *WorkloadIdentity `json:"workloadIdentity,omitempty"`
}

// WorkloadIdentity names the partner's application that trusts the
// operator's service account.
type WorkloadIdentity struct {
	// clientID is the application (client) ID of the partner's Entra ID app
	// registration, a GUID.
	// +required
	// +kubebuilder:validation:MaxLength=36
	// +kubebuilder:validation:Pattern=`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`
	ClientID string `json:"clientID"`
}

// PartnerSpec describes a CSP partner organisation: ours, or the one a customer bought from.
// +kubebuilder:validation:XValidation:rule="self.cspType != 'IndirectReseller' || has(self.indirectProviderRef)",message="indirectProviderRef is required when cspType is IndirectReseller: name the Partner that is its indirect provider",fieldPath=".indirectProviderRef"
// +kubebuilder:validation:XValidation:rule="self.cspType != 'IndirectReseller' || has(self.partnerID)",message="partnerID is required when cspType is IndirectReseller: its indirect provider buys for it and names it by its Partner ID as the partner of record",fieldPath=".partnerID"
type PartnerSpec struct {
	// displayName is the organisation's name as people know it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName"`

	// tenantID is the partner's Entra ID tenant, a GUID. It cannot change:
	// authorizations name it; another tenant is another Partner.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="tenantID cannot change: authorizations name the partner's tenant; declare another Partner for another tenant"
	// +kubebuilder:validation:MaxLength=36
	// +kubebuilder:validation:Pattern=`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`
	TenantID string `json:"tenantID"`

	// partnerID is the partner's Partner ID (formerly MPN ID), digits only.
	// Required for an IndirectReseller: its indirect provider names it so as
	// the partner of record of what it buys for it.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:Pattern=`^[0-9]+$`
	PartnerID string `json:"partnerID,omitempty"`

	// cspType is how the partner takes part in the Cloud Solution Provider
	// program: DirectBill, IndirectProvider, IndirectReseller, or None for an
	// organisation outside it (such a partner cannot take on subscriptions).
	// +required
	CSPType CSPType `json:"cspType"`

	// cloud is the Microsoft cloud the partner operates in: Public (default) or
	// USGovernment. A partner can only support customers in its own cloud.
	// +optional
	// +kubebuilder:default=Public
	Cloud Cloud `json:"cloud,omitempty"`

	// country is the partner's country as an ISO 3166-1 alpha-2 code, such as US
	// or DE. A partner can only support customers in its own country.
	// +required
	// +kubebuilder:validation:MaxLength=2
	// +kubebuilder:validation:Pattern=`^[A-Z]{2}$`
	Country string `json:"country"`

	// indirectProviderRef is the name of the Partner acting as this partner's
	// indirect provider. Required when cspType is IndirectReseller; that Partner
	// must have cspType IndirectProvider. An indirect reseller has no Partner
	// Center API access of its own: the operator calls Partner Center for it
	// with its indirect provider's credentials (and budget), naming the
	// reseller as partner of record; the reseller's own credentials, if any,
	// serve Microsoft Graph (GDAP) only.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	IndirectProviderRef string `json:"indirectProviderRef,omitempty"`

	// partnerCenter says how the operator reaches Partner Center for this partner.
	// Absent, or without credentialsSecretRef: the partner is reference data only.
	// +optional
	PartnerCenter *PartnerCenterConnection `json:"partnerCenter,omitempty"`

	// namespaceSelector selects the namespaces whose objects may act through
	// this partner: buy, transfer, request relationships and admin access
	// with its credentials and request budget. An object in a namespace it
	// does not select is Stalled with reason PartnerNotAllowed and nothing is
	// sent. Absent: no namespace may act through it (it is reference data,
	// such as the partner a customer bought from); {} selects every namespace.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// delivery says how the operator tells customers' contacts
	// (Customer spec.contacts) what the customer must do for this partner,
	// and how often it reminds them. Absent: nothing is sent; the links stay
	// in the objects' status.
	// +optional
	Delivery *Delivery `json:"delivery,omitempty"`
}

// PartnerStatus is what the operator last observed of a Partner.
type PartnerStatus struct {
	// observedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready is True when the credentials are present and a token was
	// obtained, or when the partner is reference data only (reason ReferenceOnly);
	// AppUserCalls says whether App+User calls (the request link) are possible.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// activityLogs say where the operator stands in the partner's Partner
	// Center activity log, which it reads once per interval to wake only the
	// objects each record concerns: one entry per shard (the manager of each
	// shard wakes its own objects; "" when not sharded). Absent until the
	// first read.
	// +optional
	// +listType=map
	// +listMapKey=shard
	// +kubebuilder:validation:MaxItems=64
	ActivityLogs []ActivityLogStatus `json:"activityLogs,omitempty"`
}

// ActivityLogStatus is a partner's activity-log checkpoint. It outlives a
// restart: the next read starts at readThrough less an overlap, and the
// records of the overlap already applied are known by their IDs.
type ActivityLogStatus struct {
	// shard is the shard whose manager reads it ("" when not sharded).
	// +required
	// +kubebuilder:validation:MaxLength=63
	Shard string `json:"shard"`

	// readThrough is the end of the last window read completely.
	// +required
	ReadThrough metav1.Time `json:"readThrough"`

	// recentRecords are the records already applied that are dated within
	// the overlap before readThrough, each as the first 16 hexadecimal digits
	// of the SHA-256 of its ID (Partner Center's IDs are long).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=2000
	// +kubebuilder:validation:items:Pattern=`^[0-9a-f]{16}$`
	RecentRecords []string `json:"recentRecords,omitempty"`

	// recordsApplied counts the records applied since the partner was created.
	// +optional
	RecordsApplied int64 `json:"recordsApplied,omitempty"`
}

// Partner is a CSP partner organisation: ours, one that sells through us, or one
// a customer bought a subscription from.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=pt,categories=multichannel
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="CSP Type",type=string,JSONPath=`.spec.cspType`
// +kubebuilder:printcolumn:name="Cloud",type=string,JSONPath=`.spec.cloud`
// +kubebuilder:printcolumn:name="Country",type=string,JSONPath=`.spec.country`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="App+User",type=string,JSONPath=`.status.conditions[?(@.type=="AppUserCalls")].status`,priority=1
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Activity Read Through",type=string,JSONPath=`.status.activityLogs[0].readThrough`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Partner struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec describes the partner organisation.
	// +required
	Spec PartnerSpec `json:"spec"`

	// status is what the operator last observed.
	// +optional
	Status PartnerStatus `json:"status,omitempty"`
}

// PartnerList is a list of Partners.
// +kubebuilder:object:root=true
type PartnerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Partner `json:"items"`
}

// HasCredentials reports whether the operator may call on the partner's
// behalf: it names a credentials Secret or a workload identity. Without
// either it is reference data.
func (p *Partner) HasCredentials() bool {
	return p != nil && p.Spec.PartnerCenter != nil &&
		(p.Spec.PartnerCenter.CredentialsSecretRef != nil || p.Spec.PartnerCenter.WorkloadIdentity != nil)
}
