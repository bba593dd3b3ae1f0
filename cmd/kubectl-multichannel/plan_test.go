package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func runPlan(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"plan"}, args...), strings.NewReader(stdin), &out, &errOut, fixedClock)
	return code, out.String(), errOut.String()
}

// TestPlanExitCodes: with --exit-code the most serious finding decides:
// nothing to do, changes that run on their own, a person needed, blocked.
func TestPlanExitCodes(t *testing.T) {
	base := customer + "---\n" + partner + "---\n"
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
