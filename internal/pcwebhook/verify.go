package pcwebhook

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Headers Partner Center signs an event with ("How to authenticate the
// callback"): the signature in Authorization with the scheme Signature (or
// in x-ms-signature when the registration sets
// SignatureTokenToMsSignatureHeader), the URL of the signing certificate,
// and the algorithm.
const (
	HeaderAuthorization      = "Authorization"
	HeaderSignature          = "X-MS-Signature"
	HeaderCertificateURL     = "X-MS-Certificate-Url"
	HeaderSignatureAlgorithm = "X-MS-Signature-Algorithm"
	// SignatureScheme is the Authorization scheme: "The Authorization
	// header has a scheme of "Signature". This is a base64 encoded
	// signature of the content."
	SignatureScheme = "Signature"
	// AlgorithmRSASHA256 is the algorithm the documented request names.
	AlgorithmRSASHA256 = "rsa-sha256"
)

// errMissing: a header the documentation requires is absent ("Verify the
// required headers are present (Authorization, x-ms-certificate-url,
// x-ms-signature-algorithm)").
var errMissing = errors.New("a required header is missing")

// signatureOf is the request's signature: x-ms-signature when present,
// else Authorization, either "Signature <base64>". Both present with the
// Signature scheme must agree.
func signatureOf(h http.Header) ([]byte, error) {
	auth, ms := strings.TrimSpace(h.Get(HeaderAuthorization)), strings.TrimSpace(h.Get(HeaderSignature))
	token := ms
	if token == "" {
		token = auth
	}
	if token == "" {
		return nil, fmt.Errorf("%w: Authorization or x-ms-signature", errMissing)
	}
	scheme, value, _ := strings.Cut(token, " ")
	if !strings.EqualFold(scheme, SignatureScheme) {
		return nil, fmt.Errorf("the signature's scheme is %q, not %s", scheme, SignatureScheme)
	}
	if as, av, _ := strings.Cut(auth, " "); ms != "" && strings.EqualFold(as, SignatureScheme) && strings.TrimSpace(av) != strings.TrimSpace(value) {
		return nil, errors.New("the Authorization and x-ms-signature headers carry different signatures")
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil || len(sig) < 128 || len(sig) > 1024 {
		return nil, errors.New("the signature is not the base64 of an RSA signature")
	}
	return sig, nil
}

// verifySignature checks that cert's RSA key signed body with SHA-256
// (PKCS #1 v1.5, as RSA's VerifyData in the documented sample does).
func verifySignature(cert *x509.Certificate, body, sig []byte) error {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("the certificate's key is not RSA")
	}
	digest := sha256.Sum256(body)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		return errors.New("the signature does not match the body")
	}
	return nil
}

// certificateRules are what a signing certificate must satisfy.
type certificateRules struct {
	roots         *x509.CertPool
	intermediates []*x509.Certificate
	organization  string
	subjectName   string
}

// verify checks certs[0], the signer, with certs[1:] as intermediates:
// its chain to a trusted root ("Verify the Certificate Chain"), its
// subject's and issuer's organization ("Verify the "Organization" of the
// certificate"; the documented sample checks the issuer for O=Microsoft
// Corporation), and, in addition to the documentation, that it names the
// certificate the documented URL names (pcnotifications-dispatch.microsoft.com).
func (c certificateRules) verify(certs []*x509.Certificate, now time.Time) error {
	if len(certs) == 0 {
		return errors.New("no certificate")
	}
	leaf, inter := certs[0], x509.NewCertPool()
	for _, ic := range append(slices.Clone(c.intermediates), certs[1:]...) {
		inter.AddCert(ic)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: c.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	switch {
	case err != nil:
		return fmt.Errorf("the certificate's chain: %w", err)
	case !slices.Contains(leaf.Subject.Organization, c.organization):
		return fmt.Errorf("the certificate's subject is not of %q: %s", c.organization, leaf.Subject)
	case !slices.Contains(leaf.Issuer.Organization, c.organization):
		return fmt.Errorf("the certificate's issuer is not of %q: %s", c.organization, leaf.Issuer)
	case leaf.Subject.CommonName != c.subjectName && !slices.ContainsFunc(leaf.DNSNames, func(n string) bool { return strings.EqualFold(n, c.subjectName) }):
		return fmt.Errorf("the certificate does not name %s: %s", c.subjectName, leaf.Subject)
	}
	return nil
}
