// Package rbac embeds the seed's roles, so that make dev and the tests
// install the very ClusterRoles config/default ships.
package rbac

import "embed"

// Roles holds roles.yaml.
//
//go:embed roles.yaml
var Roles embed.FS
