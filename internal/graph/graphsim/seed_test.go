package graphsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

const helpdesk, reader = "729827e3-9c14-49f7-bb1b-9608f156bbb8", "f2ef992c-3afb-46b9-b7cf-a126ee74c451"

func seeded(partner string, i int) SeededRelationship {
	return SeededRelationship{PartnerTenantID: partner, DisplayName: fmt.Sprintf("Support %02d", i), Duration: "P730D",
		CustomerTenantID: fmt.Sprintf("customer-%02d", i%3), CustomerName: "Customer", Roles: []string{helpdesk, reader},
		Assignments: []SeededAssignment{{SecurityGroupID: fmt.Sprintf("group-%02d", i), Roles: []string{helpdesk}}}}
}

// page reads one page of a list: its items' display names (or IDs) and
// the next link's path and query.
func page(t *testing.T, s *Server, path string) (names []string, next string, code int) {
	t.Helper()
	w := call(t, s, "GET", path, token("partner", time.Now().Add(time.Hour)), "", nil)
	var out struct {
		NextLink string `json:"@odata.nextLink"`
		Value    []struct{ ID, DisplayName string }
	}
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	for _, v := range out.Value {
		names = append(names, v.DisplayName+v.ID)
	}
	if out.NextLink != "" {
		u, err := url.Parse(out.NextLink)
		if err != nil {
			t.Fatal(err)
		}
		next = u.RequestURI()
	}
	return names, next, w.Code
}

// TestSeededRelationshipsPage: seeded relationships list as Graph shows
// them, $top at a time with a next link that keeps the query, filtered
// by customer; their access assignments too; seeding created nothing.
func TestSeededRelationshipsPage(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var rels []SeededRelationship
	for i := range 5 {
		rels = append(rels, seeded("partner", i))
	}
	if err := s.Seed(rels...); err != nil {
		t.Fatal(err)
	}
	var all []string
	pages := 0
	for path := base + "?$top=2"; path != ""; pages++ {
		var names []string
		var code int
		names, path, code = page(t, s, path)
		if code != http.StatusOK || len(names) > 2 {
			t.Fatalf("page %d: HTTP %d, %v", pages, code, names)
		}
		all = append(all, names...)
	}
	if pages != 3 || len(all) != 5 {
		t.Errorf("%d pages of %v, want 3 pages of 5", pages, all)
	}
	names, next, _ := page(t, s, base+"?$filter="+url.QueryEscape("customer/tenantId eq 'CUSTOMER-01'"))
	if len(names) != 2 || next != "" {
		t.Errorf("customer-01's relationships: %v (next %q)", names, next)
	}
	for _, rel := range s.Relationships("partner") {
		if rel.Status != statusActive || rel.EndDateTime == nil {
			t.Errorf("seeded %+v", rel)
		}
	}
	id := s.Relationships("partner")[0].ID
	if w := call(t, s, "GET", base+"/"+id+"/accessAssignments", token("partner", time.Now().Add(time.Hour)), "", nil); w.Code != http.StatusOK ||
		!json.Valid(w.Body.Bytes()) || len(w.Body.String()) < 50 {
		t.Errorf("access assignments: HTTP %d %s", w.Code, w.Body)
	}
	if created := s.Stats().ObjectsCreated; len(created) != 0 {
		t.Errorf("seeding created %v", created)
	}
}

// TestListsRefuseWhatGraphRefuses: a query option the lists do not take,
// a $top out of range, and a skip token forged or used with another query
// are refused 400 invalidRequest with the documented detailed code.
func TestListsRefuseWhatGraphRefuses(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	rels := []SeededRelationship{seeded("partner", 0), seeded("partner", 1), seeded("partner", 2)}
	if err := s.Seed(rels...); err != nil {
		t.Fatal(err)
	}
	_, next, _ := page(t, s, base+"?$top=1")
	token := url.QueryEscape(mustQuery(t, next).Get("$skiptoken"))
	id := s.Relationships("partner")[0].ID
	for _, tc := range []struct{ path, inner string }{
		{base + "?$top=0", "zeroOrFewerResultsRequested"},
		{base + "?$top=301", "tooManyResultsRequested"},
		{base + "?$top=ten", "invalidParameterFormat"},
		{base + "?$select=id", "invalidQueryOption"},
		{base + "?size=2", "invalidQueryOption"},
		{base + "?$top=1&$top=2", "invalidQueryOption"},
		{base + "?$filter=" + url.QueryEscape("status eq 'active'"), "invalidQueryOption"},
		{base + "?$top=1&$skiptoken=" + token[:8] + "x" + token[9:], "invalidParameterFormat"},
		{base + "?$top=2&$skiptoken=" + token, "invalidParameterFormat"},
		{base + "/" + id + "/accessAssignments?$filter=" + url.QueryEscape("status eq 'active'"), "invalidQueryOption"},
		{base + "/" + id + "/accessAssignments?$skiptoken=" + token, "invalidParameterFormat"},
	} {
		w := call(t, s, "GET", tc.path, tokenFor("partner"), "", nil)
		var out wireError
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		if w.Code != http.StatusBadRequest || out.Error.Code != "invalidRequest" || out.Error.InnerError == nil || out.Error.InnerError.Code != tc.inner {
			t.Errorf("%s: HTTP %d %s, want 400 invalidRequest/%s", tc.path, w.Code, w.Body, tc.inner)
		}
	}
	if _, _, code := page(t, s, next); code != http.StatusOK {
		t.Errorf("the next link itself: HTTP %d", code)
	}
}

// TestSeedRefusesWhatGraphWouldNotHold: a duplicate name, a duration out
// of range, an assignment of a role the relationship lacks are refused,
// and nothing of the batch is kept.
func TestSeedRefusesWhatGraphWouldNotHold(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	bad := seeded("partner", 1)
	bad.Assignments[0].Roles = []string{"62e90394-69f5-4237-9190-012177145e10"}
	long := seeded("partner", 2)
	long.Duration = "P3Y"
	for _, batch := range [][]SeededRelationship{{seeded("partner", 0), seeded("partner", 0)}, {seeded("partner", 0), bad}, {long}} {
		if err := s.Seed(batch...); err == nil {
			t.Errorf("seeded %+v", batch)
		}
	}
	if n := len(s.Relationships("partner")); n != 0 {
		t.Errorf("%d relationships kept from refused batches", n)
	}
}

func tokenFor(tenant string) string { return token(tenant, time.Now().Add(time.Hour)) }

func mustQuery(t *testing.T, requestURI string) url.Values {
	t.Helper()
	u, err := url.Parse(requestURI)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
