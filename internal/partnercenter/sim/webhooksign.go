package sim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"time"
)

// Events are signed as Partner Center signs them ("Receiving events from
// Partner Center", "How to authenticate the callback"): RSA with SHA-256
// over the body, base64 in Authorization with the scheme Signature (or in
// x-ms-signature when the registration asks), x-ms-signature-algorithm
// rsa-sha256, and x-ms-certificate-url naming the signing certificate, here
// served by the simulator at the documented file name. The certificate is
// named as Partner Center's (pcnotifications-dispatch.microsoft.com,
// organization Microsoft Corporation) and issued by the simulator's own
// root, which only a receiver told to trust it trusts (WebhookRoot).

// webhookCertPath is where the signing certificate is served, DER, named
// as the documented URL names Partner Center's.
const webhookCertPath = "/sim/cert/pcnotifications-dispatch.microsoft.com.cer"

const (
	signerName         = "pcnotifications-dispatch.microsoft.com"
	signerOrganization = "Microsoft Corporation"
)

// webhookSigner is the signing key and certificates, kept in the state so
// that they outlive a restart (a receiver caches the certificate).
type webhookSigner struct {
	Root []byte `json:"root"` // DER
	Cert []byte `json:"cert"` // DER, issued by Root
	Key  []byte `json:"key"`  // PKCS #8 DER of Cert's key
}

// signingKey is the signer, made on first use. The caller holds s.mu.
func (s *Server) signingKey() (*rsa.PrivateKey, error) {
	if s.st.WebhookSigner == nil {
		signer, err := newWebhookSigner(s.opts.Now())
		if err != nil {
			return nil, err
		}
		s.st.WebhookSigner = signer
	}
	key, err := x509.ParsePKCS8PrivateKey(s.st.WebhookSigner.Key)
	if err != nil {
		return nil, err
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("the webhook signing key is not RSA")
	}
	return rsaKey, nil
}

// newWebhookSigner makes a root (whose key is then dropped) and a signing
// certificate it issues, valid ten years.
func newWebhookSigner(now time.Time) (*webhookSigner, error) {
	rootKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	root := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		Subject:  pkix.Name{CommonName: "Partner Center Simulator Root", Organization: []string{signerOrganization}, OrganizationalUnit: []string{"Partner Center Simulator"}},
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	rootDER, err := x509.CreateCertificate(rand.Reader, root, root, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		Subject:  pkix.Name{CommonName: signerName, Organization: []string{signerOrganization}},
		DNSNames: []string{signerName}, KeyUsage: x509.KeyUsageDigitalSignature}
	certDER, err := x509.CreateCertificate(rand.Reader, leaf, root, &key.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &webhookSigner{Root: rootDER, Cert: certDER, Key: keyDER}, nil
}

// signedHeader is the headers of an event with body. The caller holds s.mu.
func (s *Server) signedHeader(reg *webhookRegistration, body []byte) (http.Header, error) {
	key, err := s.signingKey()
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(body)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	signature := "Signature " + base64.StdEncoding.EncodeToString(sig)
	if reg.SignatureTokenToMsSignatureHeader {
		h.Set("X-MS-Signature", signature)
	} else {
		h.Set("Authorization", signature)
	}
	h.Set("X-MS-Certificate-Url", reg.Base+webhookCertPath)
	h.Set("X-MS-Signature-Algorithm", "rsa-sha256")
	return h, nil
}

// WebhookRoot is the root that issues the simulator's signing certificate:
// what a receiver trusts to take the simulator's events (and nothing else
// should trust). It is made on first use.
func (s *Server) WebhookRoot() (*x509.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.signingKey(); err != nil {
		return nil, err
	}
	_ = s.save()
	return x509.ParseCertificate(s.st.WebhookSigner.Root)
}

// webhookRoot serves the root as PEM, for a receiver in another process.
func (s *Server) webhookRoot(w http.ResponseWriter, _ *http.Request) {
	root, err := s.WebhookRoot()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorOf(500, err.Error()))
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_ = pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: root.Raw})
}

// webhookCertificate serves the signing certificate, DER, as a .cer is.
func (s *Server) webhookCertificate(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	_, err := s.signingKey()
	var der []byte
	if err == nil {
		der = s.st.WebhookSigner.Cert
		_ = s.save()
	}
	s.mu.Unlock()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorOf(500, err.Error()))
		return
	}
	w.Header().Set("Content-Type", "application/pkix-cert")
	_, _ = w.Write(der)
}
