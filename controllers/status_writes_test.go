package controllers_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// TestStatusWritesSurviveMetadataWrites: a GitOps tool writes the
// subscription's metadata between the operator's read and each of its status
// writes. Writes that neither change the authorization nor record a cart do not
// conflict, and the subscription completes.
func TestStatusWritesSurviveMetadataWrites(t *testing.T) {
	var touched atomic.Int64
	touch := func(ctx context.Context, obj client.Object, patch client.Patch) error {
		if _, ok := obj.(*v1alpha1.CustomerSubscription); !ok {
			return nil
		}
		data, err := patch.Data(obj)
		if err != nil || bytes.Contains(data, []byte(`"authorization"`)) || bytes.Contains(data, []byte(`"cart"`)) {
			return err // a decision's write, and a purchase's record of its cart, keep their optimistic lock
		}
		n := touched.Add(1)
		annotate := fmt.Sprintf(`{"metadata":{"annotations":{"argocd.argoproj.io/tracking-id":"sync-%d"}}}`, n)
		target := &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{Namespace: obj.GetNamespace(), Name: obj.GetName()}}
		return k8sClient.Patch(ctx, target, client.RawPatch(types.MergePatchType, []byte(annotate)))
	}
	h := start(t, beforeStatusWrite(touch))
	contoso := h.contoso()
	h.woodgroveTrusts(contoso)
	h.subscription("azure", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, v1alpha1.SourceCoexist))

	h.waitPhase("azure", v1alpha1.PhaseCompleted)
	if touched.Load() < 2 {
		t.Fatalf("metadata was written before %d status writes; the test needs several", touched.Load())
	}
	h.conflicts.Range(func(k, _ any) bool {
		if write := k.(string); strings.Contains(write, "CustomerSubscription") && !strings.Contains(write, `"authorization"`) && !strings.Contains(write, `"cart"`) {
			t.Errorf("a status write conflicted with a metadata write: %s", write)
		}
		return true
	})
}

// TestEventsOnlyAfterStatusWrite: the status write of the pass that completes
// the subscription fails once; its Event is emitted (and logged) once, by the
// pass whose write succeeded.
func TestEventsOnlyAfterStatusWrite(t *testing.T) {
	var failed atomic.Bool
	failCompletedOnce := func(_ context.Context, obj client.Object, patch client.Patch) error {
		data, err := patch.Data(obj)
		if err == nil && bytes.Contains(data, []byte(`"phase":"Completed"`)) && failed.CompareAndSwap(false, true) {
			return apierrors.NewConflict(schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "customersubscriptions"}, obj.GetName(),
				fmt.Errorf("injected: the object has been modified"))
		}
		return err
	}
	logs := &syncBuffer{}
	h := start(t, beforeStatusWrite(failCompletedOnce), withLogs(logs))
	contoso := h.contoso()
	h.woodgroveTrusts(contoso)
	h.subscription("azure", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, v1alpha1.SourceCoexist))

	h.waitPhase("azure", v1alpha1.PhaseCompleted)
	if !failed.Load() {
		t.Fatal("no status write was failed; the test proves nothing")
	}
	completedEvents := func() int {
		n := 0
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"event": "Completed"`) && strings.Contains(line, `"name": "azure"`) {
				n++
			}
		}
		return n
	}
	h.eventually("the Completed event is logged", func() error {
		if n := completedEvents(); n < 1 {
			return errf("%d", n)
		}
		return nil
	})
	h.consistently("the Completed event is emitted once", time.Second, func() error {
		if n := completedEvents(); n != 1 {
			return errf("emitted %d times:\n%s", n, logs.String())
		}
		return nil
	})
}
