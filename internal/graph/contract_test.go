package graph_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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

// TestContractSendMailBodyAsDocumented: the body SendMail sends has the
// shape of the documented sendMail example: the same property names at the
// same places, except those the example does not use (an address's name,
// the extended property, documented with the resources emailAddress and
// singleValueLegacyExtendedProperty) and the Cc it uses. A property
// misnamed (toRecipient, Message) fails it.
// Source: testdata/send-mail.request.json (see testdata/SOURCES).
func TestContractSendMailBodyAsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("testdata", "send-mail.request.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sent []byte
	w := newWorld(t, graphsim.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/sendMail") {
				sent, _ = io.ReadAll(r.Body)
				if r.Header.Get("Content-Type") != "application/json" || r.URL.EscapedPath() != "/v1.0/users/"+sender+"/sendMail" {
					t.Errorf("sent to %s as %q", r.URL.EscapedPath(), r.Header.Get("Content-Type"))
				}
				rw.WriteHeader(http.StatusAccepted) // as documented: no body
				return
			}
			next.ServeHTTP(rw, r)
		})
	})
	if err := w.client(t).SendMail(context.Background(), invitation("k")); err != nil {
		t.Fatalf("SendMail answered 202 as documented: %v", err)
	}
	documented, ours := jsonPaths(t, doc), jsonPaths(t, sent)
	wantExtra := []string{"message.singleValueExtendedProperties[].id", "message.singleValueExtendedProperties[].value", "message.toRecipients[].emailAddress.name"}
	if extra := difference(ours, documented); !slices.Equal(extra, wantExtra) {
		t.Errorf("sent beyond the example: %v, want %v", extra, wantExtra)
	}
	if missing := difference(documented, ours); !slices.Equal(missing, []string{"message.ccRecipients[].emailAddress.address"}) {
		t.Errorf("the example has, the client not: %v", missing)
	}
	var body struct {
		Message struct {
			Body                          struct{ ContentType string }
			SingleValueExtendedProperties []struct{ ID, Value string }
		}
		SaveToSentItems bool
	}
	_ = json.Unmarshal(sent, &body)
	if body.Message.Body.ContentType != "HTML" || !body.SaveToSentItems || len(body.Message.SingleValueExtendedProperties) != 1 ||
		body.Message.SingleValueExtendedProperties[0].ID != graph.DeliveryKeyProperty || body.Message.SingleValueExtendedProperties[0].Value != "k" {
		t.Errorf("sent %s", sent)
	}
}

// TestContractSentMailAsDocumented: FindSentMail sends the documented filter
// on a single-value extended property and reads documented message
// collections: one answered with another $select (the fields it does not
// select absent), and one holding the documented full message.
// Sources: testdata/list-messages.response.json, testdata/get-message.response.json (see testdata/SOURCES).
func TestContractSentMailAsDocumented(t *testing.T) {
	list, err := os.ReadFile(filepath.Join("testdata", "list-messages.response.json"))
	if err != nil {
		t.Fatal(err)
	}
	message, err := os.ReadFile(filepath.Join("testdata", "get-message.response.json"))
	if err != nil {
		t.Fatal(err)
	}
	var answer []byte
	w := newWorld(t, graphsim.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/mailFolders/SentItems/messages") {
				// api/singlevaluelegacyextendedproperty-get.md: singleValueExtendedProperties/Any(ep: ep/id eq '{id_value}' and ep/value eq '{property_value}')
				want := "singleValueExtendedProperties/Any(ep: ep/id eq '" + graph.DeliveryKeyProperty + "' and ep/value eq 'it''s')"
				if q := r.URL.Query(); q.Get("$filter") != want || q.Get("$select") != "id,internetMessageId,sentDateTime" {
					t.Errorf("query %v, want $filter %s", q, want)
				}
				rw.Header().Set("Content-Type", "application/json")
				_, _ = rw.Write(answer)
				return
			}
			next.ServeHTTP(rw, r)
		})
	})
	c := w.client(t)
	answer = list
	got, err := c.FindSentMail(context.Background(), sender, "it's")
	if err != nil || got == nil || got.ID != "AAMkAGUAAAwTW09AAA=" || got.InternetMessageID != "" || !got.SentDateTime.IsZero() {
		t.Errorf("the documented list: %+v, %v", got, err)
	}
	answer = []byte(`{"value": [` + string(message) + `]}`)
	got, err = c.FindSentMail(context.Background(), sender, "it's")
	if err != nil || got == nil || got.ID != "AAMkADhMGAAA=" || got.InternetMessageID != "<MWHPR6E1BE060@MWHPR1120.namprd22.prod.outlook.com>" ||
		!got.SentDateTime.Equal(time.Date(2018, 9, 9, 3, 15, 6, 0, time.UTC)) {
		t.Errorf("the documented message: %+v, %v", got, err)
	}
	answer = []byte(`{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('x')/messages", "value": []}`)
	if got, err := c.FindSentMail(context.Background(), sender, "it's"); err != nil || got != nil {
		t.Errorf("an empty collection: %+v, %v", got, err)
	}
}

// jsonPaths lists the property paths of a JSON document, "[]" for an array's elements.
func jsonPaths(t *testing.T, data []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	seen := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, e)
			}
		case []any:
			for _, e := range x {
				walk(prefix+"[]", e)
			}
		default:
			seen[prefix] = true
		}
	}
	walk("", v)
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// difference is a without b, both sorted.
func difference(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
