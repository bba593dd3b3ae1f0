package graph_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/partnerops/multichannel-operator/internal/graph"
	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
)

// withNextLink adds to a documented collection the @odata.nextLink Graph's
// paging gives a page that is not the last: the whole URL of the next page.
func withNextLink(doc []byte, next string) []byte {
	return []byte(strings.Replace(string(doc), "\"value\": [", "\"@odata.nextLink\": \""+next+"\",\n  \"value\": [", 1))
}

// servePages answers GET requests to path with first, and those carrying
// $skiptoken with last, recording the queries sent.
func servePages(t *testing.T, path string, first, last func(host string) []byte) (*graph.Client, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var queries []string
	w := newWorld(t, graphsim.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || r.URL.EscapedPath() != path {
				next.ServeHTTP(rw, r)
				return
			}
			mu.Lock()
			queries = append(queries, r.URL.RawQuery)
			mu.Unlock()
			body := first(r.Host)
			if r.URL.Query().Has("$skiptoken") {
				body = last(r.Host)
			}
			rw.Header().Set("Content-Type", "application/json")
			_, _ = rw.Write(body)
		})
	})
	return w.client(t), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(queries)
	}
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestContractListRelationships: the client reads the documented list, a
// reseller relationship among them told apart by its @odata.type, asks
// for pages of the documented maximum ($top=300), and follows an
// @odata.nextLink as Graph's paging gives it: the whole URL, again.
// Source: testdata/list-relationships.response.json (see testdata/SOURCES).
func TestContractListRelationships(t *testing.T) {
	doc := testdata(t, "list-relationships.response.json")
	const path = "/v1.0/tenantRelationships/delegatedAdminRelationships"
	c, queries := servePages(t, path, func(host string) []byte {
		return withNextLink(doc, "https://"+host+path+"?$top=300&$skiptoken=X%274453707%27")
	}, func(string) []byte { return doc })
	ctx := context.Background()
	first, err := c.ListRelationships(ctx, "")
	if err != nil || len(first.Relationships) != 3 || first.NextLink == "" {
		t.Fatalf("first page = %+v, %v", first, err)
	}
	active := first.Relationships[0]
	if active.ID != "5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836" || active.Status != graph.StatusActive ||
		active.DisplayName != "Contoso admin relationship" || active.Duration != "P730D" || active.AutoExtendDuration != graph.AutoExtend180Days ||
		active.Customer.TenantID != "52eaad04-13a2-4a2f-9ce8-93a294fadf36" || !slices.Equal(active.AccessDetails.Roles(), []string{"dd4db9a0-cc4a-4213-9f9f-70242232d97e"}) ||
		active.EndDateTime == nil || active.ETag == "" {
		t.Errorf("active relationship = %+v", active)
	}
	if r := first.Relationships[2]; r.ODataType != graph.ODataResellerRelationship || r.ActivatedDateTime != nil || r.Status != graph.StatusApprovalPending {
		t.Errorf("reseller relationship = %+v", r)
	}
	last, err := c.NextRelationships(ctx, first.NextLink)
	if err != nil || len(last.Relationships) != 3 || last.NextLink != "" {
		t.Fatalf("last page = %+v, %v", last, err)
	}
	sent := queries()
	if len(sent) != 2 || sent[0] != "%24top=300" || sent[1] != "$top=300&$skiptoken=X%274453707%27" {
		t.Errorf("queries sent %q: want $top=300, then the next link's own query as it was", sent)
	}
	if _, err := c.ListRelationships(ctx, "52eaad04-13a2-4a2f-9ce8-93a294fadf36"); err != nil {
		t.Fatal(err)
	}
	if q := queries()[2]; !strings.Contains(q, "customer%2FtenantId+eq+%2752eaad04-13a2-4a2f-9ce8-93a294fadf36%27") {
		t.Errorf("a customer's relationships were asked for with %q", q)
	}
}

// TestContractListAccessAssignments: the documented assignments read with
// their groups and roles, and a next link is followed to the last page.
// Source: testdata/list-access-assignments.response.json (see testdata/SOURCES).
func TestContractListAccessAssignments(t *testing.T) {
	doc := testdata(t, "list-access-assignments.response.json")
	const id = "72a7ae7e-4887-4e34-9755-2e1e9b26b943-63f017cb-9e0d-4f14-94bd-4871902b3409"
	const path = "/v1.0/tenantRelationships/delegatedAdminRelationships/" + id + "/accessAssignments"
	c, queries := servePages(t, path, func(host string) []byte {
		return withNextLink(doc, "https://"+host+path+"?$skiptoken=page2")
	}, func(string) []byte { return doc })
	got, err := c.ListAccessAssignments(context.Background(), id)
	if err != nil || len(got) != 4 || len(queries()) != 2 {
		t.Fatalf("ListAccessAssignments = %d assignments in %d requests, %v: want both pages' 4 in 2", len(got), len(queries()), err)
	}
	a := got[0]
	if a.ID != "84c586df-0943-416e-b95f-7289cb8d3bd5" || a.Status != graph.AssignmentActive || a.AccessContainer.ID != "227a2f44-2682-4831-a021-f8d69a34bcba" ||
		a.AccessContainer.Type != graph.ContainerSecurityGroup || len(a.AccessDetails.Roles()) != 4 {
		t.Errorf("first assignment = %+v", a)
	}
}

// TestNextLinksStayOnTheEndpoint: an @odata.nextLink to another host, or
// to another resource on the same host, is not followed.
func TestNextLinksStayOnTheEndpoint(t *testing.T) {
	w := newWorld(t, graphsim.Options{}, nil)
	c := w.client(t)
	for _, link := range []string{
		"https://elsewhere.example/v1.0/tenantRelationships/delegatedAdminRelationships?$skiptoken=x",
		w.url + "/v1.0/users?$skiptoken=x",
		strings.Replace(w.url, "https://", "http://", 1) + "/v1.0/tenantRelationships/delegatedAdminRelationships?$skiptoken=x",
		"not a url\x7f",
	} {
		if _, err := c.NextRelationships(context.Background(), link); err == nil || strings.Contains(err.Error(), "$skiptoken") {
			t.Errorf("%q: %v, want a refusal that does not repeat the token", link, err)
		}
	}
	if n := w.graph.Stats().RequestsByRoute["ListRelationships"]; n != 0 {
		t.Errorf("%d requests reached Graph", n)
	}
}

// TestListsPageAgainstTheSimulator: over HTTP, the client reads 650 seeded
// relationships in pages of 300 through their next links, and 120 access
// assignments in the simulator's pages of 100.
func TestListsPageAgainstTheSimulator(t *testing.T) {
	w := newWorld(t, graphsim.Options{}, nil)
	var rels []graphsim.SeededRelationship
	for i := range 650 {
		rel := graphsim.SeededRelationship{PartnerTenantID: partnerTenant, DisplayName: "Support " + strconv.Itoa(i), Duration: "P730D",
			CustomerTenantID: customerTenant, Roles: []string{helpdesk}}
		if i == 0 {
			for g := range 120 {
				rel.Assignments = append(rel.Assignments, graphsim.SeededAssignment{SecurityGroupID: "group-" + strconv.Itoa(g), Roles: []string{helpdesk}})
			}
		}
		rels = append(rels, rel)
	}
	if err := w.graph.Seed(rels...); err != nil {
		t.Fatal(err)
	}
	c := w.client(t)
	ctx := context.Background()
	seen, pages := map[string]bool{}, 0
	page, err := c.ListRelationships(ctx, "")
	for ; err == nil; page, err = c.NextRelationships(ctx, page.NextLink) {
		pages++
		for _, r := range page.Relationships {
			seen[r.DisplayName] = true
		}
		if page.NextLink == "" {
			break
		}
	}
	if err != nil || pages != 3 || len(seen) != 650 {
		t.Fatalf("%d pages, %d relationships, %v: want 3 pages of 650", pages, len(seen), err)
	}
	first := w.graph.Relationships(partnerTenant)
	var withAssignments string
	for _, r := range first {
		if r.DisplayName == "Support 0" {
			withAssignments = r.ID
		}
	}
	got, err := c.ListAccessAssignments(ctx, withAssignments)
	if err != nil || len(got) != 120 || w.graph.Stats().RequestsByRoute["ListAccessAssignments"] != 2 {
		t.Errorf("ListAccessAssignments = %d in %d requests, %v: want 120 in 2", len(got), w.graph.Stats().RequestsByRoute["ListAccessAssignments"], err)
	}
}
