package v1alpha1

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GDAPPhase is where a granular delegated admin (GDAP) relationship stands.
// +kubebuilder:validation:Enum=Pending;ApprovalPending;Active;Expiring;Expired;Terminated;Failed
type GDAPPhase string

const (
	// GDAPPending: the relationship is not yet in Microsoft Graph, or not yet
	// locked for the customer's approval.
	GDAPPending GDAPPhase = "Pending"
	// GDAPApprovalPending: the customer's Global admin has the link in
	// status.invitationURL and has not approved yet (or Graph is activating it).
	GDAPApprovalPending GDAPPhase = "ApprovalPending"
	// GDAPActive: the customer approved; the roles are granted until status.endsAt.
	GDAPActive GDAPPhase = "Active"
	// GDAPExpiring: active, but it ends within 30 days and will not auto-extend.
	GDAPExpiring GDAPPhase = "Expiring"
	// GDAPExpired: it ended (or the customer did not approve within 90 days); final.
	GDAPExpired GDAPPhase = "Expired"
	// GDAPTerminated: the partner or the customer ended it; final.
	GDAPTerminated GDAPPhase = "Terminated"
	// GDAPFailed: Microsoft Graph refused the relationship as declared.
	GDAPFailed GDAPPhase = "Failed"
)

// ConditionExpiresSoon is True from 30 days before a relationship that will
// not auto-extend ends (reason ExpiresWithin30Days, then ExpiresWithin7Days).
const ConditionExpiresSoon = "ExpiresSoon"

// FinalizerTerminateGDAP is set on a DelegatedAdminRelationship whose
// spec.terminateOnDelete is true: deleting the object first asks Microsoft
// Graph to terminate the relationship.
const FinalizerTerminateGDAP = "multichannel.partnerops.io/terminate-gdap"

// Defaults of the Microsoft Graph API, by cloud.
const (
	// DefaultGraphEndpointPublic is Microsoft Graph in the public cloud.
	DefaultGraphEndpointPublic = "https://graph.microsoft.com"
	// DefaultGraphEndpointUSGovernment is Microsoft Graph for US Government.
	DefaultGraphEndpointUSGovernment = "https://graph.microsoft.us"
	// DefaultResourceManagerEndpointPublic is Azure Resource Manager in the public cloud.
	DefaultResourceManagerEndpointPublic = "https://management.azure.com"
	// DefaultResourceManagerEndpointUSGovernment is Azure Resource Manager for US Government.
	DefaultResourceManagerEndpointUSGovernment = "https://management.usgovcloudapi.net"
)

// GlobalAdministratorRoleID is the template ID of the Microsoft Entra Global
// Administrator role: a relationship that includes it cannot auto-extend.
const GlobalAdministratorRoleID = "62e90394-69f5-4237-9190-012177145e10"

// EntraRoles are the Microsoft Entra built-in roles commonly used to support a
// customer, by the name spec.roles accepts for them, with their role template
// IDs (Microsoft Entra built-in roles, "All roles" table). Any other role is
// written as its template ID. The CEL rules of DelegatedAdminRelationshipSpec
// repeat these names; a test keeps them in step.
var EntraRoles = map[string]string{
	"GlobalAdministrator":            GlobalAdministratorRoleID,
	"GlobalReader":                   "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
	"DirectoryReaders":               "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
	"HelpdeskAdministrator":          "729827e3-9c14-49f7-bb1b-9608f156bbb8",
	"ServiceSupportAdministrator":    "f023fd81-a637-4b56-95fd-791ac0226033",
	"UserAdministrator":              "fe930be7-5e62-47db-91af-98c3a49a38b1",
	"LicenseAdministrator":           "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
	"BillingAdministrator":           "b0f54661-2d74-4c50-afa3-1ec803f12efe",
	"ExchangeAdministrator":          "29232cdf-9323-42fd-ade2-1d097af3e4de",
	"SharePointAdministrator":        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
	"TeamsAdministrator":             "69091246-20e8-4a56-aa4d-066075b2a7a8",
	"IntuneAdministrator":            "3a2c62db-5318-420d-8d74-23affee5d9d5",
	"SecurityAdministrator":          "194ae4cb-b126-40b2-bd5b-6091b380977d",
	"SecurityReader":                 "5d6b6bb7-de71-4623-b4af-96380a352509",
	"PrivilegedRoleAdministrator":    "e8611ab8-c189-46e8-94e1-60213ab1f814",
	"CloudApplicationAdministrator":  "158c047a-c907-4556-b7ef-446551a6b5f7",
	"ApplicationAdministrator":       "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
	"AuthenticationAdministrator":    "c4e39bd9-1100-46d3-8c65-fb160da0071f",
	"ConditionalAccessAdministrator": "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
}

// RoleTemplateID returns the Entra role template ID a spec.roles entry names:
// a well-known name's ID, or the entry itself (in lower case) when it is an ID.
func RoleTemplateID(role string) string {
	if id, ok := EntraRoles[role]; ok {
		return id
	}
	return strings.ToLower(role)
}

// GDAPAccessAssignment gives the members of one security group of the
// partner's tenant some of the relationship's roles in the customer's tenant.
type GDAPAccessAssignment struct {
	// securityGroupID is the object ID (a GUID) of a Microsoft Entra security
	// group in the partner's tenant; its members get the roles below.
	// +required
	// +kubebuilder:validation:MaxLength=36
	// +kubebuilder:validation:Pattern=`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`
	SecurityGroupID string `json:"securityGroupID"`

	// roles the group gets: a subset of spec.roles, each written as it is there.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=64
	Roles []string `json:"roles"`
}

// DelegatedAdminRelationshipSpec is the admin access a partner asks of a customer.
// +kubebuilder:validation:XValidation:rule="self.partnerRef == oldSelf.partnerRef",message="partnerRef is immutable: a relationship with another partner is a new DelegatedAdminRelationship",fieldPath=".partnerRef"
// +kubebuilder:validation:XValidation:rule="self.customerRef == oldSelf.customerRef",message="customerRef is immutable: a relationship with another customer is a new DelegatedAdminRelationship",fieldPath=".customerRef"
// +kubebuilder:validation:XValidation:rule="self.displayName == oldSelf.displayName",message="displayName is immutable: it is how Microsoft Graph tells the partner's relationships apart",fieldPath=".displayName"
// +kubebuilder:validation:XValidation:rule="self.duration == oldSelf.duration && self.roles == oldSelf.roles",message="duration and roles are immutable: Microsoft Graph lets a relationship change only before the customer sees it; ask for other roles or another duration with a new DelegatedAdminRelationship",fieldPath=".roles"
// +kubebuilder:validation:XValidation:rule="self.autoExtendDuration != 'P180D' || !self.roles.exists(r, r == 'GlobalAdministrator' || r.lowerAscii() == '62e90394-69f5-4237-9190-012177145e10')",message="a relationship that includes Global Administrator cannot auto-extend: set autoExtendDuration to PT0S, or leave out Global Administrator",fieldPath=".autoExtendDuration"
// +kubebuilder:validation:XValidation:rule="!has(self.accessAssignments) || self.accessAssignments.all(a, a.roles.all(r, r in self.roles))",message="every role of an access assignment must be one of spec.roles, written the same way: a group can only get roles the customer approved",fieldPath=".accessAssignments"
type DelegatedAdminRelationshipSpec struct {
	// partnerRef is the name of the Partner asking for admin access; the
	// operator calls Microsoft Graph with its credentials.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	PartnerRef string `json:"partnerRef"`

	// customerRef is the name of the Customer, in the same namespace, whose
	// tenant the access is asked for.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	CustomerRef string `json:"customerRef"`

	// displayName names the relationship in Microsoft Graph and in the
	// customer's admin center. It must be unique among the partner's
	// relationships (at most 50 characters); the operator uses it to find a
	// relationship it created before, so it never creates a second one.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=50
	DisplayName string `json:"displayName"`

	// duration is how long the relationship lasts once the customer approves,
	// as an ISO 8601 duration from P1D to P2Y: days (P90D, P730D) or years
	// (P1Y, P2Y).
	// +required
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:XValidation:rule="self.matches('^P([0-9]{1,3}D|[12]Y)$') && (self.endsWith('Y') || (int(self.substring(1, self.size() - 1)) >= 1 && int(self.substring(1, self.size() - 1)) <= 730))",message="duration must be an ISO 8601 duration from P1D to P2Y, written in days (P1D to P730D) or years (P1Y, P2Y)"
	Duration string `json:"duration"`

	// autoExtendDuration is how long Microsoft Graph extends the relationship
	// each time it reaches its end: PT0S (default: it expires) or P180D. A
	// relationship that includes Global Administrator cannot auto-extend.
	// +optional
	// +kubebuilder:default=PT0S
	// +kubebuilder:validation:Enum=PT0S;P180D
	AutoExtendDuration string `json:"autoExtendDuration,omitempty"`

	// roles are the Microsoft Entra roles the partner asks for, each a role
	// template ID (a GUID) or one of these names: GlobalAdministrator,
	// GlobalReader, DirectoryReaders, HelpdeskAdministrator,
	// ServiceSupportAdministrator, UserAdministrator, LicenseAdministrator,
	// BillingAdministrator, ExchangeAdministrator, SharePointAdministrator,
	// TeamsAdministrator, IntuneAdministrator, SecurityAdministrator,
	// SecurityReader, PrivilegedRoleAdministrator,
	// CloudApplicationAdministrator, ApplicationAdministrator,
	// AuthenticationAdministrator, ConditionalAccessAdministrator.
	// Ask for the fewest that let the partner support the customer.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.all(r, r.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$') || r in ['GlobalAdministrator', 'GlobalReader', 'DirectoryReaders', 'HelpdeskAdministrator', 'ServiceSupportAdministrator', 'UserAdministrator', 'LicenseAdministrator', 'BillingAdministrator', 'ExchangeAdministrator', 'SharePointAdministrator', 'TeamsAdministrator', 'IntuneAdministrator', 'SecurityAdministrator', 'SecurityReader', 'PrivilegedRoleAdministrator', 'CloudApplicationAdministrator', 'ApplicationAdministrator', 'AuthenticationAdministrator', 'ConditionalAccessAdministrator'])",message="each role must be a Microsoft Entra role template ID (a GUID) or a well-known role name such as HelpdeskAdministrator (see kubectl explain delegatedadminrelationship.spec.roles)"
	Roles []string `json:"roles"`

	// accessAssignments give security groups of the partner's tenant some of
	// the roles once the customer approved. Each group is assigned once; a
	// group added later is assigned then.
	// +optional
	// +listType=map
	// +listMapKey=securityGroupID
	// +kubebuilder:validation:MaxItems=16
	AccessAssignments []GDAPAccessAssignment `json:"accessAssignments,omitempty"`

	// terminateOnDelete makes deleting this object, when true, terminate the
	// relationship in Microsoft Graph first (the operator holds a finalizer
	// until it asked). Default false: deleting the object leaves the
	// relationship as it is in Microsoft Graph, where it ends at status.endsAt.
	// +optional
	TerminateOnDelete bool `json:"terminateOnDelete,omitempty"`
}

// GDAPAccessAssignmentStatus is what Microsoft Graph says of one access assignment.
type GDAPAccessAssignmentStatus struct {
	// securityGroupID is the group of spec.accessAssignments this entry is for.
	// +required
	// +kubebuilder:validation:MaxLength=36
	SecurityGroupID string `json:"securityGroupID"`

	// id is the access assignment's ID in Microsoft Graph.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	ID string `json:"id,omitempty"`

	// status is Microsoft Graph's status of the assignment: pending, active,
	// deleting, deleted or error.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Status string `json:"status,omitempty"`
}

// DelegatedAdminRelationshipStatus is what the operator last observed.
type DelegatedAdminRelationshipStatus struct {
	// observedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// phase is where the relationship stands: Pending, ApprovalPending,
	// Active, Expiring, Expired, Terminated or Failed.
	// +optional
	Phase GDAPPhase `json:"phase,omitempty"`

	// relationshipID is the relationship's ID in Microsoft Graph.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	RelationshipID string `json:"relationshipID,omitempty"`

	// graphStatus is the relationship's status as Microsoft Graph last reported
	// it (created, approvalPending, approved, activating, active, expiring,
	// expired, terminationRequested, terminating, terminated).
	// +optional
	// +kubebuilder:validation:MaxLength=32
	GraphStatus string `json:"graphStatus,omitempty"`

	// invitationURL is the link the customer's Global admin opens in the
	// Microsoft 365 admin center to approve the relationship.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	InvitationURL string `json:"invitationURL,omitempty"`

	// activatedAt is when the relationship became active.
	// +optional
	ActivatedAt *metav1.Time `json:"activatedAt,omitempty"`

	// endsAt is when the relationship ends unless it auto-extends.
	// +optional
	EndsAt *metav1.Time `json:"endsAt,omitempty"`

	// accessAssignments has one entry per spec.accessAssignments group the
	// operator created in Microsoft Graph.
	// +optional
	// +listType=map
	// +listMapKey=securityGroupID
	// +kubebuilder:validation:MaxItems=16
	AccessAssignments []GDAPAccessAssignmentStatus `json:"accessAssignments,omitempty"`

	// conditions: Ready, Reconciling, Stalled, and ExpiresSoon from 30 days
	// before an end that will not be extended.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// DelegatedAdminRelationship is a partner's granular delegated admin
// privileges (GDAP) relationship with a customer: the Microsoft Entra roles
// the partner's security groups hold in the customer's tenant, for a limited
// time, once the customer approved. Since October 2023 it is how a partner
// gets admin access to support a customer; a reseller relationship grants none.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=gdap,categories=multichannel
// +kubebuilder:printcolumn:name="Partner",type=string,JSONPath=`.spec.partnerRef`
// +kubebuilder:printcolumn:name="Customer",type=string,JSONPath=`.spec.customerRef`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Ends",type=string,JSONPath=`.status.endsAt`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Invitation",type=string,JSONPath=`.status.invitationURL`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type DelegatedAdminRelationship struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the access the partner asks for.
	// +required
	Spec DelegatedAdminRelationshipSpec `json:"spec"`

	// status is what the operator last observed.
	// +optional
	Status DelegatedAdminRelationshipStatus `json:"status,omitempty"`
}

// DelegatedAdminRelationshipList is a list of DelegatedAdminRelationships.
// +kubebuilder:object:root=true
type DelegatedAdminRelationshipList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DelegatedAdminRelationship `json:"items"`
}
