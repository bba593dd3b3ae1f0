package entra

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// UserTokens returns the App+User token source for scope: the refresh
// grant with cfg.Credentials.RefreshToken, authenticating the application
// with its credential. Each new refresh token the service returns is used
// from then on and passed to renewed (which may be nil), to be stored.
func UserTokens(cfg Config, scope string, renewed func(refreshToken string)) oauth2.TokenSource {
	return oauth2.ReuseTokenSource(nil, &refreshSource{ctx: context.Background(), http: cfg.httpClient(), tokenURL: cfg.TokenURL(),
		creds: cfg.Credentials, scope: scope, refreshToken: cfg.Credentials.RefreshToken, renewed: renewed})
}

// refreshSource is the App+User token source: Entra ID's refresh-token
// grant, written here because golang.org/x/oauth2 sends no scope on a
// refresh and does not say when the token service hands out a new refresh
// token. It sends the scope the v2.0 endpoint asks for, uses the newest
// refresh token for the next refresh, and passes each new one to renewed,
// so that it can be stored: a refresh token left unused for 90 days
// expires, and one that was replaced may be refused.
type refreshSource struct {
	ctx      context.Context
	http     *http.Client
	tokenURL string
	creds    Credentials
	scope    string
	renewed  func(refreshToken string)

	mu           sync.Mutex
	refreshToken string
}

// Token runs the refresh grant; oauth2.ReuseTokenSource caches what it returns.
func (s *refreshSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.refreshToken}, "client_id": {s.creds.ClientID},
		"scope": {s.scope}}
	if err := s.creds.Authenticate(form, s.tokenURL); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oauth2: cannot fetch token: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("oauth2: cannot read the token response: %w", err)
	}
	var tr struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int64  `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &tr)
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, &oauth2.RetrieveError{Response: resp, Body: body, ErrorCode: tr.Error, ErrorDescription: tr.Description}
	case tr.AccessToken == "":
		// A 2xx without a token: its body may hold a refresh token, so it is not kept.
		return nil, &oauth2.RetrieveError{Response: resp, ErrorCode: "invalid_response", ErrorDescription: "the token service answered without an access token"}
	}
	tok := &oauth2.Token{AccessToken: tr.AccessToken, TokenType: tr.TokenType}
	expiresIn := time.Duration(tr.ExpiresIn) * time.Second
	if expiresIn <= 0 {
		expiresIn = 10 * time.Minute // not said: asked again soon rather than cached for ever
	}
	tok.Expiry = time.Now().Add(expiresIn)
	if tr.RefreshToken != "" && tr.RefreshToken != s.refreshToken {
		s.refreshToken = tr.RefreshToken
		if s.renewed != nil {
			s.renewed(tr.RefreshToken)
		}
	}
	return tok, nil
}
