// Package subscription is the CustomerSubscription reconciler: a pass's
// phases (customersubscription_controller.go), the partner's and the
// customer's gates (authorization.go, customersubscription_agreement.go),
// the switch and its index of paths (customersubscription_switch.go), the
// operation's states (customersubscription_operation.go), one file per
// path's send and follow (purchase, transfer, azure), the catalog, the
// cancellation window, and what an operation records (terms.go). Package
// controllers registers it (NewReconciler, RegisterMetrics); it imports
// controllers/internal/core, never controllers.
package subscription
