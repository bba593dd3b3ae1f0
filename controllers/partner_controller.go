package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/apiretry"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

// PartnerReconciler checks that a Partner's Partner Center credentials work.
type PartnerReconciler struct {
	client.Client
	clients  *core.PartnerClients
	recorder recorder.EventRecorder
	opts     Options
}

// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=partners,verbs=get;list;watch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=partners/status,verbs=get;patch
// +kubebuilder:rbac:groups="",namespace=multichannel-system,resources=secrets,verbs=get;list;watch;create;update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile sets Ready: ReferenceOnly without credentials, TokenObtained when
// the credentials earn a token, and why not otherwise.
func (r *PartnerReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	partner := &v1alpha1.Partner{}
	if err := r.Get(ctx, req.NamespacedName, partner); err != nil {
		if apierrors.IsNotFound(err) {
			r.clients.Forget(req.Name)
			refreshTokenRenewed.DeleteLabelValues(req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	p := pass.Begin(ctx, r.Client, r.recorder, "Partner", partner, &partner.Status.Conditions, &partner.Status.ObservedGeneration)
	var f partnerFacts
	defer func() { retErr = p.Finish(ctx, res, retErr, false, r.summarize(p, f)) }()

	// Every outcome below but an error reading the Secret ends the pass
	// without an error: it judged the current spec (Finish records its
	// generation), so a Partner Stalled on its credentials reads as Failed,
	// not InProgress (kstatus).
	if partner.Spec.CSPType == v1alpha1.CSPTypeIndirectReseller {
		_, f.providerErr = core.CallerOf(ctx, r.Client, partner)
	}
	pcClient, err := r.clients.Refresh(ctx, partner)
	switch {
	case errors.Is(err, core.ErrReferenceOnly):
		f.state = partnerReferenceOnly
	case errors.As(err, &f.credErr):
		f.state = partnerCredentialsUnusable
	case err != nil:
		return ctrl.Result{}, err
	default:
		f.state = partnerTokenObtained
		f.creds, f.secret = r.clients.CredentialsOf(partner), r.refreshTokenSecret(partner)
		if f.tokenErr = pcClient.CheckCredentials(ctx); f.tokenErr == nil && partner.Spec.CSPType != v1alpha1.CSPTypeIndirectReseller {
			// No App+User call is ever made with a reseller's credentials (its
			// provider makes them): its refresh token, if any, is not used.
			f.userErr = pcClient.CheckUserCredentials(ctx)
			f.userChecked = true
		}
	}
	// A change to the Secret requeues the Partner at once (SetupWithManager).
	return ctrl.Result{RequeueAfter: r.opts.CredentialsRefresh}, nil
}

// partnerState is how far a pass got with a Partner's credentials.
type partnerState int

const (
	partnerUnchecked           partnerState = iota // the pass failed before knowing
	partnerReferenceOnly                           // no credentials: reference data
	partnerCredentialsUnusable                     // declared, but not usable as declared
	partnerTokenObtained                           // usable: the token checks ran
)

// partnerFacts is what a pass found out about a Partner's credentials.
type partnerFacts struct {
	state   partnerState
	credErr *core.CredentialsError
	// tokenErr: the token service refused the App-only token.
	tokenErr error
	// userErr: the App+User check's answer, when userChecked.
	userErr     error
	userChecked bool
	// providerErr: why an indirect reseller's provider cannot make calls for it.
	providerErr error
	// creds names what authenticates the partner, secret the Secret that
	// holds (or would hold) its refresh token.
	creds, secret string
}

// summarize derives the Partner's AppUserCalls condition and its verdict
// from what the pass found, and queues the Event a change of Ready gets.
func (r *PartnerReconciler) summarize(p *pass.Pass[*v1alpha1.Partner], f partnerFacts) pass.Summary {
	partner := p.Obj
	if f.userChecked {
		r.setAppUserCalls(p, partner, f.userErr)
	} else if f.state != partnerUnchecked {
		p.Conds.Remove(v1alpha1.ConditionAppUserCalls)
	}
	v := partnerVerdict(partner, f)
	action := "ObtainToken"
	if f.state == partnerCredentialsUnusable {
		action = "ReadCredentials"
	}
	eventType := corev1.EventTypeNormal
	if v.IsStalled() {
		eventType = corev1.EventTypeWarning
	}
	p.EventOnReadyChange(v, eventType, action)
	return pass.Summary{Verdict: v}
}

// partnerVerdict: ReferenceOnly without credentials, TokenObtained when the
// credentials earn a token, and why not otherwise. Only the token service's
// refusal of a token itself needs a person (Stalled); App+User calls that
// fail otherwise (a network error, an outage) leave the Partner Ready and
// are retried.
func partnerVerdict(partner *v1alpha1.Partner, f partnerFacts) pass.Verdict {
	reseller := partner.Spec.CSPType == v1alpha1.CSPTypeIndirectReseller
	switch {
	case f.state == partnerReferenceOnly && reseller:
		return pass.Ready(v1alpha1.ReasonReferenceOnly, resellerNote(partner, f.providerErr, "The partner has no credentials of its own."))
	case f.state == partnerReferenceOnly:
		return pass.Ready(v1alpha1.ReasonReferenceOnly, "The partner has no Partner Center credentials; it is reference data and nothing is called on its behalf.")
	case f.state == partnerCredentialsUnusable:
		return pass.Stalled(f.credErr.Reason, f.credErr.Error()+".")
	case f.state != partnerTokenObtained:
		return pass.Verdict{}
	case f.tokenErr != nil:
		return pass.Stalled(v1alpha1.ReasonTokenFailed, fmt.Sprintf("The token service refused %s: %v.", f.creds, f.tokenErr))
	case reseller:
		return pass.Ready(v1alpha1.ReasonTokenObtained, resellerNote(partner, f.providerErr, "Its credentials obtained a token; they serve Microsoft Graph (GDAP) only."))
	case apiretry.TokenErrorCode(f.userErr) == "invalid_grant":
		return pass.Stalled(v1alpha1.ReasonRefreshTokenFailed, fmt.Sprintf(
			"The credentials obtained an App-only token, but the token service refused the refresh token (%v): App+User calls (reseller request links, the customer agreement) fail until a person signs in again: kubectl multichannel login %s.",
			f.userErr, partner.Name))
	}
	return pass.Ready(v1alpha1.ReasonTokenObtained, tokenObtainedMessage(f.creds, f.secret, f.userErr))
}

// appUserCallsNeeded names the calls that need App+User credentials, and
// what asks for them.
const appUserCallsNeeded = "App+User calls (reseller request links: ResellerRelationship requests)"

// tokenObtainedMessage is the Ready message of a Partner whose credentials
// earned an App-only token: App-only calls work, so the Partner is Ready, but
// it says which calls its credentials cannot make, and why.
// creds names what authenticates the partner, secret the Secret that holds
// (or would hold) its refresh token.
func tokenObtainedMessage(creds, secret string, userErr error) string {
	switch {
	case userErr == nil:
		return fmt.Sprintf("Its credentials, %s, obtained an App-only and an App+User token: they can make every call the operator needs.", creds)
	case errors.Is(userErr, pc.ErrUserCredentialsRequired):
		return fmt.Sprintf("Its credentials, %s, obtained an App-only token; they cannot make %s because %s has no %s.",
			creds, appUserCallsNeeded, secret, v1alpha1.SecretKeyRefreshToken)
	default:
		return fmt.Sprintf("Its credentials, %s, obtained an App-only token; they cannot make %s because the token service refused the %s of %s: %v.",
			creds, appUserCallsNeeded, v1alpha1.SecretKeyRefreshToken, secret, userErr)
	}
}

// noRefreshTokenMessage says why App+User calls are impossible, and what to do.
func noRefreshTokenMessage(partner *v1alpha1.Partner) string {
	if partner.Spec.PartnerCenter.CredentialsSecretRef == nil {
		return "The partner names no Secret to hold a refreshToken (spec.partnerCenter.credentialsSecretRef), so App+User calls are impossible: reseller request links cannot be asked for. Name a Secret in the operator's namespace (it may be empty), then sign in: kubectl multichannel login " + partner.Name + "."
	}
	return "The credentials Secret has no refreshToken, so App+User calls are impossible: reseller request links cannot be asked for. Sign in: kubectl multichannel login " + partner.Name + "."
}

// refreshTokenSecret names the Secret that holds the partner's refresh token.
func (r *PartnerReconciler) refreshTokenSecret(partner *v1alpha1.Partner) string {
	if ref := partner.Spec.PartnerCenter.CredentialsSecretRef; ref != nil {
		return "Secret " + r.opts.OperatorNamespace + "/" + ref.Name
	}
	return "no Secret (spec.partnerCenter.credentialsSecretRef names none)"
}

// SetupWithManager registers the reconciler with mgr. It watches the
// metadata of the Secrets in the operator's namespace (never their data: the
// credentials are read with an uncached get), so that creating, fixing or
// rotating a Partner's Secret takes effect at once rather than at the next
// refresh. The Partner's status change then requeues its relationships and
// subscriptions, which find the rebuilt client.
func (r *PartnerReconciler) SetupWithManager(mgr ctrl.Manager, opts Options) error {
	r.Client = mgr.GetClient()
	r.opts = opts
	return ctrl.NewControllerManagedBy(mgr).
		// Not the Partner's status writes (its own, and the activity log's
		// checkpoints): each pass reads the credentials Secret again.
		For(&v1alpha1.Partner{}, builder.WithPredicates(predicate.Or[client.Object](predicate.GenerationChangedPredicate{},
			predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.partnersOfSecret), builder.OnlyMetadata).
		WithOptions(opts.ControllerOptions()).
		Complete(r)
}

// partnersOfSecret: the Partners whose credentials are in the Secret o.
func (r *PartnerReconciler) partnersOfSecret(ctx context.Context, o client.Object) []ctrl.Request {
	if o.GetNamespace() != r.opts.OperatorNamespace {
		return nil // a Partner's Secret is only ever read in the operator's namespace
	}
	return core.RequestsFor(ctx, r.Client, &v1alpha1.PartnerList{}, client.MatchingFields{core.IndexCredentialsSecret: o.GetName()})
}

// resellerNote is the Ready message of an indirect reseller: it has no
// Partner Center API access of its own; providerErr says why its provider
// cannot make calls for it either.
func resellerNote(partner *v1alpha1.Partner, providerErr error, own string) string {
	if providerErr != nil {
		return fmt.Sprintf("%s As an indirect reseller it has no Partner Center API access of its own, and nothing can be called for it: %v.", own, providerErr)
	}
	return fmt.Sprintf("%s As an indirect reseller it has no Partner Center API access of its own: Partner Center calls for it are made with its indirect provider %s's credentials, naming it (Partner ID %s) as the partner of record.",
		own, partner.Spec.IndirectProviderRef, partner.Spec.PartnerID)
}

// setAppUserCalls derives the AppUserCalls condition from the App+User
// check and the refresh token's age, and keeps the metric the alert
// MultichannelRefreshTokenAging reads: without a working refresh token no
// App+User call (the reseller request link) is possible.
func (r *PartnerReconciler) setAppUserCalls(p *pass.Pass[*v1alpha1.Partner], partner *v1alpha1.Partner, err error) {
	age, at, known := r.clients.RefreshTokenAge(partner, r.opts.Clock.Now())
	if err != nil || !known {
		refreshTokenRenewed.DeleteLabelValues(partner.Name)
	} else {
		refreshTokenRenewed.WithLabelValues(partner.Name).Set(float64(at.Unix()))
	}
	set := func(status metav1.ConditionStatus, reason, msg string) {
		p.Conds.Set(v1alpha1.ConditionAppUserCalls, status, reason, msg)
	}
	switch {
	case errors.Is(err, pc.ErrUserCredentialsRequired):
		set(metav1.ConditionFalse, v1alpha1.ReasonNoRefreshToken,
			noRefreshTokenMessage(partner))
	case err != nil:
		set(metav1.ConditionFalse, v1alpha1.ReasonRefreshTokenFailed,
			fmt.Sprintf("The token service refused the refresh token: %v. Reseller request links cannot be asked for until it is replaced.", err))
	case !known:
		set(metav1.ConditionTrue, v1alpha1.ReasonUserTokenObtained, "The refresh token obtained an App+User token: reseller request links can be asked for.")
	case age < core.RefreshTokenAging:
		set(metav1.ConditionTrue, v1alpha1.ReasonUserTokenObtained, fmt.Sprintf(
			"The refresh token obtained an App+User token: reseller request links can be asked for. It was last renewed or signed in %s; the operator keeps renewed ones in Secret %s/%s.",
			core.FormatTime(&at), r.opts.OperatorNamespace, core.RefreshTokenSecretName(partner.Name)))
	default:
		msg := fmt.Sprintf("The refresh token works, but it has not been renewed for %s (since %s): a refresh token unused for 90 days expires. The token service returns no new one; sign in again: kubectl multichannel login %s.",
			describeAge(age), at.UTC().Format(time.RFC3339), partner.Name)
		if was := meta.FindStatusCondition(p.Before.Status.Conditions, v1alpha1.ConditionAppUserCalls); was == nil || was.Reason != v1alpha1.ReasonRefreshTokenAging {
			p.Event(nil, corev1.EventTypeWarning, v1alpha1.ReasonRefreshTokenAging, "RenewRefreshToken", "%s", msg)
		}
		set(metav1.ConditionTrue, v1alpha1.ReasonRefreshTokenAging, msg)
	}
}

// describeAge says an age in whole days.
func describeAge(d time.Duration) string {
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
