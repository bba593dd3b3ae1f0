package v1alpha1

import "testing"

// TestAuthorizingPolicy: the policy a decision names is read back from
// status.authorization.by only for a decision a policy gave.
func TestAuthorizingPolicy(t *testing.T) {
	for _, tc := range []struct {
		a      *Authorization
		name   string
		policy bool
	}{
		{&Authorization{Source: AuthorizationFromPolicy, By: PolicyAuthorizationBy("trust-contoso")}, "trust-contoso", true},
		{&Authorization{Source: AuthorizationManual, By: "ApprovalPolicy trust-contoso"}, "", false},
		{&Authorization{Source: AuthorizationFromPolicy, By: "ana@contoso.example"}, "", false},
		{&Authorization{Source: AuthorizationFromPolicy, By: PolicyAuthorizationBy("")}, "", false},
		{nil, "", false},
	} {
		if name, ok := AuthorizingPolicy(tc.a); name != tc.name || ok != tc.policy {
			t.Errorf("AuthorizingPolicy(%+v) = %q, %v; want %q, %v", tc.a, name, ok, tc.name, tc.policy)
		}
	}
}
