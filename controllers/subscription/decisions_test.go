package subscription

import (
	"testing"

	"github.com/google/uuid"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

func TestOperationIDIsDeterministic(t *testing.T) {
	a := &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{UID: "uid-1"}}
	b := &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{UID: "uid-2"}}
	transfer := v1alpha1.OperationCreateTransfer
	if operationID(a, transfer, 1) != operationID(a.DeepCopy(), transfer, 1) {
		t.Error("the same subscription, type and attempt gave two IDs")
	}
	if operationID(a, transfer, 1) == operationID(b, transfer, 1) ||
		operationID(a, transfer, 1) == operationID(a, v1alpha1.OperationCreateAzurePlan, 1) ||
		operationID(a, transfer, 1) == operationID(a, transfer, 2) {
		t.Error("different subscriptions, types or attempts share an ID")
	}
	// The first attempt's ID is derived from the UID and type only, and stays
	// so: a stored operation resumes as itself.
	if operationID(a, transfer, 1) != uuid.NewSHA1(operationNamespace, []byte("uid-1/CreateTransfer")).String() ||
		operationID(a, transfer, 0) != operationID(a, transfer, 1) {
		t.Error("attempt 1 changed its ID derivation")
	}
}
