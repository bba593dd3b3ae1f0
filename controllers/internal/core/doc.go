// Package core is what the reconcilers of package controllers and its
// sub-packages share: the Options, the clients per partner
// (PartnerClients, with their credentials and refresh tokens), the
// Wakeups the activity log and webhooks send, references and tenancy
// (GetReference, Usable, MayActFor), an indirect reseller's caller, the
// field indexes and predicates, and small helpers of Partner Center's
// answers and of operations more than one kind records. It imports no
// reconciler: controllers and controllers/subscription import it.
package core
