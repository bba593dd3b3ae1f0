// Package apiretrytest holds what the Microsoft clients' tests share.
package apiretrytest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Foreign is a server a redirect points at: it records every request it
// gets, and answers as a token service and an API would (an access token,
// an empty list), so that a client following the redirect would even
// succeed and only the record shows it.
type Foreign struct {
	URL string
	mu  sync.Mutex
	got []string
}

// StartForeign starts a Foreign server on 127.0.0.1, closed when t ends.
func StartForeign(t *testing.T) *Foreign {
	t.Helper()
	f := &Foreign{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, fmt.Sprintf("%s %s Authorization=%q body=%q", r.Method, r.URL, r.Header.Get("Authorization"), body))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"stolen","token_type":"Bearer","expires_in":3600,"id":"x","totalCount":0,"items":[],"value":[]}`)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Received lists the requests the server got: method, URL, Authorization
// header and body.
func (f *Foreign) Received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}
