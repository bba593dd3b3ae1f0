package graphsim

import (
	"encoding/json"
	"time"
)

// The simulator's own wire types: Microsoft Graph's delegatedAdminRelationship
// resources as Graph documents them, not the client's types, so that a
// mistake in how the client reads or writes them shows. Graph's documented
// create and get responses give a date not set yet as an empty string
// ("activatedDateTime": ""); the simulator answers so too.
// Source: https://learn.microsoft.com/graph/api/resources/delegatedadminrelationship

// A relationship's status.
const (
	statusCreated              = "created"
	statusApprovalPending      = "approvalPending"
	statusApproved             = "approved"
	statusActivating           = "activating"
	statusActive               = "active"
	statusExpiring             = "expiring"
	statusExpired              = "expired"
	statusTerminationRequested = "terminationRequested"
	statusTerminating          = "terminating"
	statusTerminated           = "terminated"
)

// A relationship request's action.
const (
	actionLockForApproval = "lockForApproval"
	actionTerminate       = "terminate"
)

// An access assignment's status.
const (
	assignmentPending = "pending"
	assignmentActive  = "active"
	assignmentDeleted = "deleted"
)

// containerSecurityGroup is the only access container type Graph documents.
const containerSecurityGroup = "securityGroup"

// headerClientRequestID ties a request's attempts together.
const headerClientRequestID = "client-request-id"

// Relationship is a delegatedAdminRelationship, as the simulator answers it.
type Relationship struct {
	ID                 string         `json:"id,omitempty"`
	ETag               string         `json:"@odata.etag,omitempty"`
	DisplayName        string         `json:"displayName"`
	Duration           string         `json:"duration"`
	AutoExtendDuration string         `json:"autoExtendDuration"`
	Status             string         `json:"status"`
	Customer           *Customer      `json:"customer"`
	AccessDetails      *AccessDetails `json:"accessDetails"`
	CreatedDateTime    *time.Time     `json:"-"`
	ActivatedDateTime  *time.Time     `json:"-"`
	EndDateTime        *time.Time     `json:"-"`
	LastModified       *time.Time     `json:"-"`
}

// wireDates are a relationship's dates as Graph writes them: RFC 3339, or
// "" when not set yet.
type wireDates struct {
	CreatedDateTime      string `json:"createdDateTime"`
	ActivatedDateTime    string `json:"activatedDateTime"`
	EndDateTime          string `json:"endDateTime"`
	LastModifiedDateTime string `json:"lastModifiedDateTime"`
}

func (r Relationship) MarshalJSON() ([]byte, error) {
	type plain Relationship
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return json.Marshal(struct {
		plain
		wireDates
	}{plain(r), wireDates{date(r.CreatedDateTime), date(r.ActivatedDateTime), date(r.EndDateTime), date(r.LastModified)}})
}

func (r *Relationship) UnmarshalJSON(data []byte) error {
	type plain Relationship
	var in struct {
		plain
		wireDates
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*r = Relationship(in.plain)
	for _, d := range []struct {
		text string
		to   **time.Time
	}{{in.wireDates.CreatedDateTime, &r.CreatedDateTime}, {in.wireDates.ActivatedDateTime, &r.ActivatedDateTime}, {in.wireDates.EndDateTime, &r.EndDateTime}, {in.LastModifiedDateTime, &r.LastModified}} {
		if d.text == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, d.text)
		if err != nil {
			return err
		}
		*d.to = &t
	}
	return nil
}

// Customer names the customer of a relationship.
type Customer struct {
	TenantID    string `json:"tenantId"`
	DisplayName string `json:"displayName"`
}

// AccessDetails lists roles by their Entra role template IDs.
type AccessDetails struct {
	UnifiedRoles []wireRole `json:"unifiedRoles"`
}

type wireRole struct {
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

// wireRelationshipUpdate is what a PATCH may carry.
type wireRelationshipUpdate struct {
	DisplayName        string         `json:"displayName,omitempty"`
	Duration           string         `json:"duration,omitempty"`
	AutoExtendDuration string         `json:"autoExtendDuration,omitempty"`
	Customer           *Customer      `json:"customer,omitempty"`
	AccessDetails      *AccessDetails `json:"accessDetails,omitempty"`
}

// wireRequest is a delegatedAdminRelationshipRequest.
type wireRequest struct {
	ID     string `json:"id,omitempty"`
	Action string `json:"action"`
	Status string `json:"status,omitempty"`
}

// wireAssignment is a delegatedAdminAccessAssignment.
type wireAssignment struct {
	ID              string         `json:"id,omitempty"`
	ETag            string         `json:"@odata.etag,omitempty"`
	Status          string         `json:"status,omitempty"`
	AccessContainer *wireContainer `json:"accessContainer,omitempty"`
	AccessDetails   *AccessDetails `json:"accessDetails,omitempty"`
}

type wireContainer struct {
	ID   string `json:"accessContainerId"`
	Type string `json:"accessContainerType"`
}

// wireError is Graph's error response.
type wireError struct {
	Error wireErrorDetail `json:"error"`
}

type wireErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// InnerError holds a more detailed code, such as invalidQueryOption
	// under invalidRequest.
	InnerError *wireErrorDetail `json:"innerError,omitempty"`
}
