package sim

import "time"

// TenantStats are one partner tenant's counters: what make bench compares
// with Partner Center's limit of about 500 requests per minute per tenant.
type TenantStats struct {
	// Requests counts the tenant's API requests (the token endpoint aside).
	Requests int `json:"requests"`
	// PeakPerMinute is the most requests the tenant sent within any 60
	// seconds (a sliding window, one-second resolution).
	PeakPerMinute int `json:"peakPerMinute"`
	// EarlyRetries counts the tenant's requests repeated (same MS-RequestId)
	// before the Retry-After of their 429 had passed.
	EarlyRetries int `json:"earlyRetries"`
}

// minuteWindow counts requests in the last 60 one-second slots.
type minuteWindow struct {
	counts [60]int
	second [60]int64 // the Unix second each slot counts
}

// add counts a request at t and returns how many the last 60 seconds hold.
func (w *minuteWindow) add(t time.Time) int {
	now := t.Unix()
	slot := int(now % 60)
	if w.second[slot] != now {
		w.second[slot], w.counts[slot] = now, 0
	}
	w.counts[slot]++
	total := 0
	for i, c := range w.counts {
		if now-w.second[i] < 60 {
			total += c
		}
	}
	return total
}

// countTenant records an API request of tenant at t (wall clock). The
// caller holds s.mu.
func (s *Server) countTenant(tenant string, t time.Time, early bool) {
	if tenant == "" {
		tenant = "unknown"
	}
	if s.st.Stats.Tenants == nil {
		s.st.Stats.Tenants = map[string]TenantStats{}
	}
	w := s.windows[tenant]
	if w == nil {
		w = &minuteWindow{}
		s.windows[tenant] = w
	}
	ts := s.st.Stats.Tenants[tenant]
	ts.Requests++
	ts.PeakPerMinute = max(ts.PeakPerMinute, w.add(t))
	if early {
		ts.EarlyRetries++
	}
	s.st.Stats.Tenants[tenant] = ts
}

// tenantOf is the tenant of a request's bearer token, or "" when it has no
// valid one. The caller holds s.mu.
func (s *Server) tenantOf(authorization string) string {
	if len(authorization) < len("Bearer ") {
		return ""
	}
	c, err := s.verifyToken(authorization[len("Bearer "):])
	if err != nil {
		return ""
	}
	return c.Tenant
}
