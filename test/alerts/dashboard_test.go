package alerts

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// The metrics the operator exports (controllers/, internal/partnercenter),
// those controller-runtime adds, and the one the GDAP kind will bring.
var knownMetrics = map[string]bool{
	"multichannel_subscriptions":                                     true,
	"multichannel_reseller_relationship_requested_timestamp_seconds": true,
	"multichannel_transfer_expiry_timestamp_seconds":                 true,
	"multichannel_partnercenter_requests_total":                      true,
	"multichannel_partnercenter_retries_total":                       true,
	"multichannel_partnercenter_throttled_total":                     true,
	"multichannel_gdap_relationship_end_timestamp_seconds":           true,
	"controller_runtime_reconcile_total":                             true,
	"controller_runtime_reconcile_time_seconds_bucket":               true,
	"workqueue_depth": true,
}

// TestDashboardQueriesTheOperatorsMetrics: every panel's query parses and
// names only metrics that exist, so no panel stays empty for a typo.
func TestDashboardQueriesTheOperatorsMetrics(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "grafana", "multichannel-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatal("the dashboard has no uid or no panels")
	}
	p := parser.NewParser(parser.Options{})
	used := map[string]bool{}
	for _, panel := range dash.Panels {
		if len(panel.Targets) == 0 {
			t.Errorf("panel %q has no query", panel.Title)
		}
		for _, target := range panel.Targets {
			expr, err := p.ParseExpr(target.Expr)
			if err != nil {
				t.Errorf("panel %q: %v", panel.Title, err)
				continue
			}
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok {
					if !knownMetrics[vs.Name] {
						t.Errorf("panel %q queries %s, which nothing exports", panel.Title, vs.Name)
					}
					used[vs.Name] = true
				}
				return nil
			})
		}
	}
	for name := range knownMetrics {
		if strings.HasPrefix(name, "multichannel_") && !used[name] {
			t.Errorf("no panel shows %s", name)
		}
	}
}
