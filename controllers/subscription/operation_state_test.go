package subscription

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// TestOperationState: each state is derived from status.operation alone,
// except recorded against sent, which only the process that recorded the
// operation (and has not sent it) knows.
func TestOperationState(t *testing.T) {
	r := &CustomerSubscriptionReconciler{unsent: newUnsentOperations()}
	now := metav1.Now()
	transfer := v1alpha1.OperationCreateTransfer
	r.unsent.recorded("never-sent")
	r.unsent.refusedUnsent("refused-then-cleared", "HTTP 400: no")
	r.unsent.recorded("sent")
	r.unsent.sending("sent")
	for _, tc := range []struct {
		name string
		op   *v1alpha1.Operation
		want opState
	}{
		{"no operation", nil, opNone},
		{"another path's operation", &v1alpha1.Operation{ID: "x", Type: v1alpha1.OperationCreateLicenseSubscription, CompletedAt: &now}, opNone},
		{"recorded here, never sent", &v1alpha1.Operation{ID: "never-sent", Type: transfer}, opRecorded},
		{"sent by this process", &v1alpha1.Operation{ID: "sent", Type: transfer}, opSent},
		{"recorded by another process", &v1alpha1.Operation{ID: "unknown", Type: transfer}, opSent},
		{"refused, the refusal cleared: it created nothing", &v1alpha1.Operation{ID: "refused-then-cleared", Type: transfer}, opRecorded},
		{"refused", &v1alpha1.Operation{ID: "sent", Type: transfer, Refusal: "HTTP 400: no"}, opRefused},
		{"confirmed", &v1alpha1.Operation{ID: "sent", Type: transfer, ExternalID: "t-1"}, opConfirmed},
		{"ended", &v1alpha1.Operation{ID: "sent", Type: transfer, ExternalID: "t-1", CompletedAt: &now}, opEnded},
		{"refused for good", &v1alpha1.Operation{ID: "sent", Type: transfer, Refusal: "HTTP 400: no", CompletedAt: &now}, opEnded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.operationState(tc.op, transfer); got != tc.want {
				t.Errorf("operationState = %d, want %d", got, tc.want)
			}
		})
	}
}
