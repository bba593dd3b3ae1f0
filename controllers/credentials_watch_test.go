package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers"
)

// TestCredentialsWithoutRefreshToken is issue 11 as a new user meets it: a
// Partner whose Secret has clientID and clientSecret but no refreshToken. The
// Partner is Ready but says which calls it cannot make; the relationship is
// Stalled saying why; the subscription says what blocks it, not only that it
// waits for the customer. Adding refreshToken to the Secret takes effect
// within seconds, not at the next credentials refresh (an hour in these tests).
func TestCredentialsWithoutRefreshToken(t *testing.T) {
	h := start(t)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "app-only"},
		StringData: map[string]string{"clientID": "operator", "clientSecret": "s3cret"}}
	h.create(secret)
	contoso := h.contoso(func(p *v1alpha1.Partner) { p.Spec.PartnerCenter.CredentialsSecretRef.Name = secret.Name })
	h.customer("woodgrove")
	h.subscription("m365", licenseFromEA("woodgrove", contoso.Name)) // the ResellerRelationship path: no authorization needed
	rrKey := client.ObjectKey{Namespace: h.ns, Name: "woodgrove-" + contoso.Name}

	// The Partner is Ready (App-only calls work) and says what it cannot do.
	h.eventually("Partner "+contoso.Name+" names the calls it cannot make", func() error {
		p := &v1alpha1.Partner{}
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(contoso), p); err != nil {
			return err
		}
		ready := condition(p.Status.Conditions, v1alpha1.ConditionReady)
		if ready == nil || ready.Status != metav1.ConditionTrue || ready.Reason != v1alpha1.ReasonTokenObtained {
			return errf("Ready = %+v", ready)
		}
		for _, want := range []string{"cannot make App+User calls", "ResellerRelationship", h.ns + "/app-only", "no refreshToken"} {
			if !strings.Contains(ready.Message, want) {
				return errf("Ready message %q does not say %q", ready.Message, want)
			}
		}
		if c := condition(p.Status.Conditions, v1alpha1.ConditionAppUserCalls); c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonNoRefreshToken {
			return errf("AppUserCalls = %+v", c)
		}
		return nil
	})

	// The relationship cannot ask for its link, and says why.
	var stalledMsg string
	h.eventually("ResellerRelationship "+rrKey.Name+" is Stalled for want of a refresh token", func() error {
		rr := &v1alpha1.ResellerRelationship{}
		if err := k8sClient.Get(h.ctx, rrKey, rr); err != nil {
			return err
		}
		c := condition(rr.Status.Conditions, v1alpha1.ConditionStalled)
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != v1alpha1.ReasonPartnerNotReady || !strings.Contains(c.Message, "refreshToken") {
			return errf("Stalled = %+v, phase %q", c, rr.Status.Phase)
		}
		if rr.Status.InvitationURL != "" {
			return errf("an invitation URL without App+User credentials: %s", rr.Status.InvitationURL)
		}
		stalledMsg = c.Message
		return nil
	})

	// The subscription says what blocks it, not only that the customer must approve.
	h.eventually("CustomerSubscription m365 says what blocks it", func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "m365"}, sub); err != nil {
			return err
		}
		ready := condition(sub.Status.Conditions, v1alpha1.ConditionReady)
		if sub.Status.Phase != v1alpha1.PhaseAwaitingApproval || ready == nil || ready.Status != metav1.ConditionFalse {
			return errf("phase %q, Ready = %+v", sub.Status.Phase, ready)
		}
		if !strings.Contains(ready.Message, stalledMsg) {
			return errf("Ready message %q does not carry the relationship's %q", ready.Message, stalledMsg)
		}
		// Stalled, as its relationship: no amount of waiting for the customer helps.
		if c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != v1alpha1.ReasonPartnerNotReady {
			return errf("Stalled = %+v, want the relationship's PartnerNotReady", c)
		}
		return nil
	})

	// Fix the Secret: within seconds (the refresh is an hour away) the
	// relationship has its link.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(secret), secret); err != nil {
			return err
		}
		secret.Data[v1alpha1.SecretKeyRefreshToken] = []byte("user-refresh-token")
		return k8sClient.Update(h.ctx, secret)
	}); err != nil {
		t.Fatal(err)
	}
	fixed := time.Now()
	const within = 10 * time.Second
	rr := &v1alpha1.ResellerRelationship{}
	var err error
	for {
		if err = k8sClient.Get(h.ctx, rrKey, rr); err == nil {
			if rr.Status.Phase == v1alpha1.RelationshipRequested && rr.Status.InvitationURL != "" &&
				condition(rr.Status.Conditions, v1alpha1.ConditionStalled) == nil {
				break
			}
			err = fmt.Errorf("phase %q, invitation URL %q, conditions %v", rr.Status.Phase, rr.Status.InvitationURL, rr.Status.Conditions)
		}
		if time.Since(fixed) > within {
			t.Fatalf("%v after the Secret got its refreshToken, the relationship has not moved: %v", within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the relationship got its link %v after the Secret was fixed", time.Since(fixed).Round(time.Millisecond))

	p := &v1alpha1.Partner{}
	if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(contoso), p); err != nil {
		t.Fatal(err)
	}
	if c := condition(p.Status.Conditions, v1alpha1.ConditionAppUserCalls); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("after the fix, AppUserCalls = %+v", c)
	}
	if c := condition(p.Status.Conditions, v1alpha1.ConditionReady); c == nil || strings.Contains(c.Message, "cannot") {
		t.Errorf("after the fix, Ready = %+v", c)
	}
	h.waitPhase("m365", v1alpha1.PhaseAwaitingApproval)
	h.eventually("CustomerSubscription m365 waits for the customer only", func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "m365"}, sub); err != nil {
			return err
		}
		if ready := condition(sub.Status.Conditions, v1alpha1.ConditionReady); ready == nil || !strings.Contains(ready.Message, rr.Status.InvitationURL) || strings.Contains(ready.Message, "refreshToken") {
			return errf("Ready = %+v", ready)
		}
		return nil
	})
}

// TestCredentialsSecretCacheStaysHome: the cache options the manager is
// built with (main.go) hold Secrets' metadata only, and only those of the
// operator's namespace: nothing is listed cluster-wide.
func TestCredentialsSecretCacheStaysHome(t *testing.T) {
	ctx := t.Context()
	home, away := "t-"+rand.String(6), "t-"+rand.String(6)
	for _, ns := range []string{home, away} {
		nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		if err := k8sClient.Create(ctx, nsObj); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), nsObj) })
		if err := k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "partner-center"},
			StringData: map[string]string{"clientID": "operator", "clientSecret": "s3cret"}}); err != nil {
			t.Fatal(err)
		}
	}
	byObject := controllers.Options{OperatorNamespace: home}.CacheByObject(nil)
	c, err := cache.New(cfg, cache.Options{Scheme: scheme, ByObject: byObject})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = c.Start(cctx) }()
	if !c.WaitForCacheSync(cctx) {
		t.Fatal("the cache did not sync")
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	if err := c.List(ctx, list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range list.Items {
		names = append(names, s.Namespace+"/"+s.Name)
		if s.Namespace != home {
			t.Errorf("the cache holds Secret %s/%s outside the operator's namespace %s", s.Namespace, s.Name, home)
		}
	}
	if len(names) == 0 {
		t.Errorf("the cache holds no Secret of namespace %s", home)
	}
}
