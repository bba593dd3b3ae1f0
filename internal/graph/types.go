package graph

import (
	"encoding/json"
	"time"
)

// Relationship statuses Microsoft Graph reports (delegatedAdminRelationshipStatus).
const (
	StatusCreated              = "created"
	StatusApprovalPending      = "approvalPending"
	StatusApproved             = "approved"
	StatusActivating           = "activating"
	StatusActive               = "active"
	StatusExpiring             = "expiring"
	StatusExpired              = "expired"
	StatusTerminationRequested = "terminationRequested"
	StatusTerminating          = "terminating"
	StatusTerminated           = "terminated"
)

// A relationship's autoExtendDuration: Microsoft Graph accepts these two.
const (
	// AutoExtend180Days extends the relationship by 180 days at its end
	// (not allowed with the Global Administrator role).
	AutoExtend180Days = "P180D"
	// NoAutoExtend lets the relationship end.
	NoAutoExtend = "PT0S"
)

// Request actions (delegatedAdminRelationshipRequestAction).
const (
	ActionLockForApproval = "lockForApproval"
	ActionTerminate       = "terminate"
)

// Access assignment statuses (delegatedAdminAccessAssignmentStatus).
const (
	AssignmentPending  = "pending"
	AssignmentActive   = "active"
	AssignmentDeleting = "deleting"
	AssignmentDeleted  = "deleted"
	AssignmentError    = "error"
)

// ContainerSecurityGroup is the only access container type Graph documents.
const ContainerSecurityGroup = "securityGroup"

// ODataResellerRelationship is the @odata.type of a relationship an
// indirect provider holds for one of its indirect resellers
// (resellerDelegatedAdminRelationship), which a list of relationships may hold.
const ODataResellerRelationship = "#microsoft.graph.resellerDelegatedAdminRelationship"

// Relationship is a delegatedAdminRelationship.
type Relationship struct {
	// ODataType is the @odata.type a list gives each relationship.
	ODataType          string               `json:"@odata.type,omitempty"`
	ID                 string               `json:"id,omitempty"`
	ETag               string               `json:"@odata.etag,omitempty"`
	DisplayName        string               `json:"displayName,omitempty"`
	Duration           string               `json:"duration,omitempty"`
	AutoExtendDuration string               `json:"autoExtendDuration,omitempty"`
	Status             string               `json:"status,omitempty"`
	Customer           *CustomerParticipant `json:"customer,omitempty"`
	AccessDetails      *AccessDetails       `json:"accessDetails,omitempty"`
	CreatedDateTime    *time.Time           `json:"createdDateTime,omitempty"`
	ActivatedDateTime  *time.Time           `json:"activatedDateTime,omitempty"`
	EndDateTime        *time.Time           `json:"endDateTime,omitempty"`
	LastModified       *time.Time           `json:"lastModifiedDateTime,omitempty"`
}

// UnmarshalJSON reads a relationship as Graph sends it: its documented
// examples give a date not set yet as an empty string ("activatedDateTime":
// ""), which encoding/json cannot read as a time; it is read as absent.
func (r *Relationship) UnmarshalJSON(data []byte) error {
	type plain Relationship // the same fields, without this method
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	for _, k := range []string{"createdDateTime", "activatedDateTime", "endDateTime", "lastModifiedDateTime"} {
		if v, ok := raw[k]; ok && string(v) == `""` {
			delete(raw, k)
		}
	}
	cleaned, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(cleaned, (*plain)(r))
}

// CustomerParticipant names the customer of a relationship.
type CustomerParticipant struct {
	TenantID    string `json:"tenantId,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// AccessDetails lists roles by their Entra role template IDs.
type AccessDetails struct {
	UnifiedRoles []UnifiedRole `json:"unifiedRoles"`
}

// UnifiedRole is one role.
type UnifiedRole struct {
	RoleDefinitionID string `json:"roleDefinitionId"`
}

// Roles returns the role template IDs of d.
func (d *AccessDetails) Roles() []string {
	if d == nil {
		return nil
	}
	ids := make([]string, 0, len(d.UnifiedRoles))
	for _, r := range d.UnifiedRoles {
		ids = append(ids, r.RoleDefinitionID)
	}
	return ids
}

// NewAccessDetails lists ids as unified roles.
func NewAccessDetails(ids []string) *AccessDetails {
	d := &AccessDetails{UnifiedRoles: make([]UnifiedRole, 0, len(ids))}
	for _, id := range ids {
		d.UnifiedRoles = append(d.UnifiedRoles, UnifiedRole{RoleDefinitionID: id})
	}
	return d
}

// RelationshipUpdate is what may be patched: everything while created,
// autoExtendDuration also while active.
type RelationshipUpdate struct {
	DisplayName        string               `json:"displayName,omitempty"`
	Duration           string               `json:"duration,omitempty"`
	AutoExtendDuration string               `json:"autoExtendDuration,omitempty"`
	Customer           *CustomerParticipant `json:"customer,omitempty"`
	AccessDetails      *AccessDetails       `json:"accessDetails,omitempty"`
}

// RelationshipRequest is a delegatedAdminRelationshipRequest: an action on a relationship.
type RelationshipRequest struct {
	ID     string `json:"id,omitempty"`
	Action string `json:"action"`
	Status string `json:"status,omitempty"` // created, pending, succeeded, failed
}

// AccessAssignment is a delegatedAdminAccessAssignment.
type AccessAssignment struct {
	ID              string           `json:"id,omitempty"`
	ETag            string           `json:"@odata.etag,omitempty"`
	Status          string           `json:"status,omitempty"`
	AccessContainer *AccessContainer `json:"accessContainer,omitempty"`
	AccessDetails   *AccessDetails   `json:"accessDetails,omitempty"`
}

// AccessContainer is the group whose members get the roles.
type AccessContainer struct {
	ID   string `json:"accessContainerId"`
	Type string `json:"accessContainerType"`
}

// ErrorBody is Graph's error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the error inside ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// list is an OData collection; NextLink, when present, reads the next page.
type list[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink,omitempty"`
}

// RelationshipPage is one page of the partner's relationships and the link
// to the next page, "" on the last.
type RelationshipPage struct {
	Relationships []Relationship
	NextLink      string
}

// InvitationURL is the link a customer's Global admin opens to approve relationship id.
func InvitationURL(id string) string {
	return "https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/" + id
}
