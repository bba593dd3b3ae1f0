package apiretrytest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// TrustTestServers makes http.DefaultTransport trust the certificate of
// httptest's TLS servers (they all share one), as SSL_CERT_FILE makes the
// operator trust the simulator's: the clients under test keep their
// default HTTP client. Entra ID's token service is https only, and so is
// the library that talks to it (azidentity), so the simulators are served
// over TLS. Call it from a test package's init.
func TrustTestServers() {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	sim.TrustCertificates(srv.Certificate())
}

// ServeEntra answers, for a server that stands in for another service,
// what azidentity asks of Entra ID: the tenant's OIDC document and a token
// request, with a fixed token. It reports whether the request was one.
func ServeEntra(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case strings.HasSuffix(r.URL.Path, "/v2.0/.well-known/openid-configuration"):
		base := "https://" + r.Host + strings.TrimSuffix(r.URL.Path, "/v2.0/.well-known/openid-configuration")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"issuer":"`+base+`/v2.0","authorization_endpoint":"`+base+`/oauth2/v2.0/authorize","token_endpoint":"`+base+`/oauth2/v2.0/token"}`)
		return true
	case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"token_type":"Bearer","access_token":"t","expires_in":3600}`)
		return true
	}
	return false
}
