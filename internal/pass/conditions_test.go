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

func newConditions(list *[]metav1.Condition) Conditions { return NewConditions(list, 3) }

func TestSettleAndWrite(t *testing.T) {
	for _, tc := range []struct {
		name                        string
		sum                         Summary
		gates                       []metav1.Condition
		err                         error
		ready, reconciling, stalled metav1.ConditionStatus
		reason                      string
	}{
		{"ready", Summary{Verdict: Ready("Done", "done.")}, nil, nil, metav1.ConditionTrue, "", "", "Done"},
		{"progressing", Summary{Verdict: Progressing("Waiting", "waits.")}, nil, nil, metav1.ConditionFalse, metav1.ConditionTrue, "", "Waiting"},
		{"stalled", Summary{Verdict: Stalled("Stuck", "stuck.")}, nil, nil, metav1.ConditionFalse, "", metav1.ConditionTrue, "Stuck"},
		{"an error when nothing was decided", Summary{}, nil, errors.New("boom"), metav1.ConditionFalse, metav1.ConditionTrue, "", v1alpha1.ReasonReconcileError},
		{"a decision outlives an error", Summary{Verdict: Stalled("Stuck", "stuck.")}, nil, errors.New("boom"), metav1.ConditionFalse, "", metav1.ConditionTrue, "Stuck"},
		{"ready over open gates", Summary{Verdict: Ready("Done", "done."), Gates: []string{"StepA", "StepB"}},
			[]metav1.Condition{{Type: "StepA", Status: metav1.ConditionTrue, Reason: "A"}}, nil, metav1.ConditionTrue, "", "", "Done"},
		{"a closed gate holds Ready back", Summary{Verdict: Ready("Done", "done."), Gates: []string{"StepA", "StepB"}},
			[]metav1.Condition{{Type: "StepA", Status: metav1.ConditionTrue, Reason: "A"}, {Type: "StepB", Status: metav1.ConditionFalse, Reason: "NotB", Message: "b is not."}},
			nil, metav1.ConditionFalse, metav1.ConditionTrue, "", "NotB"},
		{"an unknown gate holds Ready back", Summary{Verdict: Ready("Done", "done."), Gates: []string{"StepA"}},
			[]metav1.Condition{{Type: "StepA", Status: metav1.ConditionUnknown, Reason: "Unsure"}}, nil, metav1.ConditionFalse, metav1.ConditionTrue, "", "Unsure"},
		{"gates do not touch a stalled verdict", Summary{Verdict: Stalled("Stuck", "stuck."), Gates: []string{"StepA"}},
			[]metav1.Condition{{Type: "StepA", Status: metav1.ConditionFalse, Reason: "NotA"}}, nil, metav1.ConditionFalse, "", metav1.ConditionTrue, "Stuck"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := append([]metav1.Condition{
				{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: "Before"},
				{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: "Before"},
			}, tc.gates...)
			c := newConditions(&list)
			c.Apply(tc.sum, tc.err)
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
	c.Apply(Summary{}, nil)
	if len(list) != 1 || list[0].Reason != "Before" {
		t.Errorf("conditions = %+v", list)
	}
}

func TestReworded(t *testing.T) {
	reword := func(m string) string { return "first: " + m }
	if got := Progressing("Waiting", "waits.").Reworded(reword); got.Message != "first: waits." || got.Reason != "Waiting" {
		t.Errorf("reworded = %+v", got)
	}
	if got := Ready("Done", "done.").Reworded(reword); got.Message != "done." {
		t.Errorf("a Ready verdict was reworded: %+v", got)
	}
}

func TestGates(t *testing.T) {
	var list []metav1.Condition
	c := newConditions(&list)
	c.SetFrom("StepA", Gate{})
	if len(list) != 0 {
		t.Fatalf("an unknown gate wrote %+v", list)
	}
	c.SetFrom("StepA", Closed("NotYet", "not yet."))
	if g := c.Find("StepA"); g == nil || g.Status != metav1.ConditionFalse || g.Reason != "NotYet" || g.ObservedGeneration != 3 {
		t.Errorf("StepA = %+v", g)
	}
	c.SetFrom("StepA", Open("Passed", "passed."))
	if g := c.Find("StepA"); g == nil || g.Status != metav1.ConditionTrue || g.Reason != "Passed" {
		t.Errorf("StepA = %+v", g)
	}
	if (Gate{}).IsOpen() || Closed("a", "b").IsOpen() || !Open("a", "b").IsOpen() {
		t.Error("IsOpen")
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

// TestPhaseChangedSaysWhatReadySays: the Event of a phase change carries the
// verdict Finish writes, held back by a closed gate, not the one summarize
// proposed; no change, or Pending, gets none.
func TestPhaseChangedSaysWhatReadySays(t *testing.T) {
	list := []metav1.Condition{{Type: "StepA", Status: metav1.ConditionFalse, Reason: "NotA", Message: "a is not."}}
	p := &Pass[*v1alpha1.Partner]{Conds: newConditions(&list)}
	sum := Summary{Verdict: Ready("Done", "done."), Gates: []string{"StepA"}}
	p.PhaseChanged("Switching", "Completed", false, "", sum)
	p.PhaseChanged("Completed", "Completed", false, "", sum)
	p.PhaseChanged("", string(v1alpha1.PhasePending), false, "", sum)
	if len(p.events) != 1 || p.events[0].message != "a is not." || p.events[0].reason != "Completed" {
		t.Fatalf("events %+v, want one Completed saying what holds Ready back", p.events)
	}
	list[0].Status = metav1.ConditionTrue
	p.PhaseChanged("Switching", "Completed", false, "subject", sum)
	if got := p.events[1].message; got != "subject: done." {
		t.Errorf("message %q, want the verdict's", got)
	}
}
