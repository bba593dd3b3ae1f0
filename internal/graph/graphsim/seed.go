package graphsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// GDAP relationships a partner already has when it adopts the operator,
// approved by their customers long ago, with their access assignments:
// Seed (and POST /sim/graph/v1/relationships) puts them in the simulator
// as Graph shows them. Nothing seeded counts among the objects created
// (Stats.ObjectsCreated), which count what the API was asked to create.

// SeededRelationship is an existing relationship of a partner.
type SeededRelationship struct {
	PartnerTenantID string `json:"partnerTenantId"`
	// ID is the relationship's ID; empty makes one.
	ID                 string `json:"id,omitempty"`
	DisplayName        string `json:"displayName"`
	Duration           string `json:"duration"`
	AutoExtendDuration string `json:"autoExtendDuration,omitempty"`
	CustomerTenantID   string `json:"customerTenantId"`
	CustomerName       string `json:"customerName"`
	// Roles are Microsoft Entra role template IDs.
	Roles []string `json:"roles"`
	// Status is active (default), approvalPending or created.
	Status string `json:"status,omitempty"`
	// ActivatedAt is when the customer's approval took effect (zero: a day
	// before the simulator's clock); the relationship ends duration later.
	ActivatedAt time.Time          `json:"activatedAt,omitempty"`
	Assignments []SeededAssignment `json:"assignments,omitempty"`
}

// SeededAssignment is an active access assignment of a security group.
type SeededAssignment struct {
	ID              string   `json:"id,omitempty"`
	SecurityGroupID string   `json:"securityGroupId"`
	Roles           []string `json:"roles"`
}

// Seed puts rels in the simulator; a relationship Graph would refuse (no
// name or roles, a duration out of range, a name the partner uses, an
// assignment role the relationship lacks) refuses them all.
func (s *Server) Seed(rels ...SeededRelationship) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := map[string]bool{}
	for _, in := range rels {
		if err := s.checkSeed(in, names); err != nil {
			return fmt.Errorf("relationship %q: %w", in.DisplayName, err)
		}
	}
	for _, in := range rels {
		s.seed(in)
	}
	return s.save()
}

// checkSeed refuses what Graph would not hold. The caller holds s.mu.
func (s *Server) checkSeed(in SeededRelationship, names map[string]bool) error {
	key := in.PartnerTenantID + "|" + in.DisplayName
	switch {
	case in.PartnerTenantID == "" || in.CustomerTenantID == "":
		return fmt.Errorf("the partner and the customer tenant are required")
	case in.DisplayName == "" || len(in.DisplayName) > 50 || names[key]:
		return fmt.Errorf("the display name is required, at most 50 characters, once per partner")
	case durationOf(in.Duration) < 24*time.Hour || durationOf(in.Duration) > 730*24*time.Hour:
		return fmt.Errorf("duration %q is not from P1D to P2Y", in.Duration)
	case len(in.Roles) == 0:
		return fmt.Errorf("no roles")
	case !slices.Contains([]string{"", statusActive, statusApprovalPending, statusCreated}, in.Status):
		return fmt.Errorf("status %q cannot be seeded", in.Status)
	case in.ID != "" && s.st.Relationships[in.ID] != nil:
		return fmt.Errorf("ID %s exists", in.ID)
	}
	for _, rel := range s.st.Relationships {
		if rel.Partner == in.PartnerTenantID && rel.Relationship.DisplayName == in.DisplayName {
			return fmt.Errorf("the partner has a relationship of that name")
		}
	}
	for _, a := range in.Assignments {
		for _, role := range a.Roles {
			if !slices.Contains(in.Roles, role) {
				return fmt.Errorf("assignment of group %s: role %s is not the relationship's", a.SecurityGroupID, role)
			}
		}
	}
	names[key] = true
	return nil
}

// seed stores one checked relationship. The caller holds s.mu.
func (s *Server) seed(in SeededRelationship) {
	now := s.now()
	r := Relationship{ID: in.ID, DisplayName: in.DisplayName, Duration: in.Duration, AutoExtendDuration: in.AutoExtendDuration,
		Status: in.Status, Customer: &Customer{TenantID: in.CustomerTenantID, DisplayName: in.CustomerName}, AccessDetails: roles(in.Roles)}
	if r.ID == "" {
		r.ID = newID() + "-" + newID()
	}
	if r.AutoExtendDuration == "" {
		r.AutoExtendDuration = "PT0S"
	}
	if r.Status == "" {
		r.Status = statusActive
	}
	activated := in.ActivatedAt.UTC().Truncate(time.Second)
	if in.ActivatedAt.IsZero() {
		activated = now.Add(-24 * time.Hour)
	}
	created := activated.Add(-time.Hour)
	r.CreatedDateTime, r.LastModified = &created, &activated
	rel := &relationship{Partner: in.PartnerTenantID, Relationship: r}
	switch r.Status {
	case statusActive:
		end := activated.Add(durationOf(r.Duration))
		rel.Relationship.ActivatedDateTime, rel.Relationship.EndDateTime = &activated, &end
		rel.LockedAt, rel.ApprovedAt = &created, &activated
	case statusApprovalPending:
		rel.LockedAt = &created
	}
	for _, a := range in.Assignments {
		id := a.ID
		if id == "" {
			id = newID()
		}
		rel.Assignments = append(rel.Assignments, &wireAssignment{ID: id, ETag: `W/"1"`, Status: assignmentActive,
			AccessContainer: &wireContainer{ID: a.SecurityGroupID, Type: containerSecurityGroup}, AccessDetails: roles(a.Roles)})
	}
	rel.Relationship.ETag = etag(&rel.Relationship)
	s.st.Relationships[r.ID] = rel
}

func roles(ids []string) *AccessDetails {
	d := &AccessDetails{UnifiedRoles: []wireRole{}}
	for _, id := range ids {
		d.UnifiedRoles = append(d.UnifiedRoles, wireRole{RoleDefinitionID: id})
	}
	return d
}

// seedRoute is POST /sim/graph/v1/relationships: {"relationships": [...]}.
func (s *Server) seedRoute(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Relationships []SeededRelationship `json:"relationships"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, graphError("invalidRequest", "send {\"relationships\": [...]}: %v", err))
		return
	}
	if err := s.Seed(body.Relationships...); err != nil {
		writeJSON(w, http.StatusBadRequest, graphError("invalidRequest", "%v", err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"relationships": len(body.Relationships)})
}
