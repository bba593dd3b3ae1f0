package graph_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/partnerops/multichannel-operator/internal/graph"
	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
)

// TestContractRelationshipAsDocumented: the client reads the documented
// create response, whose activatedDateTime is an empty string (a
// relationship not active yet), as Graph sends it.
// Source: testdata/create-relationship.response.json (see testdata/SOURCES).
func TestContractRelationshipAsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("testdata", "create-relationship.response.json"))
	if err != nil {
		t.Fatal(err)
	}
	const id = "5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836"
	w := newWorld(t, graphsim.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/delegatedAdminRelationships/"+id) && r.Method == http.MethodGet {
				rw.Header().Set("Content-Type", "application/json")
				_, _ = rw.Write(doc)
				return
			}
			next.ServeHTTP(rw, r)
		})
	})
	got, err := w.client(t).GetRelationship(context.Background(), id)
	if err != nil {
		t.Fatalf("GetRelationship on the documented answer: %v", err)
	}
	if got.ID != id || got.Status != graph.StatusCreated || got.ActivatedDateTime != nil || got.EndDateTime == nil || got.CreatedDateTime == nil ||
		got.ETag == "" || got.Customer == nil || got.Customer.TenantID != "4b827261-d21f-4aa9-b7db-7fa1f56fb163" || got.AutoExtendDuration != "P180D" {
		t.Errorf("read %+v", got)
	}
}
