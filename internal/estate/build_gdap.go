package estate

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/graph"
)

// Limits of DelegatedAdminRelationshipSpec.
const (
	maxDisplayName = 50
	maxRoles       = 32
	maxAssignments = 16
)

var gdapDuration = regexp.MustCompile(`^P([0-9]{1,3}D|[12]Y)$`)

// roleNames are the names spec.roles takes, by role template ID.
var roleNames = func() map[string]string {
	m := map[string]string{}
	for name, id := range v1alpha1.EntraRoles {
		m[id] = name
	}
	return m
}()

// relationships are the customer's GDAP relationships, each under the
// display name Graph holds: the operator finds a relationship by it, and
// adopts it instead of creating one.
func (b *builder) relationships(ns string, ce *CustomerEstate) []client.Object {
	gs := slices.Clone(ce.GDAP)
	slices.SortFunc(gs, func(a, c GDAP) int { return strings.Compare(a.Relationship.DisplayName, c.Relationship.DisplayName) })
	var out []client.Object
	for _, g := range gs {
		spec, ok := b.relationshipSpec(ns, g.Relationship)
		if !ok {
			continue
		}
		if c := g.Relationship.Customer; c != nil && c.TenantID != ce.Customer.ID {
			b.note("GDAP relationship %q of customer %s: Graph writes the customer's tenant %s, Partner Center %s; the operator compares them exactly, so check that it adopts the relationship",
				spec.DisplayName, ns, c.TenantID, ce.Customer.ID)
		}
		spec.AccessAssignments = b.assignments(ns, g, spec.Roles)
		out = append(out, &v1alpha1.DelegatedAdminRelationship{TypeMeta: typeMeta("DelegatedAdminRelationship"),
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: relationshipName(spec.DisplayName)}, Spec: spec})
		b.m.Counts.GDAP++
		b.m.Counts.AccessAssignments += len(spec.AccessAssignments)
	}
	return out
}

// relationshipSpec is a relationship as Graph reports it, or false with a
// note when the schema would refuse it.
func (b *builder) relationshipSpec(ns string, rel graph.Relationship) (v1alpha1.DelegatedAdminRelationshipSpec, bool) {
	auto := rel.AutoExtendDuration
	if auto == "" || auto == "P0D" {
		auto = graph.NoAutoExtend
	}
	roles, ok := specRoles(rel.AccessDetails.Roles())
	spec := v1alpha1.DelegatedAdminRelationshipSpec{PartnerRef: b.o.Partner.Name, CustomerRef: ns, DisplayName: rel.DisplayName,
		Duration: rel.Duration, AutoExtendDuration: auto, Roles: roles}
	why := ""
	switch {
	case rel.DisplayName == "" || len(rel.DisplayName) > maxDisplayName:
		why = "its display name is empty or longer than 50 characters"
	case !validDuration(rel.Duration):
		why = "its duration " + strconv.Quote(rel.Duration) + " is not from P1D to P2Y in days or years"
	case auto != graph.NoAutoExtend && auto != graph.AutoExtend180Days:
		why = "its autoExtendDuration " + strconv.Quote(auto) + " is not PT0S or P180D"
	case !ok || len(roles) == 0 || len(roles) > maxRoles:
		why = "its roles are not 1 to 32 role template IDs"
	case auto == graph.AutoExtend180Days && slices.Contains(roles, "GlobalAdministrator"):
		why = "it includes Global Administrator and auto-extends"
	default:
		return spec, true
	}
	b.note("GDAP relationship %q of customer %s: %s; not imported", rel.DisplayName, ns, why)
	return spec, false
}

func validDuration(d string) bool {
	if !gdapDuration.MatchString(d) {
		return false
	}
	if strings.HasSuffix(d, "Y") {
		return true
	}
	n, err := strconv.Atoi(d[1 : len(d)-1])
	return err == nil && n >= 1 && n <= 730
}

// specRoles writes role template IDs as spec.roles does: a well-known
// role by its name, any other by its ID in lower case; sorted, once each.
func specRoles(ids []string) ([]string, bool) {
	var out []string
	for _, id := range ids {
		id = strings.ToLower(id)
		switch name, known := roleNames[id]; {
		case known:
			out = append(out, name)
		case tenantID.MatchString(id):
			out = append(out, id)
		default:
			return nil, false
		}
	}
	slices.Sort(out)
	return slices.Compact(out), true
}

// assignments are the relationship's access assignments not being
// deleted, by security group; one with a role the relationship does not
// have (which the schema refuses) is a note.
func (b *builder) assignments(ns string, g GDAP, roles []string) []v1alpha1.GDAPAccessAssignment {
	var out []v1alpha1.GDAPAccessAssignment
	for _, a := range g.Assignments {
		if a.AccessContainer == nil || a.Status == graph.AssignmentDeleted || a.Status == graph.AssignmentDeleting || a.Status == graph.AssignmentError {
			continue
		}
		group := a.AccessContainer.ID // as Graph writes it: the operator finds the assignment by it, exactly
		ar, ok := specRoles(a.AccessDetails.Roles())
		if !ok || len(ar) == 0 || !tenantID.MatchString(group) || slices.ContainsFunc(ar, func(r string) bool { return !slices.Contains(roles, r) }) {
			b.note("GDAP relationship %q of customer %s: the access assignment of group %s is not a security group with some of the relationship's roles; left out",
				g.Relationship.DisplayName, ns, a.AccessContainer.ID)
			continue
		}
		out = append(out, v1alpha1.GDAPAccessAssignment{SecurityGroupID: group, Roles: ar})
	}
	slices.SortFunc(out, func(a, c v1alpha1.GDAPAccessAssignment) int {
		return strings.Compare(a.SecurityGroupID, c.SecurityGroupID)
	})
	out = slices.CompactFunc(out, func(a, c v1alpha1.GDAPAccessAssignment) bool { return a.SecurityGroupID == c.SecurityGroupID })
	if len(out) > maxAssignments {
		b.note("GDAP relationship %q of customer %s has %d access assignments; the first %d (by group) are imported, the others stay as they are in Graph",
			g.Relationship.DisplayName, ns, len(out), maxAssignments)
		out = out[:maxAssignments]
	}
	return out
}
