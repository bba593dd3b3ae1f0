package controllers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// storedRefreshToken is the operator's Secret for partner's refresh token.
func (h *harness) storedRefreshToken(partner string) *corev1.Secret {
	h.t.Helper()
	s := &corev1.Secret{}
	if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "multichannel-refresh-token-" + partner}, s); err != nil {
		return nil
	}
	return s
}

// appUserCalls waits until the Partner's AppUserCalls condition has reason,
// and returns it.
func (h *harness) appUserCalls(partner, reason string) string {
	h.t.Helper()
	var msg string
	h.eventually("Partner "+partner+"'s AppUserCalls is "+reason, func() error {
		p := &v1alpha1.Partner{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Name: partner}, p); err != nil {
			return err
		}
		c := condition(p.Status.Conditions, v1alpha1.ConditionAppUserCalls)
		if c == nil || c.Reason != reason {
			return errf("AppUserCalls %+v", c)
		}
		msg = c.Message
		return nil
	})
	return msg
}

// TestRenewedRefreshTokenStoredAndUsedAfterRestart: the token service
// replaces the refresh token at each App+User token and refuses the old one
// (as Entra ID may). The operator stores the new one in a Secret of its own,
// once per renewal, never in a log, and a new manager (a restart) uses it:
// App+User calls keep working.
func TestRenewedRefreshTokenStoredAndUsedAfterRestart(t *testing.T) {
	h := start(t, withSim(sim.Options{SingleUseRefreshTokens: true}))
	contoso := h.contoso()
	msg := h.appUserCalls(contoso.Name, v1alpha1.ReasonUserTokenObtained)
	if !strings.Contains(msg, "last renewed") {
		t.Errorf("AppUserCalls says %q, want when the token was last renewed", msg)
	}
	first := h.storedRefreshToken(contoso.Name)
	if first == nil {
		t.Fatal("the renewed refresh token was not stored")
	}
	token := string(first.Data[v1alpha1.SecretKeyRefreshToken])
	if token == "" || token == "user-refresh-token" || first.Annotations[v1alpha1.AnnotationRefreshTokenRenewedAt] == "" ||
		len(first.OwnerReferences) != 1 || first.OwnerReferences[0].Name != contoso.Name {
		t.Fatalf("stored %+v, want a new token, when, and the Partner as owner", first.ObjectMeta)
	}
	// The Partner's own token was replaced: the token service refuses it now.
	old, err := pc.New(pc.Config{Endpoint: h.simURL, AuthorityHost: h.simURL, TenantID: contosoTenant,
		Credentials: pc.Credentials{ClientID: "operator", ClientSecret: "s3cret", RefreshToken: "user-refresh-token"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.CheckUserCredentials(context.Background()); err == nil || !strings.Contains(err.Error(), "AADSTS70008") {
		t.Fatalf("the replaced token: %v, want it refused", err)
	}

	h.stopManager()
	h.startManager()
	h.eventually("the restarted manager renews the stored token", func() error {
		s := h.storedRefreshToken(contoso.Name)
		if s == nil || string(s.Data[v1alpha1.SecretKeyRefreshToken]) == token {
			return errf("the stored token was not renewed after the restart")
		}
		return nil
	})
	h.appUserCalls(contoso.Name, v1alpha1.ReasonUserTokenObtained)
}

// TestRefreshTokenAgingWarned: a refresh token the token service does not
// renew is warned about 60 days after it was last renewed (or signed in),
// with a Warning Event, well before it expires unused at 90.
func TestRefreshTokenAgingWarned(t *testing.T) {
	h := start(t, withSim(sim.Options{KeepRefreshTokens: true}))
	// Signed in 61 days before the operator's clock (kubectl multichannel login writes this).
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s := &corev1.Secret{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "partner-center"}, s); err != nil {
			return err
		}
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[v1alpha1.AnnotationRefreshTokenRenewedAt] = h.clock.Now().Add(-61 * 24 * time.Hour).UTC().Format(time.RFC3339)
		return k8sClient.Update(h.ctx, s)
	}); err != nil {
		t.Fatal(err)
	}
	contoso := h.contoso()
	msg := h.appUserCalls(contoso.Name, v1alpha1.ReasonRefreshTokenAging)
	if !strings.Contains(msg, "not been renewed for 61 days") || !strings.Contains(msg, "kubectl multichannel login "+contoso.Name) {
		t.Errorf("AppUserCalls says %q", msg)
	}
	if h.storedRefreshToken(contoso.Name) != nil {
		t.Error("a token that was not renewed was stored")
	}
	h.eventually("a Warning Event says so", func() error {
		if ev := h.partnerEvents(contoso.Name, v1alpha1.ReasonRefreshTokenAging); len(ev) != 1 || ev[0].Type != "Warning" {
			return errf("events %+v", ev)
		}
		return nil
	})
}

// partnerEvents are the Events of a Partner (cluster-scoped: they land in
// the default namespace) with reason.
func (h *harness) partnerEvents(partner, reason string) []eventsv1.Event {
	h.t.Helper()
	list := &eventsv1.EventList{}
	if err := k8sClient.List(h.ctx, list); err != nil {
		h.t.Fatal(err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Reason == reason && e.Regarding.Kind == "Partner" && e.Regarding.Name == partner {
			out = append(out, e)
		}
	}
	return out
}
