// Package destinations says where a partner's credentials may be sent: its
// cloud's Microsoft hosts, and the origins the operator's (or the plugin's)
// own flags add. The operator checks every endpoint before it reads a
// Secret; kubectl multichannel login checks the token service before it
// signs anyone in.
package destinations

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// cloudHosts are the hosts a partner's credentials may be sent to, by cloud:
// Entra ID's token service, the Partner Center API, Microsoft Graph and
// Azure Resource Manager. Both clouds use the same Partner Center API host
// (PC: "Partner Center REST URLs").
var cloudHosts = map[v1alpha1.Cloud][]string{
	v1alpha1.CloudPublic:       {"login.microsoftonline.com", "api.partnercenter.microsoft.com", "graph.microsoft.com", "management.azure.com"},
	v1alpha1.CloudUSGovernment: {"login.microsoftonline.us", "api.partnercenter.microsoft.com", "graph.microsoft.us", "management.usgovcloudapi.net"},
}

// Origins are the places a partner's credentials may go besides its cloud's
// hosts: scheme://host[:port] origins that the operator's own flags add, such
// as the simulator in make dev. Whoever may edit a Partner cannot add one.
type Origins []string

// String and Set make Origins a repeatable, comma-separated flag.
func (o *Origins) String() string { return strings.Join(*o, ",") }

// Set adds origins after checking that each is exactly scheme://host[:port].
func (o *Origins) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("%q is not an origin: write scheme://host[:port], such as http://127.0.0.1:18090", s)
		}
		*o = append(*o, u.Scheme+"://"+u.Host)
	}
	return nil
}

// Check refuses a URL a partner's credentials must not be sent to:
// anything but an https URL on a host of the partner's cloud (on the default
// port), or one of the extra origins. field names the Partner field for the
// message.
func Check(cloud v1alpha1.Cloud, field, raw string, extra Origins) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%s is not an absolute URL", field)
	}
	if u.User != nil {
		return fmt.Errorf("%s %q carries user information; credentials come only from the Secret", field, u.Redacted())
	}
	raw = u.Redacted()
	if slices.Contains(extra, u.Scheme+"://"+u.Host) {
		return nil
	}
	if cloud == "" {
		cloud = v1alpha1.CloudPublic
	}
	hosts := cloudHosts[cloud]
	if u.Scheme != "https" {
		return fmt.Errorf("%s %q is not https; credentials are sent only over https", field, raw)
	}
	if u.Port() != "" && u.Port() != "443" || !slices.Contains(hosts, strings.ToLower(u.Hostname())) {
		return fmt.Errorf("%s %q is not on a host of the %s cloud (%s) nor an origin the operator allows (--allowed-origins)",
			field, raw, cloud, strings.Join(hosts, ", "))
	}
	return nil
}

// AuthorityOf is the partner's Entra ID token service: spec.partnerCenter.authorityHost,
// or its cloud's.
func AuthorityOf(p *v1alpha1.Partner) string {
	if c := p.Spec.PartnerCenter; c != nil && c.AuthorityHost != "" {
		return c.AuthorityHost
	}
	if p.Spec.Cloud == v1alpha1.CloudUSGovernment {
		return v1alpha1.DefaultAuthorityHostUSGovernment
	}
	return v1alpha1.DefaultAuthorityHostPublic
}

// EndpointOf is the partner's Partner Center API: spec.partnerCenter.endpoint, or the default.
func EndpointOf(p *v1alpha1.Partner) string {
	if c := p.Spec.PartnerCenter; c != nil && c.Endpoint != "" {
		return c.Endpoint
	}
	return v1alpha1.DefaultPartnerCenterEndpoint
}

// Type names the flag's value for pflag.
func (o *Origins) Type() string { return "origins" }

// GraphEndpointOf is the partner's Microsoft Graph: spec.partnerCenter.graphEndpoint,
// or its cloud's.
func GraphEndpointOf(p *v1alpha1.Partner) string {
	if c := p.Spec.PartnerCenter; c != nil && c.GraphEndpoint != "" {
		return c.GraphEndpoint
	}
	if p.Spec.Cloud == v1alpha1.CloudUSGovernment {
		return v1alpha1.DefaultGraphEndpointUSGovernment
	}
	return v1alpha1.DefaultGraphEndpointPublic
}
