package sim

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

func TestMinuteWindow(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name string
		at   []time.Duration // offsets of the requests from base
		want int             // what the last request's window holds
	}{
		{"one request", []time.Duration{0}, 1},
		{"three in one second", []time.Duration{0, 0, 0}, 3},
		{"spread over a minute", []time.Duration{0, 20 * time.Second, 59 * time.Second}, 3},
		{"the first falls out after 60 seconds", []time.Duration{0, 30 * time.Second, 60 * time.Second}, 2},
		{"a slot reused a minute later starts from zero", []time.Duration{0, 0, 120 * time.Second}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w minuteWindow
			got := 0
			for _, d := range tt.at {
				got = w.add(base.Add(d))
			}
			if got != tt.want {
				t.Errorf("window holds %d, want %d", got, tt.want)
			}
		})
	}
}

func TestTenantCounters(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	token := func(tenant string) string {
		resp, err := http.PostForm(srv.URL+"/"+tenant+"/oauth2/v2.0/token", url.Values{
			"grant_type": {"client_credentials"}, "client_id": {"id"}, "client_secret": {"secret"}, "scope": {"https://api.partnercenter.microsoft.com/.default"}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			AccessToken string `json:"access_token"`
		}
		if err := decode(&http.Request{Body: resp.Body}, &body); err != nil {
			t.Fatal(err)
		}
		return body.AccessToken
	}
	get := func(tok string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/customers/c1", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	a, b := token("tenant-a"), token("tenant-b")
	for range 3 {
		get(a)
	}
	get(b)
	get("")
	st := s.Stats()
	// The token requests are not API requests: tenant-a counts its three GETs only.
	for tenant, want := range map[string]int{"tenant-a": 3, "tenant-b": 1, "unknown": 1} {
		got := st.Tenants[tenant]
		if got.Requests != want || got.PeakPerMinute != want || got.EarlyRetries != 0 {
			t.Errorf("%s: %+v, want %d requests and a peak of %d", tenant, got, want, want)
		}
	}
}
