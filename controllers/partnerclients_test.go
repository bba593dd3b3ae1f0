package controllers

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// secretStore is a client.Reader of Secrets that counts its reads.
type secretStore struct {
	client.Reader
	secrets map[string]*corev1.Secret
	reads   int
}

func (s *secretStore) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	s.reads++
	sec, ok := s.secrets[key.String()]
	if !ok {
		return apierrors.NewNotFound(corev1.Resource("secrets"), key.Name)
	}
	sec.DeepCopyInto(obj.(*corev1.Secret))
	return nil
}

// TestPartnerClientsReadSecretsOffTheHotPath: reconcilers asking for a
// client, with or without a usable Secret, do not read the Secret each time;
// only refresh (the Partner reconciler) reads it again.
func TestPartnerClientsReadSecretsOffTheHotPath(t *testing.T) {
	ctx := context.Background()
	store := &secretStore{secrets: map[string]*corev1.Secret{}}
	clients := newPartnerClients(store, nil)
	partner := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: v1alpha1.PartnerSpec{TenantID: "t",
		PartnerCenter: &v1alpha1.PartnerCenterConnection{Endpoint: "http://127.0.0.1:1", AuthorityHost: "http://127.0.0.1:1",
			CredentialsSecretRef: &v1alpha1.SecretReference{Namespace: "ops", Name: "pc"}}}}

	var credErr *credentialsError
	for range 5 {
		if _, err := clients.get(ctx, partner); !errors.As(err, &credErr) {
			t.Fatalf("without the Secret: %v", err)
		}
	}
	if store.reads != 1 {
		t.Errorf("5 lookups without a Secret read it %d times, want 1", store.reads)
	}

	store.secrets["ops/pc"] = &corev1.Secret{Data: map[string][]byte{"clientID": []byte("id"), "clientSecret": []byte("secret")}}
	if _, err := clients.get(ctx, partner); err == nil {
		t.Error("the remembered failure was forgotten before a refresh")
	}
	first, err := clients.refresh(ctx, partner)
	if err != nil || first == nil {
		t.Fatalf("refresh after the Secret appeared: %v", err)
	}
	for range 5 {
		if c, err := clients.get(ctx, partner); err != nil || c != first {
			t.Fatalf("get = %p, %v; want the refreshed client", c, err)
		}
	}
	if store.reads != 2 {
		t.Errorf("Secret read %d times, want 2 (the first lookup and the refresh)", store.reads)
	}
	if again, _ := clients.refresh(ctx, partner); again != first {
		t.Error("an unchanged Secret rebuilt the client (its token cache and rate limiter would be lost)")
	}
	partner.Spec.PartnerCenter.Endpoint = "http://127.0.0.1:2"
	if changed, _ := clients.get(ctx, partner); changed == first || changed == nil {
		t.Error("a changed endpoint kept the old client")
	}
}
