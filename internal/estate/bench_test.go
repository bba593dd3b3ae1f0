package estate_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/estate"
	"github.com/partnerops/multichannel-operator/internal/graph"
	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
	"github.com/partnerops/multichannel-operator/internal/harness"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// BenchmarkImport1000Customers imports an estate of 1,000 customers (2,000
// licenses, 1,000 Azure subscriptions under 500 Azure plans, 200
// transfers under way, 1,000 GDAP relationships with 1,500 access
// assignments) from the simulators over HTTP, with the clients' default
// budgets: Partner Center's 500 calls a minute per tenant, Graph's 300. It
// reports the calls made and the time the import takes; the budget, not
// the simulators, sets it, as the same import with the budgets lifted
// shows. Run it with
//
//	go test ./internal/estate -run '^$' -bench Import1000 -benchtime 1x -timeout 30m
func BenchmarkImport1000Customers(b *testing.B) {
	s, err := sim.New(sim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	g, err := graphsim.New(graphsim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	e := harness.NewEstate(harness.EstateOptions{Partner: contoso, Customers: 1000, Source: fabrikam, SourceName: "Fabrikam", Now: time.Now()})
	if err := s.SeedEstate(e.PartnerCenter); err != nil {
		b.Fatal(err)
	}
	if err := g.Seed(e.GDAP...); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewTLSServer(graphsim.Compose(g, s))
	b.Cleanup(srv.Close)
	b.Run("default budgets", func(b *testing.B) { benchmarkImport(b, s, g, srv.URL, 0) })
	// Without the budget, what the import itself and the simulators take.
	b.Run("budgets lifted", func(b *testing.B) { benchmarkImport(b, s, g, srv.URL, 1000000) })
}

func benchmarkImport(b *testing.B, s *sim.Server, g *graphsim.Server, url string, perMinute int) {
	partner := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: v1alpha1.PartnerSpec{TenantID: contoso, Country: "US",
		CSPType: v1alpha1.CSPTypeDirectBill, NamespaceSelector: &metav1.LabelSelector{}}}
	for b.Loop() {
		creds := pc.Credentials{ClientID: "operator", ClientSecret: "s3cret"}
		p, err := pc.New(pc.Config{Endpoint: url, AuthorityHost: url, TenantID: contoso, Credentials: creds, RequestsPerMinute: perMinute})
		if err != nil {
			b.Fatal(err)
		}
		gc, err := graph.New(graph.Config{Endpoint: url, AuthorityHost: url, TenantID: contoso, Credentials: creds, RequestsPerMinute: perMinute})
		if err != nil {
			b.Fatal(err)
		}
		before, gBefore, start := s.Stats(), g.Stats(), time.Now()
		read, err := estate.Read(context.Background(), estate.Clients{PartnerCenter: p, Graph: gc}, estate.Options{})
		if err != nil {
			b.Fatal(err)
		}
		m, err := estate.Build(read, estate.BuildOptions{Partner: partner})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := estate.Write(m, partner, estate.WriteOptions{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		pcCalls := s.Stats().Tenants[contoso].Requests - before.Tenants[contoso].Requests
		gCalls := sum(g.Stats().RequestsByRoute) - sum(gBefore.RequestsByRoute)
		b.ReportMetric(took.Minutes(), "minutes/import")
		b.ReportMetric(float64(pcCalls), "partner-center-calls")
		b.ReportMetric(float64(gCalls), "graph-calls")
		b.ReportMetric(float64(read.Waits), "calls-that-waited")
		b.ReportMetric(float64(s.Stats().Tenants[contoso].PeakPerMinute), "peak-calls/minute")
		b.ReportMetric(float64(len(rep.New)), "files")
		b.Logf("%d customers, counts %+v: %d Partner Center calls (peak %d a minute), %d Graph calls, %d waits, %d files, in %s",
			m.Counts.Customers, m.Counts, pcCalls, s.Stats().Tenants[contoso].PeakPerMinute, gCalls, read.Waits, len(rep.New), took.Round(time.Second))
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
