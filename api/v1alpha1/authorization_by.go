package v1alpha1

import "strings"

// policyBy prefixes status.authorization.by for a decision an
// ApprovalPolicy gave: "ApprovalPolicy <name>".
const policyBy = "ApprovalPolicy "

// PolicyAuthorizationBy is what status.authorization.by records for a
// decision the ApprovalPolicy named policy gave.
func PolicyAuthorizationBy(policy string) string { return policyBy + policy }

// AuthorizingPolicy is the name of the ApprovalPolicy that gave decision a,
// and whether a policy gave it.
func AuthorizingPolicy(a *Authorization) (string, bool) {
	if a == nil || a.Source != AuthorizationFromPolicy {
		return "", false
	}
	name, ok := strings.CutPrefix(a.By, policyBy)
	if !ok || name == "" {
		return "", false
	}
	return name, true
}
