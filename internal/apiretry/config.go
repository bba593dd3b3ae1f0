package apiretry

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// CheckConfig checks what both clients are configured with: absolute
// endpoint and token service URLs and a tenant (the credentials are
// entra's to check). It returns the endpoint, without a trailing slash.
// service names the API in messages.
func CheckConfig(service, endpoint, authorityHost, tenantID string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("%s endpoint %q is not an absolute URL", service, endpoint)
	}
	authority, err := url.Parse(strings.TrimRight(authorityHost, "/"))
	if err != nil || authority.Scheme == "" || authority.Host == "" {
		return nil, fmt.Errorf("authority host %q is not an absolute URL", authorityHost)
	}
	if tenantID == "" {
		return nil, errors.New("partner tenant ID is empty")
	}
	return u, nil
}
