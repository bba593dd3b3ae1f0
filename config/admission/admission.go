// Package admission embeds the ValidatingAdmissionPolicies, so that make dev
// and the tests install the very manifests config/default ships.
package admission

import "embed"

// Policies holds the policies and their bindings.
//
//go:embed decisions.yaml bindings.yaml warnings.yaml
var Policies embed.FS
