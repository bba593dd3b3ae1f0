package azurerm_test

import "github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"

// The simulators are served over TLS, as ARM is: trust them.
func init() { apiretrytest.TrustTestServers() }
