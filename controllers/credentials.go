package controllers

import "github.com/partnerops/multichannel-operator/internal/destinations"

// Origins are the places a partner's credentials may go besides its cloud's
// hosts (internal/destinations): the operator's --allowed-origins.
type Origins = destinations.Origins

// checkDestination refuses a URL a partner's credentials must not be sent to.
var checkDestination = destinations.Check
