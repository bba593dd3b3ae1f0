package apiretry

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// NoRedirects returns a copy of hc (nil: a zero http.Client) that never
// follows a redirect: every request the clients send carries credentials, a
// client secret or refresh token in the body of a token request, a bearer
// token in the Authorization header of an API call, and a 307 or 308 would
// have net/http send them again to wherever the Location points. A redirect
// is answered with a *RedirectError instead, whatever hc's own CheckRedirect
// says; hc itself is not changed and its Transport is shared. service names
// what hc talks to in that error ("token service", "partner center").
func NoRedirects(hc *http.Client, service string) *http.Client {
	c := &http.Client{}
	if hc != nil {
		*c = *hc
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		e := &RedirectError{Service: service, To: redact(req.URL)}
		if len(via) > 0 {
			e.From = redact(via[0].URL)
		}
		if req.Response != nil {
			e.StatusCode = req.Response.StatusCode
		}
		return e
	}
	return c
}

// RedirectError is a Microsoft service's redirect, not followed. It names
// the URLs without their query, fragment or user info, and holds no
// credentials.
type RedirectError struct {
	Service    string
	From       string // the URL asked
	StatusCode int    // 301, 302, 303, 307 or 308
	To         string // the redirect's Location
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s %s answered %d redirecting to %s: credentials are never sent to a redirect",
		e.Service, e.From, e.StatusCode, e.To)
}

// RedirectRefused reports whether err is a redirect NoRedirects refused,
// and returns it without the *url.Error net/http wraps it in (which only
// repeats the URL asked). Sending the request again cannot help.
func RedirectRefused(err error) (*RedirectError, bool) {
	var e *RedirectError
	ok := errors.As(err, &e)
	return e, ok
}

// redact drops what a URL may carry besides where it points.
func redact(u *url.URL) string {
	if u == nil {
		return "(no URL)"
	}
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}
