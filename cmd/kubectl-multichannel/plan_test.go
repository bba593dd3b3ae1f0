package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/multichannel-operator/internal/check"
)

func runPlan(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"plan"}, args...), strings.NewReader(stdin), &out, &errOut, fixedClock)
	return code, out.String(), errOut.String()
}

// TestPlanExitCodes: with --exit-code the most serious finding decides:
// nothing to do, changes that run on their own, a person needed, blocked.
func TestPlanExitCodes(t *testing.T) {
	// The partner acts: it has credentials and serves every namespace.
	acting := strings.Replace(partner, "country: US}", "country: US, partnerCenter: {credentialsSecretRef: {name: pc}}, namespaceSelector: {}}", 1)
	base := customer + "---\n" + acting + "---\n"
	policy := "apiVersion: multichannel.partnerops.io/v1alpha1\nkind: ApprovalPolicy\nmetadata: {name: trust}\nspec: {partnerRefs: [contoso]}\n---\n"
	expired := strings.Replace(azureDirect, "}, supportPartnerRef", "}, state: Expired, supportPartnerRef", 1)
	unsupported := strings.Replace(azureDirect, ", supportPartnerRef: contoso", "", 1)
	cases := []struct {
		name, input string
		code        int
	}{
		{"evaluated only", base + subscription("azure", unsupported), exitPlanNothing},
		{"authorized by a policy", base + policy + subscription("azure", azureDirect), exitPlanAutomatic},
		{"no policy: a person decides", base + subscription("azure", azureDirect), exitPlanNeedsPerson},
		{"blocked wins", base + subscription("azure", azureDirect) + "---\n" + subscription("expired", expired), exitPlanBlocked},
		{"a partner without credentials is blocked", customer + "---\n" + partner + "---\n" + policy + subscription("azure", azureDirect), exitPlanBlocked},
		{"a partner that serves no namespace is blocked", customer + "---\n" + strings.Replace(acting, ", namespaceSelector: {}", "", 1) + "---\n" + policy +
			subscription("azure", azureDirect), exitPlanBlocked},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runPlan(tc.input, "-f", "-", "--exit-code")
			if code != tc.code {
				t.Errorf("exit %d, want %d; out %q, err %q", code, tc.code, out, errOut)
			}
			if code, _, _ := runPlan(tc.input, "-f", "-"); code != exitOK {
				t.Errorf("without --exit-code: exit %d, want 0", code)
			}
		})
	}
}

// TestPlanOutputs: the three formats over the samples, and bad flags.
func TestPlanOutputs(t *testing.T) {
	code, out, errOut := runPlan("", "-f", samples, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var p struct {
		SchemaVersion string `json:"schemaVersion"`
		Items         []struct {
			Name      string `json:"name"`
			Attention string `json:"attention"`
		} `json:"items"`
		Totals struct {
			Subscriptions int `json:"subscriptions"`
		} `json:"totals"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.SchemaVersion != "multichannel.partnerops.io/plan/v1" || p.Totals.Subscriptions != len(p.Items) || len(p.Items) == 0 {
		t.Fatalf("json: %v, %+v", err, p)
	}
	if code, out, _ := runPlan("", "-f", samples, "-o", "markdown"); code != exitOK || !strings.HasPrefix(out, "### Multichannel plan") || !strings.Contains(out, "<details>") {
		t.Errorf("markdown: exit %d, %q", code, out)
	}
	if code, out, _ := runPlan("", "-f", samples); code != exitOK || !strings.Contains(out, "kubectl multichannel approve woodgrove-azure-ea -n default") {
		t.Errorf("text: exit %d, %q", code, out)
	}
	for _, args := range [][]string{{"-f", samples, "-o", "yaml"}, {"-f", samples, "--now", "tomorrow"}, {}} {
		if code, _, errOut := runPlan("", args...); code != exitBadInput || errOut == "" {
			t.Errorf("plan %v: exit %d, %q; want 2 with a message", args, code, errOut)
		}
	}
}

// TestPlanAgainstACluster: with --cluster the plan shows only what applying
// the manifests changes: a subscription the cluster lacks (Create), one it
// holds with another spec (Update), and one it holds that the manifests no
// longer declare; one it holds unchanged is left out.
func TestPlanAgainstACluster(t *testing.T) {
	env, c := startAPIServer(t)
	ctx := context.Background()
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "woodgrove"}}); err != nil {
		t.Fatal(err)
	}
	inNS := func(s string) string {
		return strings.Replace(s, "metadata: {name: ", "metadata: {namespace: woodgrove, name: ", 1)
	}
	applied := customer + "---\n" + partner + "---\n" + inNS(subscription("same", azureDirect)) + "---\n" + inNS(subscription("edited", azureDirect)) +
		"---\n" + inNS(subscription("gone", azureDirect))
	apply(t, c, applied)
	edited := strings.Replace(azureDirect, "offer: {id: o}", "offer: {id: o2}", 1)
	input := customer + "---\n" + partner + "---\n" + inNS(subscription("same", azureDirect)) + "---\n" + inNS(subscription("edited", edited)) +
		"---\n" + inNS(subscription("new", azureDirect))

	code, out, errOut := runPlan(input, "-f", "-", "-n", "woodgrove", "-o", "json", "--cluster", "--kubeconfig", writeKubeconfig(t, env))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var p struct {
		Items []struct {
			Name   string `json:"name"`
			Change string `json:"change"`
		} `json:"items"`
		Removed []struct {
			Name string `json:"name"`
		} `json:"removed"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range p.Items {
		got[it.Name] = it.Change
	}
	if len(got) != 2 || got["edited"] != "Update" || got["new"] != "Create" {
		t.Errorf("planned %v, want edited (Update) and new (Create) only", got)
	}
	if len(p.Removed) != 1 || p.Removed[0].Name != "gone" {
		t.Errorf("removed %+v, want gone", p.Removed)
	}
}

// apply creates the manifests' objects as kubectl apply would, the CRDs'
// defaults applied by the API server.
func apply(t *testing.T, c client.Client, manifests string) {
	t.Helper()
	docs, err := check.Load([]string{"-"}, strings.NewReader(manifests))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if d.Object.GetNamespace() == "" && d.Object.GetKind() != "Partner" {
			d.Object.SetNamespace("woodgrove")
		}
		if err := c.Create(context.Background(), d.Object); err != nil {
			t.Fatalf("creating %s %s: %v", d.Object.GetKind(), d.Object.GetName(), err)
		}
	}
}
