// Package alerts loads config/prometheus/alerts.yaml with Prometheus' own rule
// parser and evaluates every alert's expression with the PromQL engine over
// recorded series: once where it must fire, once where it must not.
package alerts

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"sigs.k8s.io/yaml"
)

const day = 24 * time.Hour

// alerts returns the alerting rules of the PrometheusRule, by name.
func alerts(t *testing.T) map[string]rulefmt.Rule {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var pr struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Spec       map[string]any `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &pr); err != nil {
		t.Fatal(err)
	}
	if pr.Kind != "PrometheusRule" || pr.APIVersion != "monitoring.coreos.com/v1" {
		t.Fatalf("%s %s, not a PrometheusRule", pr.APIVersion, pr.Kind)
	}
	// spec is a Prometheus rule file.
	ruleFile, err := yaml.Marshal(pr.Spec)
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(ruleFile, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Errorf("Prometheus rejects the rules: %v", err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	out := map[string]rulefmt.Rule{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("alert %s has no severity or summary", r.Alert)
			}
			out[r.Alert] = r
		}
	}
	return out
}

type evalCase struct {
	name   string
	alert  string
	load   string        // series in promqltest's load syntax
	at     time.Duration // evaluation time after the epoch (time() is this many seconds)
	firing []string      // the value of label key of every series that must fire
	key    string
}

func TestAlertsFireOnRecordedSeries(t *testing.T) {
	rules := alerts(t)
	cases := []evalCase{
		{name: "failed subscriptions", alert: "MultichannelSubscriptionFailed", key: "path", at: 2 * time.Hour, firing: []string{"PartnerSwitch"}, load: `
load 1h
  multichannel_subscriptions{phase="Failed",path="PartnerSwitch"} 0 0 2
  multichannel_subscriptions{phase="Completed",path="NewAzureSubscription"} 5 5 5`},
		{name: "no failed subscription", alert: "MultichannelSubscriptionFailed", key: "path", at: 2 * time.Hour, load: `
load 1h
  multichannel_subscriptions{phase="Failed",path="PartnerSwitch"} 0 0 0
  multichannel_subscriptions{phase="AwaitingApproval",path="PartnerSwitch"} 3 3 3`},

		{name: "an invitation nobody was told of for two hours", alert: "MultichannelInvitationUndelivered", key: "customer", at: 2 * time.Hour, firing: []string{"woodgrove"}, load: `
load 10m
  multichannel_customer_invitation_state{namespace="n",customer="woodgrove",partner="contoso-csp",state="Undelivered"} 1x20
  multichannel_customer_invitation_state{namespace="n",customer="fourth",partner="contoso-csp",state="Reminding"} 1x20`},
		{name: "invitations delivered", alert: "MultichannelInvitationUndelivered", key: "customer", at: 30 * time.Minute, load: `
load 10m
  multichannel_customer_invitation_state{namespace="n",customer="woodgrove",partner="contoso-csp",state="Reminding"} 1x20`},
		{name: "a channel failing for an hour", alert: "MultichannelDeliveryFailing", key: "customer", at: time.Hour, firing: []string{"woodgrove"}, load: `
load 5m
  multichannel_customer_invitation_state{namespace="n",customer="woodgrove",partner="contoso-csp",state="DeliveryFailed"} 1x20
  multichannel_customer_invitation_state{namespace="n",customer="fourth",partner="contoso-csp",state="Delivering"} 1x20`},
		{name: "every reminder sent", alert: "MultichannelCustomerNotResponding", key: "customer", at: time.Hour, firing: []string{"woodgrove"}, load: `
load 5m
  multichannel_customer_invitation_state{namespace="n",customer="woodgrove",partner="contoso-csp",state="RemindersExhausted"} 1x20
  multichannel_customer_invitation_state{namespace="n",customer="fourth",partner="contoso-csp",state="Reminding"} 1x20`},

		{name: "a transfer four days from expiry", alert: "MultichannelTransferNearExpiry", key: "name", at: 26 * day, firing: []string{"soon"}, load: `
load 1d
  multichannel_transfer_expiry_timestamp_seconds{namespace="woodgrove",name="soon",customer="woodgrove",partner="contoso-csp"} 2592000x40
  multichannel_transfer_expiry_timestamp_seconds{namespace="woodgrove",name="later",customer="woodgrove",partner="contoso-csp"} 3456000x40`},
		{name: "transfers far from expiry", alert: "MultichannelTransferNearExpiry", key: "name", at: 10 * day, load: `
load 1d
  multichannel_transfer_expiry_timestamp_seconds{namespace="woodgrove",name="soon",customer="woodgrove",partner="contoso-csp"} 2592000x40`},

		{name: "a source renewing in twenty days", alert: "MultichannelSourceRenewsSoon", key: "name", at: 10 * day, firing: []string{"soon"}, load: `
load 1d
  multichannel_source_renewal_timestamp_seconds{namespace="woodgrove",name="soon",customer="woodgrove",partner="contoso-csp"} 2592000x40
  multichannel_source_renewal_timestamp_seconds{namespace="woodgrove",name="later",customer="woodgrove",partner="contoso-csp"} 3456000x40`},
		{name: "a source renewing in four weeks", alert: "MultichannelSourceRenewsSoon", key: "name", at: 2 * day, load: `
load 1d
  multichannel_source_renewal_timestamp_seconds{namespace="woodgrove",name="soon",customer="woodgrove",partner="contoso-csp"} 2592000x40`},
		{name: "an expired license six days from losing access", alert: "MultichannelExpiredLicenseDeadline", key: "name", at: 24 * day, firing: []string{"soon"}, load: `
load 1d
  multichannel_source_access_end_timestamp_seconds{namespace="woodgrove",name="soon",customer="woodgrove",partner="contoso-csp"} 2592000x40
  multichannel_source_access_end_timestamp_seconds{namespace="woodgrove",name="later",customer="woodgrove",partner="contoso-csp"} 3456000x40`},
		{name: "an expired license eight days from losing access", alert: "MultichannelExpiredLicenseDeadline", key: "name", at: 22 * day, load: `
load 1d
  multichannel_source_access_end_timestamp_seconds{namespace="woodgrove",name="soon",customer="woodgrove",partner="contoso-csp"} 2592000x40`},

		{name: "a refresh token not renewed for 61 days", alert: "MultichannelRefreshTokenAging", key: "partner", at: 61 * day, firing: []string{"old"}, load: `
load 1d
  multichannel_partner_refresh_token_renewed_timestamp_seconds{partner="old"} 0x70
  multichannel_partner_refresh_token_renewed_timestamp_seconds{partner="fresh"} 2592000x70`},
		{name: "a refresh token renewed 59 days ago", alert: "MultichannelRefreshTokenAging", key: "partner", at: 59 * day, load: `
load 1d
  multichannel_partner_refresh_token_renewed_timestamp_seconds{partner="old"} 0x70`},

		{name: "10% of requests throttled", alert: "MultichannelPartnerCenterThrottled", at: 20 * time.Minute, firing: []string{""}, load: `
load 1m
  multichannel_partnercenter_requests_total{operation="GetTransfer",code="200"} 0+90x30
  multichannel_partnercenter_requests_total{operation="GetTransfer",code="429"} 0+10x30
  multichannel_partnercenter_throttled_total{operation="GetTransfer"} 0+10x30`},
		{name: "1% of requests throttled", alert: "MultichannelPartnerCenterThrottled", at: 20 * time.Minute, load: `
load 1m
  multichannel_partnercenter_requests_total{operation="GetTransfer",code="200"} 0+99x30
  multichannel_partnercenter_requests_total{operation="GetTransfer",code="429"} 0+1x30
  multichannel_partnercenter_throttled_total{operation="GetTransfer"} 0+1x30`},

		{name: "20% of requests failing", alert: "MultichannelPartnerCenterErrors", at: 20 * time.Minute, firing: []string{""}, load: `
load 1m
  multichannel_partnercenter_requests_total{operation="CreateTransfer",code="200"} 0+80x30
  multichannel_partnercenter_requests_total{operation="CreateTransfer",code="503"} 0+10x30
  multichannel_partnercenter_requests_total{operation="CreateTransfer",code="error"} 0+10x30`},
		{name: "client errors and 5% server errors", alert: "MultichannelPartnerCenterErrors", at: 20 * time.Minute, load: `
load 1m
  multichannel_partnercenter_requests_total{operation="CreateTransfer",code="200"} 0+75x30
  multichannel_partnercenter_requests_total{operation="CreateTransfer",code="404"} 0+20x30
  multichannel_partnercenter_requests_total{operation="CreateTransfer",code="500"} 0+5x30`},

		{name: "a GDAP relationship ending in ten days", alert: "MultichannelGDAPRelationshipEndingSoon", key: "name", at: 10 * day, firing: []string{"ending"}, load: `
load 1d
  multichannel_gdap_relationship_end_timestamp_seconds{namespace="woodgrove",name="ending",customer="woodgrove"} 1728000x20
  multichannel_gdap_relationship_end_timestamp_seconds{namespace="woodgrove",name="renewed",customer="woodgrove"} 5184000x20`},
		{name: "GDAP relationships ending later", alert: "MultichannelGDAPRelationshipEndingSoon", key: "name", at: 10 * day, load: `
load 1d
  multichannel_gdap_relationship_end_timestamp_seconds{namespace="woodgrove",name="renewed",customer="woodgrove"} 5184000x20`},
	}

	tested := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rule, ok := rules[tc.alert]
			if !ok {
				t.Fatalf("no alert %s", tc.alert)
			}
			tested[tc.alert] = true
			storage := promqltest.LoadedStorage(t, tc.load)
			engine := promqltest.NewTestEngine(t, false, 5*time.Minute, 100000)
			q, err := engine.NewInstantQuery(context.Background(), storage, nil, rule.Expr, time.Unix(0, 0).Add(tc.at))
			if err != nil {
				t.Fatalf("%s: %v", rule.Expr, err)
			}
			defer q.Close()
			res := q.Exec(context.Background())
			if res.Err != nil {
				t.Fatalf("%s: %v", rule.Expr, res.Err)
			}
			vec, err := res.Vector()
			if err != nil {
				t.Fatal(err)
			}
			var firing []string
			for _, s := range vec {
				firing = append(firing, s.Metric.Get(tc.key))
			}
			sort.Strings(firing)
			want := slices.Clone(tc.firing)
			sort.Strings(want)
			if !slices.Equal(firing, want) {
				t.Errorf("%s fires for %s=%q, want %q\n%s", tc.alert, tc.key, firing, want, strings.TrimSpace(rule.Expr))
			}
		})
	}
	for name := range rules {
		if !tested[name] {
			t.Errorf("alert %s has no test case", name)
		}
	}
}
