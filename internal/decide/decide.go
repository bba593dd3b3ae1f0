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
	// Generation is the generation of the subscription's spec the person
	// looked at; 0 takes the one read first. A spec that changes meanwhile
	// fails the decision instead of approving what nobody saw.
	Generation int64
}

// Outcome says what Record did.
type Outcome struct {
	// Written is false when the same decision was already recorded.
	Written bool
	// What describes what was decided on, such as the path and quantity.
	What string
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
func Record(ctx context.Context, c client.Client, kind Kind, key client.ObjectKey, d Decision) (Outcome, error) {
	var out Outcome
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var err error
		switch kind {
		case Subscription:
			out, err = recordAuthorization(ctx, c, key, &d)
		case Relationship:
			out, err = recordCustomerDecision(ctx, c, key, d)
		default:
			err = fmt.Errorf("unknown kind %q", kind)
		}
		return err
	})
	return out, err
}

func recordAuthorization(ctx context.Context, c client.Client, key client.ObjectKey, d *Decision) (Outcome, error) {
	sub := &v1alpha1.CustomerSubscription{}
	if err := c.Get(ctx, key, sub); err != nil {
		return Outcome{}, fmt.Errorf("reading CustomerSubscription %s: %w", key, err)
	}
	if d.Generation == 0 {
		d.Generation = sub.Generation // pinned for the retries
	}
	if sub.Generation != d.Generation {
		return Outcome{}, fmt.Errorf("the spec of CustomerSubscription %s changed (generation %d, you looked at %d): check it with kubectl multichannel status and decide again",
			key, sub.Generation, d.Generation)
	}
	out := Outcome{What: describe(sub)}
	terms := sub.Status.Terms
	if terms == nil || sub.Status.ObservedGeneration != sub.Generation {
		return out, fmt.Errorf("CustomerSubscription %s shows no terms for generation %d yet (the operator says what it would send once it has read the spec): check it with kubectl multichannel status and decide again",
			key, sub.Generation)
	}
	decision := v1alpha1.DecisionAuthorized
	if !d.Approve {
		decision = v1alpha1.DecisionAuthorizationDenied
	}
	if a := sub.Status.Authorization; a != nil && a.Source == v1alpha1.AuthorizationManual && a.Terms != nil && *a.Terms == *terms {
		if a.Decision == decision {
			return out, nil // already so: nothing to write
		}
		if a.Decision != v1alpha1.DecisionAuthorizationDenied {
			return out, fmt.Errorf("CustomerSubscription %s was already %s by %s on these terms; a decision is final: a change of what is bought asks again",
				key, a.Decision, a.By)
		}
		// A person lifts a person's denial.
	}
	now := metav1.NewTime(d.Now)
	sub.Status.Authorization = &v1alpha1.Authorization{Decision: decision, By: d.User, At: &now,
		Source: v1alpha1.AuthorizationManual, Generation: sub.Generation, Reason: d.Reason, Terms: terms.DeepCopy()}
	if err := c.Status().Update(ctx, sub); err != nil {
		return out, fmt.Errorf("recording the decision on CustomerSubscription %s: %w", key, err)
	}
	out.Written = true
	return out, nil
}

// describe says what an authorization of sub lets the operator do: the
// terms it would send, which the decision names.
func describe(sub *v1alpha1.CustomerSubscription) string {
	t := sub.Status.Terms
	if t == nil {
		return fmt.Sprintf("generation %d: offer %s, support partner %s (no terms shown yet)", sub.Generation, sub.Spec.Offer.ID, sub.Spec.SupportPartnerRef)
	}
	return DescribeTerms(t)
}

// DescribeTerms says what terms t send: the path, what is bought or
// transferred and how many, for which customer and tenant, by which partner.
func DescribeTerms(t *v1alpha1.Terms) string {
	what := fmt.Sprintf("%s: %d x %s", t.Path, t.Quantity, t.OfferID)
	if t.BillingCycle != "" {
		what += " (" + strings.TrimPrefix(t.TermDuration+", ", ", ") + "billed " + t.BillingCycle + ")"
	}
	if t.SubscriptionID != "" {
		what += fmt.Sprintf(", subscription %s from partner tenant %s", t.SubscriptionID, t.SourcePartnerTenantID)
	}
	if t.SourceDisposition != "" && t.SourceDisposition != v1alpha1.SourceCoexist {
		what += ", source " + string(t.SourceDisposition)
	}
	if t.AzurePlanIfNone {
		what += ", and first the customer's Azure plan (DZH318Z0BPS6:0001) if the partner holds none"
	}
	return fmt.Sprintf("%s, for customer %s (tenant %s), by partner %s (tenant %s)", what, t.Customer, t.CustomerTenantID, t.Partner, t.PartnerTenantID)
}

func recordCustomerDecision(ctx context.Context, c client.Client, key client.ObjectKey, d Decision) (Outcome, error) {
	rr := &v1alpha1.ResellerRelationship{}
	if err := c.Get(ctx, key, rr); err != nil {
		return Outcome{}, fmt.Errorf("reading ResellerRelationship %s: %w", key, err)
	}
	customer := &v1alpha1.Customer{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: rr.Spec.CustomerRef}, customer); err != nil {
		return Outcome{}, fmt.Errorf("reading Customer %s/%s, whose tenant the decision is for: %w", key.Namespace, rr.Spec.CustomerRef, err)
	}
	out := Outcome{What: fmt.Sprintf("partner %s as reseller of customer %s (tenant %s)", rr.Spec.PartnerRef, rr.Spec.CustomerRef, customer.Spec.TenantID)}
	typ, decision := v1alpha1.ConditionApproved, v1alpha1.DecisionApproved
	if !d.Approve {
		typ, decision = v1alpha1.ConditionDenied, v1alpha1.DecisionDenied
	}
	if a := rr.Status.Approval; a != nil {
		if a.Decision == decision && a.Source == v1alpha1.ApprovalManual {
			return out, nil
		}
		return out, fmt.Errorf("ResellerRelationship %s already records %s by %s (%s); a decision is final: a new request is a new ResellerRelationship",
			key, a.Decision, a.By, a.Source)
	}
	if d.Approve {
		// Only the customer approves: for a partner with credentials that is
		// what Partner Center shows, never a record made by hand.
		partner := &v1alpha1.Partner{}
		if err := c.Get(ctx, client.ObjectKey{Name: rr.Spec.PartnerRef}, partner); err == nil && partner.HasCredentials() {
			return out, fmt.Errorf("partner %s has Partner Center credentials, so customer %s's consent is only what Partner Center shows: its Global admin accepts %s (status.invitationURL); deny still records a refusal",
				rr.Spec.PartnerRef, rr.Spec.CustomerRef, orLink(rr.Status.InvitationURL))
		}
	}
	message := "Recorded by " + d.User
	if d.Reason != "" {
		message += ": " + d.Reason
	}
	meta.SetStatusCondition(&rr.Status.Conditions, metav1.Condition{Type: typ, Status: metav1.ConditionTrue,
		Reason: "RecordedByHand", Message: message, ObservedGeneration: rr.Generation})
	now := metav1.NewTime(d.Now)
	rr.Status.Approval = &v1alpha1.Approval{Decision: decision, By: d.User, At: &now, Source: v1alpha1.ApprovalManual, TenantID: customer.Spec.TenantID}
	if err := c.Status().Update(ctx, rr); err != nil {
		return out, fmt.Errorf("recording the customer's decision on ResellerRelationship %s: %w", key, err)
	}
	out.Written = true
	return out, nil
}

func orLink(url string) string {
	if url == "" {
		return "the request link once the operator has it"
	}
	return url
}
