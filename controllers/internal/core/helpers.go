package core

import (
	"errors"
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

func FormatTime(t *time.Time) string {
	if t == nil {
		return "at an unknown time"
	}
	return "at " + t.UTC().Format(time.RFC3339)
}

// RetryPartnerCenter reports a failed Partner Center call on object and
// returns the error, so that the pass is retried with backoff. A call that
// needs App+User credentials the partner lacks cannot succeed by retrying:
// that stalls until a person adds a refresh token.
func RetryPartnerCenter(blocker *pass.Verdict, object, doing string, err error) (*ctrl.Result, error) {
	if errors.Is(err, pc.ErrUserCredentialsRequired) {
		// Nothing was sent: the operator cannot make the call at all.
		*blocker = pass.Stalled(v1alpha1.ReasonPartnerNotReady, fmt.Sprintf(
			"Stopped %s: it is an App+User call, and the partner has no %s (in the Secret spec.partnerCenter.credentialsSecretRef names; kubectl multichannel login writes one). The Secret's change resumes this at once.",
			doing, v1alpha1.SecretKeyRefreshToken))
		return pass.Done, nil
	}
	*blocker = pass.Progressing(v1alpha1.ReasonPartnerCenterError, fmt.Sprintf("Partner Center failed while %s: %v; retrying.", doing, err))
	return nil, fmt.Errorf("%s for %s: %w", doing, object, err)
}
