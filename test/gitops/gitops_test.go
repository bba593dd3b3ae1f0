// Package gitops runs the Argo CD health checks in config/gitops against
// sample statuses, on gopher-lua (the Lua VM Argo CD embeds), and checks that
// the Flux example names the project's kinds and phases.
package gitops

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

const keyPrefix = "resource.customizations.health.multichannel.partnerops.io_"

func healthScripts(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "gitops", "argocd", "argocd-cm-health.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	if err := yaml.UnmarshalStrict(data, cm); err != nil {
		t.Fatal(err)
	}
	scripts := map[string]string{}
	for k, v := range cm.Data {
		kind, ok := strings.CutPrefix(k, keyPrefix)
		if !ok {
			t.Errorf("unexpected key %s", k)
		}
		scripts[kind] = v
	}
	return scripts
}

// health runs an Argo CD health script on obj, as Argo CD does: obj is a global.
func health(t *testing.T, script string, obj map[string]any) (status, message string) {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: false})
	defer L.Close()
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		t.Fatalf("the script failed: %v", err)
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("the script returned %s, not a table", L.Get(-1).Type())
	}
	return ret.RawGetString("status").String(), ret.RawGetString("message").String()
}

func toLua(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case string:
		return lua.LString(x)
	case bool:
		return lua.LBool(x)
	case int:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case float64:
		return lua.LNumber(x)
	case map[string]any:
		t := L.NewTable()
		for k, e := range x {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range x {
			t.Append(toLua(L, e))
		}
		return t
	}
	panic("unsupported value")
}

func object(generation int64, status map[string]any) map[string]any {
	obj := map[string]any{"metadata": map[string]any{"name": "x", "generation": generation}}
	if status != nil {
		obj["status"] = status
	}
	return obj
}

func cond(typ, status, reason, message string) map[string]any {
	return map[string]any{"type": typ, "status": status, "reason": reason, "message": message}
}

func conds(c ...map[string]any) []any {
	out := make([]any, len(c))
	for i := range c {
		out[i] = c[i]
	}
	return out
}

func TestArgoCDHealth(t *testing.T) {
	scripts := healthScripts(t)
	for _, kind := range []string{"Partner", "Customer", "CustomerSubscription", "ResellerRelationship", "ApprovalPolicy", "DelegatedAdminRelationship"} {
		if scripts[kind] == "" {
			t.Errorf("no health check for %s", kind)
		}
	}
	ready := cond("Ready", "True", "Completed", "Partner contoso created Azure subscription 123.")
	cases := []struct {
		name, kind string
		obj        map[string]any
		want       string
		message    string // part of the message
	}{
		{"new subscription", "CustomerSubscription", object(1, nil), "Progressing", "evaluate"},
		{"spec changed", "CustomerSubscription", object(2, map[string]any{"observedGeneration": int64(1), "phase": "Completed"}), "Progressing", "latest spec"},
		{"completed", "CustomerSubscription", object(1, map[string]any{"observedGeneration": int64(1), "phase": "Completed", "conditions": conds(ready)}), "Healthy", "Azure subscription 123"},
		{"evaluated only", "CustomerSubscription", object(1, map[string]any{"observedGeneration": int64(1), "phase": "Evaluated"}), "Healthy", "Evaluated"},
		{"awaiting approval", "CustomerSubscription", object(1, map[string]any{"observedGeneration": int64(1), "phase": "AwaitingApproval"}), "Suspended", "AwaitingApproval"},
		{"scheduled", "CustomerSubscription", object(1, map[string]any{"observedGeneration": int64(1), "phase": "Scheduled"}), "Suspended", "Scheduled"},
		{"switching", "CustomerSubscription", object(1, map[string]any{"observedGeneration": int64(1), "phase": "Switching"}), "Progressing", "Switching"},
		{"ineligible", "CustomerSubscription", object(1, map[string]any{"observedGeneration": int64(1), "phase": "Ineligible",
			"conditions": conds(cond("Stalled", "True", "RegionMismatch", "Partner litware is in DE."))}), "Degraded", "litware is in DE"},
		{"transfer expired", "CustomerSubscription", object(1, map[string]any{"observedGeneration": int64(1), "phase": "Failed"}), "Degraded", "Failed"},

		{"relationship requested", "ResellerRelationship", object(1, map[string]any{"phase": "Requested"}), "Suspended", "Requested"},
		{"relationship approved", "ResellerRelationship", object(1, map[string]any{"phase": "Approved"}), "Healthy", "Approved"},
		{"relationship denied", "ResellerRelationship", object(1, map[string]any{"phase": "Denied"}), "Degraded", "Denied"},
		{"relationship expired", "ResellerRelationship", object(1, map[string]any{"phase": "Expired"}), "Degraded", "Expired"},
		{"relationship needs delegated admin", "ResellerRelationship", object(1, map[string]any{"phase": "Pending",
			"conditions": conds(cond("Stalled", "True", "DelegatedAdminRequired", "USGovernment needs delegated admin."))}), "Degraded", "delegated admin"},

		{"GDAP new", "DelegatedAdminRelationship", object(1, nil), "Progressing", "create the GDAP relationship"},
		{"GDAP awaiting the customer", "DelegatedAdminRelationship", object(1, map[string]any{"observedGeneration": int64(1), "phase": "ApprovalPending",
			"conditions": conds(cond("Ready", "False", "AwaitingCustomerApproval", "Waiting for customer woodgrove's Global admin."))}), "Suspended", "Global admin"},
		{"GDAP assigning access", "DelegatedAdminRelationship", object(1, map[string]any{"observedGeneration": int64(1), "phase": "Active",
			"conditions": conds(cond("Ready", "False", "AssigningAccess", "1 access assignment(s) are being applied."))}), "Progressing", "being applied"},
		{"GDAP active", "DelegatedAdminRelationship", object(1, map[string]any{"observedGeneration": int64(1), "phase": "Active",
			"conditions": conds(cond("Ready", "True", "AccessActive", "Partner contoso holds 2 role(s)."))}), "Healthy", "holds 2 role"},
		{"GDAP expiring", "DelegatedAdminRelationship", object(1, map[string]any{"observedGeneration": int64(1), "phase": "Expiring",
			"conditions": conds(cond("Ready", "True", "AccessActive", "Holds roles."), cond("ExpiresSoon", "True", "ExpiresWithin7Days", "The relationship ends in 5 day(s)."))}), "Healthy", "ends in 5 day"},
		{"GDAP expired", "DelegatedAdminRelationship", object(1, map[string]any{"observedGeneration": int64(1), "phase": "Expired",
			"conditions": conds(cond("Stalled", "True", "RelationshipExpired", "The relationship ended."))}), "Degraded", "ended"},
		{"GDAP spec changed", "DelegatedAdminRelationship", object(2, map[string]any{"observedGeneration": int64(1), "phase": "Active"}), "Progressing", "latest spec"},

		{"partner ready", "Partner", object(1, map[string]any{"conditions": conds(cond("Ready", "True", "TokenObtained", "Token obtained."))}), "Healthy", "Token"},
		{"partner refused", "Partner", object(1, map[string]any{"conditions": conds(cond("Ready", "False", "TokenFailed", "Refused."), cond("Stalled", "True", "TokenFailed", "Refused."))}), "Degraded", "Refused"},
		{"partner new", "Partner", object(1, nil), "Progressing", "operator"},
		{"customer ready", "Customer", object(1, map[string]any{"conditions": conds(cond("Ready", "True", "Valid", "2 relationships."))}), "Healthy", "relationships"},
		{"policy invalid", "ApprovalPolicy", object(1, map[string]any{"conditions": conds(cond("Stalled", "True", "InvalidSelector", "Bad selector."))}), "Degraded", "selector"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, message := health(t, scripts[tc.kind], tc.obj)
			if status != tc.want || !strings.Contains(message, tc.message) {
				t.Errorf("%s: %s %q, want %s and a message with %q", tc.kind, status, message, tc.want, tc.message)
			}
		})
	}
}

// TestArgoCDHealthCoversEveryPhase: each phase of the API maps to the status
// the header of argocd-cm-health.yaml promises: waiting on another party is
// Suspended, needing a person Degraded.
func TestArgoCDHealthCoversEveryPhase(t *testing.T) {
	scripts := healthScripts(t)
	subscription := map[v1alpha1.SubscriptionPhase]string{
		v1alpha1.PhasePending: "Progressing", v1alpha1.PhaseEvaluated: "Healthy", v1alpha1.PhaseIneligible: "Degraded",
		v1alpha1.PhaseScheduled: "Suspended", v1alpha1.PhaseAwaitingApproval: "Suspended", v1alpha1.PhaseSwitching: "Progressing",
		v1alpha1.PhaseCompleted: "Healthy", v1alpha1.PhaseFailed: "Degraded",
	}
	for p, want := range subscription {
		if got, _ := health(t, scripts["CustomerSubscription"], object(1, map[string]any{"observedGeneration": int64(1), "phase": string(p)})); got != want {
			t.Errorf("CustomerSubscription %s: %s, want %s", p, got, want)
		}
	}
	relationship := map[v1alpha1.RelationshipPhase]string{
		v1alpha1.RelationshipPending: "Suspended", v1alpha1.RelationshipRequested: "Suspended", v1alpha1.RelationshipApproved: "Healthy",
		v1alpha1.RelationshipDenied: "Degraded", v1alpha1.RelationshipExpired: "Degraded",
	}
	for p, want := range relationship {
		if got, _ := health(t, scripts["ResellerRelationship"], object(1, map[string]any{"phase": string(p)})); got != want {
			t.Errorf("ResellerRelationship %s: %s, want %s", p, got, want)
		}
	}
	gdap := map[v1alpha1.GDAPPhase]string{
		v1alpha1.GDAPPending: "Progressing", v1alpha1.GDAPApprovalPending: "Suspended", v1alpha1.GDAPActive: "Healthy",
		v1alpha1.GDAPExpiring: "Healthy", v1alpha1.GDAPExpired: "Degraded", v1alpha1.GDAPTerminated: "Degraded", v1alpha1.GDAPFailed: "Degraded",
	}
	for p, want := range gdap {
		if got, _ := health(t, scripts["DelegatedAdminRelationship"], object(1, map[string]any{"observedGeneration": int64(1), "phase": string(p)})); got != want {
			t.Errorf("DelegatedAdminRelationship %s: %s, want %s", p, got, want)
		}
	}
}

func TestFluxExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "gitops", "flux", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			HealthChecks []struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			} `json:"healthChecks"`
			HealthCheckExprs []struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Current    string `json:"current"`
				Failed     string `json:"failed"`
			} `json:"healthCheckExprs"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	if k.Kind != "Kustomization" || !strings.HasPrefix(k.APIVersion, "kustomize.toolkit.fluxcd.io/") {
		t.Errorf("not a Flux Kustomization: %s %s", k.APIVersion, k.Kind)
	}
	if len(k.Spec.HealthChecks) == 0 || len(k.Spec.HealthCheckExprs) == 0 {
		t.Fatal("no health checks")
	}
	for _, h := range k.Spec.HealthCheckExprs {
		if h.APIVersion != v1alpha1.GroupVersion.String() {
			t.Errorf("health check for %s", h.APIVersion)
		}
		// Every phase named in a CEL expression must be a phase of the API.
		for _, expr := range []string{h.Current, h.Failed} {
			for _, part := range strings.Split(expr, "'") {
				if part == "" || strings.ContainsAny(part, " [],") {
					continue
				}
				if !isPhase(h.Kind, part) {
					t.Errorf("%s: %q is not a phase", h.Kind, part)
				}
			}
		}
	}
}

func isPhase(kind, p string) bool {
	switch kind {
	case "CustomerSubscription":
		return slices.Contains([]v1alpha1.SubscriptionPhase{v1alpha1.PhasePending, v1alpha1.PhaseEvaluated, v1alpha1.PhaseIneligible, v1alpha1.PhaseScheduled,
			v1alpha1.PhaseAwaitingApproval, v1alpha1.PhaseSwitching, v1alpha1.PhaseCompleted, v1alpha1.PhaseFailed}, v1alpha1.SubscriptionPhase(p))
	case "ResellerRelationship":
		return slices.Contains([]v1alpha1.RelationshipPhase{v1alpha1.RelationshipPending, v1alpha1.RelationshipRequested, v1alpha1.RelationshipApproved,
			v1alpha1.RelationshipDenied, v1alpha1.RelationshipExpired}, v1alpha1.RelationshipPhase(p))
	case "DelegatedAdminRelationship":
		return slices.Contains([]v1alpha1.GDAPPhase{v1alpha1.GDAPPending, v1alpha1.GDAPApprovalPending, v1alpha1.GDAPActive, v1alpha1.GDAPExpiring,
			v1alpha1.GDAPExpired, v1alpha1.GDAPTerminated, v1alpha1.GDAPFailed}, v1alpha1.GDAPPhase(p))
	}
	return false
}
