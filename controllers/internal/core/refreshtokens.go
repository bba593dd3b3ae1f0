package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// A refresh token renews itself: each App+User token comes with a new one,
// and each lives 90 days (Entra ID): a chain in use goes on, one left unused
// dies. The operator keeps the newest in a Secret of its
// own, multichannel-refresh-token-<partner> in its namespace (owned by the
// Partner, so it goes with it), and uses it instead of the Partner's as
// long as it descends from the token the Partner's Secret holds: a new
// sign-in written there (kubectl multichannel login) wins. It never logs a
// token.

// Annotations of the refresh-token Secrets.
const (
	// annotationRefreshTokenFrom: the fingerprint of the Partner's refresh
	// token the stored one descends from.
	annotationRefreshTokenFrom = "multichannel.partnerops.io/refresh-token-from"
)

// RefreshTokenAging: a refresh token not renewed for this long is warned
// about (AppUserCalls reason RefreshTokenAging, a Warning Event, the alert
// MultichannelRefreshTokenAging), a month before it would expire unused.
const RefreshTokenAging = 60 * 24 * time.Hour

// RefreshTokenSecretName is the operator's Secret for partner's refresh
// token; a name too long for a Secret is cut and told apart by a hash.
func RefreshTokenSecretName(partner string) string {
	name := "multichannel-refresh-token-" + partner
	if len(name) <= 253 {
		return name
	}
	sum := sha256.Sum256([]byte(partner))
	return name[:236] + "-" + hex.EncodeToString(sum[:8])
}

// storedRefreshToken is the operator's newest refresh token for partner,
// when it descends from the Partner's own (from is its fingerprint), and
// when it was renewed.
func (p *PartnerClients) storedRefreshToken(ctx context.Context, partner *v1alpha1.Partner, from string) (token string, renewedAt time.Time, err error) {
	s := &corev1.Secret{}
	err = p.Secrets.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: RefreshTokenSecretName(partner.Name)}, s)
	if apierrors.IsNotFound(err) {
		return "", time.Time{}, nil
	}
	if err != nil || s.Annotations[annotationRefreshTokenFrom] != from || s.Labels[v1alpha1.LabelCreatedBy] != v1alpha1.LabelCreatedByValue {
		return "", time.Time{}, err // another's Secret of that name, or a token of an older sign-in
	}
	renewedAt, _ = time.Parse(time.RFC3339, s.Annotations[v1alpha1.AnnotationRefreshTokenRenewedAt])
	return string(s.Data[v1alpha1.SecretKeyRefreshToken]), renewedAt, nil
}

// storeRefreshToken keeps a renewed refresh token in the operator's Secret.
// It runs inside a token request, so it is bounded; a failure is logged (the
// client keeps the token in memory) and the next renewal tries again.
func (p *PartnerClients) storeRefreshToken(partner *v1alpha1.Partner, from, token string, now time.Time) {
	if p.writer == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := client.ObjectKey{Namespace: p.Namespace, Name: RefreshTokenSecretName(partner.Name)}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s := &corev1.Secret{}
		err := p.Secrets.Get(ctx, key, s)
		if apierrors.IsNotFound(err) {
			s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
				Labels: map[string]string{v1alpha1.LabelCreatedBy: v1alpha1.LabelCreatedByValue},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Partner",
					Name: partner.Name, UID: partner.UID}}},
				Type: corev1.SecretTypeOpaque}
		} else if err != nil {
			return err
		}
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		s.Labels[v1alpha1.LabelCreatedBy] = v1alpha1.LabelCreatedByValue
		// Owned by this Partner (a Partner recreated under the name has a new UID).
		s.OwnerReferences = []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Partner", Name: partner.Name, UID: partner.UID}}
		s.Annotations[annotationRefreshTokenFrom] = from
		s.Annotations[v1alpha1.AnnotationRefreshTokenRenewedAt] = now.UTC().Format(time.RFC3339)
		s.Data = map[string][]byte{v1alpha1.SecretKeyRefreshToken: []byte(token)}
		if s.ResourceVersion == "" {
			return p.writer.Create(ctx, s)
		}
		return p.writer.Update(ctx, s)
	})
	if err != nil {
		log.FromContext(ctx).Error(err, "storing the renewed refresh token failed; it is kept in memory and stored at the next renewal",
			"partner", partner.Name, "secret", key.String())
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[partner.Name]; ok {
		c.renewedAt = now
		p.clients[partner.Name] = c
	}
}

// RefreshTokenAge says how long ago partner's refresh token was last
// renewed (or signed in), and whether that is known.
func (p *PartnerClients) RefreshTokenAge(partner *v1alpha1.Partner, now time.Time) (time.Duration, time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.clients[partner.Name]
	if !ok || c.renewedAt.IsZero() {
		return 0, time.Time{}, false
	}
	return now.Sub(c.renewedAt), c.renewedAt, true
}
