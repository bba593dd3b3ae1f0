// Package decide records a person's decisions as kubectl multichannel approve
// and deny do: the partner's authorization of a CustomerSubscription, and a
// reference-only customer's answer on a ResellerRelationship. The API server's
// admission check (config/admission) is what makes a decision binding; this
// package asks the authorizer first so that a person without verb approve
// gets a clear answer before anything is written.
package decide

import (
	"context"
	"fmt"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// Kind is what a decision is about.
type Kind string

const (
	Subscription Kind = "customersubscriptions"
	Relationship Kind = "resellerrelationships"
)

// ParseTarget reads [TYPE/]NAME as kubectl does; without a type it is a
// CustomerSubscription.
func ParseTarget(arg string) (Kind, string, error) {
	typ, name, found := strings.Cut(arg, "/")
	if !found {
		return Subscription, arg, nil
	}
	switch strings.ToLower(typ) {
	case "csub", "customersubscription", "customersubscriptions":
		return Subscription, name, nil
	case "rr", "resellerrelationship", "resellerrelationships":
		return Relationship, name, nil
	}
	return "", "", fmt.Errorf("%q is not a CustomerSubscription (csub/NAME) or a ResellerRelationship (rr/NAME)", arg)
}

// Decision is one person's answer.
type Decision struct {
	Approve bool
	// User is who decides, as the API server authenticates them (WhoAmI).
	User string
	// Reason says why, in the person's words.
	Reason string
	Now    time.Time
}

// WhoAmI asks the API server who the client is (kubectl auth whoami).
func WhoAmI(ctx context.Context, c client.Client) (string, error) {
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return "", fmt.Errorf("asking the API server who you are (SelfSubjectReview): %w", err)
	}
	return review.Status.UserInfo.Username, nil
}

// CheckAllowed fails with a clear message when the client lacks verb approve
// on the object.
func CheckAllowed(ctx context.Context, c client.Client, kind Kind, namespace, name, user string) error {
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: "approve",
			Group: v1alpha1.GroupVersion.Group, Resource: string(kind), Name: name}}}
	if err := c.Create(ctx, review); err != nil {
		return fmt.Errorf("asking the API server whether you may approve (SelfSubjectAccessReview): %w", err)
	}
	if !review.Status.Allowed {
		return fmt.Errorf("user %s lacks verb approve on %s.%s %s in namespace %s: a cluster admin grants it with the multichannel-global-admin role",
			user, kind, v1alpha1.GroupVersion.Group, name, namespace)
	}
	return nil
}

// Record writes d on the object, retrying on conflicts with the operator's
// own status writes. It refuses a second, different decision.
func Record(ctx context.Context, c client.Client, kind Kind, key client.ObjectKey, d Decision) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		switch kind {
		case Subscription:
			return recordAuthorization(ctx, c, key, d)
		case Relationship:
			return recordCustomerDecision(ctx, c, key, d)
		}
		return fmt.Errorf("unknown kind %q", kind)
	})
}

func recordAuthorization(ctx context.Context, c client.Client, key client.ObjectKey, d Decision) error {
	sub := &v1alpha1.CustomerSubscription{}
	if err := c.Get(ctx, key, sub); err != nil {
		return fmt.Errorf("reading CustomerSubscription %s: %w", key, err)
	}
	decision := v1alpha1.DecisionAuthorized
	if !d.Approve {
		decision = v1alpha1.DecisionAuthorizationDenied
	}
	if a := sub.Status.Authorization; a != nil && a.Generation == sub.Generation {
		if a.Decision == decision {
			return nil // already so: nothing to write
		}
		return fmt.Errorf("CustomerSubscription %s was already %s by %s for generation %d; a decision is final: change the spec to ask again",
			key, a.Decision, a.By, a.Generation)
	}
	now := metav1.NewTime(d.Now)
	sub.Status.Authorization = &v1alpha1.Authorization{Decision: decision, By: d.User, At: &now,
		Source: v1alpha1.AuthorizationManual, Generation: sub.Generation, Reason: d.Reason}
	if err := c.Status().Update(ctx, sub); err != nil {
		return fmt.Errorf("recording the decision on CustomerSubscription %s: %w", key, err)
	}
	return nil
}

func recordCustomerDecision(ctx context.Context, c client.Client, key client.ObjectKey, d Decision) error {
	rr := &v1alpha1.ResellerRelationship{}
	if err := c.Get(ctx, key, rr); err != nil {
		return fmt.Errorf("reading ResellerRelationship %s: %w", key, err)
	}
	typ, decision := v1alpha1.ConditionApproved, v1alpha1.DecisionApproved
	if !d.Approve {
		typ, decision = v1alpha1.ConditionDenied, v1alpha1.DecisionDenied
	}
	if a := rr.Status.Approval; a != nil {
		if a.Decision == decision {
			return nil
		}
		return fmt.Errorf("ResellerRelationship %s already records %s by %s (%s); a decision is final: a new request is a new ResellerRelationship",
			key, a.Decision, a.By, a.Source)
	}
	message := "Recorded by " + d.User
	if d.Reason != "" {
		message += ": " + d.Reason
	}
	meta.SetStatusCondition(&rr.Status.Conditions, metav1.Condition{Type: typ, Status: metav1.ConditionTrue,
		Reason: "RecordedByHand", Message: message, ObservedGeneration: rr.Generation})
	now := metav1.NewTime(d.Now)
	rr.Status.Approval = &v1alpha1.Approval{Decision: decision, By: d.User, At: &now, Source: v1alpha1.ApprovalManual}
	if err := c.Status().Update(ctx, rr); err != nil {
		return fmt.Errorf("recording the customer's decision on ResellerRelationship %s: %w", key, err)
	}
	return nil
}
