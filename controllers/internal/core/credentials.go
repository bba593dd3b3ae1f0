package core

import "github.com/partnerops/multichannel-operator/internal/destinations"

// Origins are the places a partner's credentials may go besides its cloud's
// hosts (internal/destinations): the operator's --allowed-origins flag.
type Origins = destinations.Origins
