package apiretry

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// CheckConfig checks what both clients are configured with: absolute
// endpoint and token service URLs, a tenant and application credentials. It
// returns the endpoint, without a trailing slash, and the tenant's token URL
// ({authorityHost}/{tenant}/oauth2/v2.0/token). service names the API in messages.
func CheckConfig(service, endpoint, authorityHost, tenantID, clientID, clientSecret string) (*url.URL, string, error) {
	u, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, "", fmt.Errorf("%s endpoint %q is not an absolute URL", service, endpoint)
	}
	authority, err := url.Parse(strings.TrimRight(authorityHost, "/"))
	if err != nil || authority.Scheme == "" || authority.Host == "" {
		return nil, "", fmt.Errorf("authority host %q is not an absolute URL", authorityHost)
	}
	if tenantID == "" {
		return nil, "", errors.New("partner tenant ID is empty")
	}
	if clientID == "" || clientSecret == "" {
		return nil, "", errors.New("client ID and client secret are required")
	}
	return u, authority.String() + "/" + url.PathEscape(tenantID) + "/oauth2/v2.0/token", nil
}
