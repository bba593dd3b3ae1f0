package core

import (
	"testing"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

func TestNextAttempt(t *testing.T) {
	for _, tc := range []struct {
		previous []int32
		want     int32
	}{
		{nil, 1}, {[]int32{0}, 2}, {[]int32{1}, 2}, {[]int32{1, 2, 3}, 4}, {[]int32{4, 5}, 6},
	} {
		st := v1alpha1.CustomerSubscriptionStatus{}
		for _, a := range tc.previous {
			st.PreviousOperations = append(st.PreviousOperations, v1alpha1.Operation{Attempt: a})
		}
		if got := NextAttempt(st); got != tc.want {
			t.Errorf("after attempts %v: next %d, want %d", tc.previous, got, tc.want)
		}
	}
}
