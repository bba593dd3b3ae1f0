package controllers

import "github.com/partnerops/multichannel-operator/controllers/internal/core"

// Options are the knobs every reconciler shares; main binds most to flags.
type Options = core.Options

// Origins are the origins, besides each partner's cloud, that credentials may
// be sent to (Options.AllowedOrigins).
type Origins = core.Origins

// DefaultOperatorNamespace is where config/default installs the operator.
const DefaultOperatorNamespace = core.DefaultOperatorNamespace

// WebhookPath is where the receiver takes Partner Center's webhooks.
const WebhookPath = core.WebhookPath
