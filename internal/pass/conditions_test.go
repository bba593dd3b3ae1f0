package pass

import (
	"context"
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

func newConditions(list *[]metav1.Condition) Conditions {
	return Conditions{list: list, generation: 3, outcome: &outcome{}}
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name                        string
		decide                      func(Conditions)
		err                         error
		ready, reconciling, stalled metav1.ConditionStatus
		reason                      string
	}{
		{"ready", func(c Conditions) { c.Ready("Done", "done.") }, nil, metav1.ConditionTrue, "", "", "Done"},
		{"progressing", func(c Conditions) { c.Progressing("Waiting", "waits.") }, nil, metav1.ConditionFalse, metav1.ConditionTrue, "", "Waiting"},
		{"stalled", func(c Conditions) { c.Stalled("Stuck", "stuck.") }, nil, metav1.ConditionFalse, "", metav1.ConditionTrue, "Stuck"},
		{"the last said wins", func(c Conditions) { c.Stalled("Stuck", "stuck."); c.Ready("Done", "done.") }, nil, metav1.ConditionTrue, "", "", "Done"},
		{"an error when nothing was decided", func(Conditions) {}, errors.New("boom"), metav1.ConditionFalse, metav1.ConditionTrue, "", v1alpha1.ReasonReconcileError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := []metav1.Condition{
				{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: "Before"},
				{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: "Before"},
			}
			c := newConditions(&list)
			tc.decide(c)
			c.summarize(tc.err)
			for typ, want := range map[string]metav1.ConditionStatus{v1alpha1.ConditionReady: tc.ready, v1alpha1.ConditionReconciling: tc.reconciling, v1alpha1.ConditionStalled: tc.stalled} {
				got := meta.FindStatusCondition(list, typ)
				switch {
				case want == "" && got != nil:
					t.Errorf("%s present: %+v", typ, got)
				case want != "" && (got == nil || got.Status != want || got.Reason != tc.reason || got.ObservedGeneration != 3):
					t.Errorf("%s = %+v, want %s %s at generation 3", typ, got, want, tc.reason)
				}
			}
		})
	}
}

func TestNothingDecidedLeavesTheSummaries(t *testing.T) {
	list := []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Before"}}
	c := newConditions(&list)
	c.summarize(nil)
	if len(list) != 1 || list[0].Reason != "Before" || c.Message() != "" {
		t.Errorf("conditions = %+v, message %q", list, c.Message())
	}
}

func TestRewordProgressing(t *testing.T) {
	var list []metav1.Condition
	c := newConditions(&list)
	c.Progressing("Waiting", "waits.")
	c.RewordProgressing(func(m string) string { return "first: " + m })
	if c.Message() != "first: waits." {
		t.Errorf("message = %q", c.Message())
	}
	c.Ready("Done", "done.")
	c.RewordProgressing(func(m string) string { return "first: " + m })
	if c.Message() != "done." {
		t.Errorf("a Ready outcome was reworded: %q", c.Message())
	}
}

func TestRunPhases(t *testing.T) {
	var ran []int
	step := func(i int, res *ctrl.Result, err error) Phase[*[]int] {
		return func(_ context.Context, s *[]int) (*ctrl.Result, error) {
			*s = append(*s, i)
			return res, err
		}
	}
	boom := errors.New("boom")
	res, err := RunPhases(context.Background(), &ran, step(1, nil, nil), step(2, nil, boom), step(3, Done, nil))
	if !errors.Is(err, boom) || res != (ctrl.Result{}) || len(ran) != 2 {
		t.Errorf("ran %v, result %+v, error %v", ran, res, err)
	}
	ran = nil
	res, err = RunPhases(context.Background(), &ran, step(1, nil, nil), step(2, &ctrl.Result{RequeueAfter: 5}, nil), step(3, nil, nil))
	if err != nil || res.RequeueAfter != 5 || len(ran) != 2 {
		t.Errorf("ran %v, result %+v, error %v", ran, res, err)
	}
}
