// Package graphsim simulates the subset of Microsoft Graph the operator uses:
// for GDAP, delegated admin relationships, their requests (lockForApproval,
// terminate) and access assignments under /v1.0/tenantRelationships; for
// mail, sendMail and the Sent Items of the partner tenant's mailboxes under
// /v1.0/users (see mail.go). It plays the customer and the partner's
// administrator too (/sim/graph/v1/...: approve a relationship, or approve
// automatically after a delay; add a mailbox, grant Mail.Send and
// Mail.Read), has a clock that can be moved past a relationship's end, fault
// injection (429 with Retry-After, 503, latency, a sendMail answer lost
// after the mail was sent), counters, and its state in a file so that it
// outlives a restart. It takes the bearer tokens of the Partner Center
// simulator's token endpoint, which shares its listener in make dev and the
// tests.
package graphsim

import (
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// ApprovalWindow is how long a relationship locked for approval waits for the
// customer before it expires (Graph: 90 days).
const ApprovalWindow = 90 * 24 * time.Hour

// Options configure a simulator.
type Options struct {
	// StatePath is the file the state lives in; empty keeps it in memory.
	StatePath string
	// AutoApproveAfter, when positive, makes the customer approve a
	// relationship this long after it was locked for approval.
	AutoApproveAfter time.Duration
	// ThrottleRate is the share of API requests answered 429 with Retry-After.
	ThrottleRate float64
	// RetryAfter is the Retry-After of throttled responses; default 1s.
	RetryAfter time.Duration
	// ErrorRate is the share of API requests answered 503.
	ErrorRate float64
	// Latency is added to every API request.
	Latency time.Duration
	// LoseSendMailReplyRate is the share of sendMail requests that send the
	// mail and then answer 504, as a reply lost on the way would: the caller
	// cannot tell whether the mail left. (ThrottleRate and ErrorRate answer
	// before anything is sent.)
	LoseSendMailReplyRate float64
	// SentItemsDelay is how long after sendMail's answer the mail shows in
	// Sent Items: Exchange Online moves it there once its transport has
	// taken the mail. Zero shows it at once.
	SentItemsDelay time.Duration
	// Now is the wall clock; default time.Now. The simulator's own clock is
	// Now plus what /sim/graph/v1/clock/advance added.
	Now func() time.Time
}

// Server is the simulator; it is an http.Handler.
type Server struct {
	opts Options
	mux  *http.ServeMux
	// pageKey signs the skip tokens of paged lists; a token lives as long
	// as the process that gave it.
	pageKey []byte

	mu sync.Mutex
	st *state
}

type state struct {
	ClockOffset   time.Duration            `json:"clockOffset"`
	Relationships map[string]*relationship `json:"relationships"`
	// Responses: idempotency by partner|route|client-request-id.
	Responses map[string]json.RawMessage `json:"responses"`
	// Mailboxes by tenant|lower-cased address; Grants: the application
	// permissions granted, by tenant; Mail: what was sent, oldest first.
	Mailboxes map[string]*mailbox `json:"mailboxes"`
	Grants    map[string][]string `json:"grants"`
	Mail      []*sentItem         `json:"mail"`
	Stats     Stats               `json:"stats"`
}

type relationship struct {
	Partner      string            `json:"partner"`
	Relationship Relationship      `json:"relationship"`
	LockedAt     *time.Time        `json:"lockedAt,omitempty"`
	ApprovedAt   *time.Time        `json:"approvedAt,omitempty"`
	Assignments  []*wireAssignment `json:"assignments,omitempty"`
	Requests     []wireRequest     `json:"requests,omitempty"`
}

// Stats are the simulator's counters (GET /sim/graph/v1/stats).
type Stats struct {
	RequestsByRoute      map[string]int `json:"requestsByRoute"`
	ObjectsCreated       map[string]int `json:"objectsCreated"`
	DuplicatesSuppressed int            `json:"duplicatesSuppressed"`
	DuplicatesRefused    int            `json:"duplicatesRefused"`
	Throttled            int            `json:"throttled"`
	ErrorsInjected       int            `json:"errorsInjected"`
	// MailsSent counts the mails sendMail accepted, RepliesLost those among
	// them answered 504 (Options.LoseSendMailReplyRate).
	MailsSent   int `json:"mailsSent"`
	RepliesLost int `json:"repliesLost"`
}

func (s Stats) clone() Stats {
	c := s
	c.RequestsByRoute, c.ObjectsCreated = map[string]int{}, map[string]int{}
	for k, v := range s.RequestsByRoute {
		c.RequestsByRoute[k] = v
	}
	for k, v := range s.ObjectsCreated {
		c.ObjectsCreated[k] = v
	}
	return c
}

func (st *state) init() {
	if st.Relationships == nil {
		st.Relationships = map[string]*relationship{}
	}
	if st.Responses == nil {
		st.Responses = map[string]json.RawMessage{}
	}
	if st.Mailboxes == nil {
		st.Mailboxes = map[string]*mailbox{}
	}
	if st.Grants == nil {
		st.Grants = map[string][]string{}
	}
	if st.Stats.RequestsByRoute == nil {
		st.Stats.RequestsByRoute = map[string]int{}
	}
	if st.Stats.ObjectsCreated == nil {
		st.Stats.ObjectsCreated = map[string]int{}
	}
}

// New returns a simulator, loading its state from opts.StatePath when the file exists.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	s := &Server{opts: opts, st: &state{}, pageKey: make([]byte, 32)}
	if _, err := crand.Read(s.pageKey); err != nil {
		return nil, err
	}
	if opts.StatePath != "" {
		data, err := os.ReadFile(opts.StatePath)
		switch {
		case err == nil:
			if err := json.Unmarshal(data, s.st); err != nil {
				return nil, fmt.Errorf("reading graph simulator state %s: %w", opts.StatePath, err)
			}
		case errors.Is(err, os.ErrNotExist):
		default:
			return nil, fmt.Errorf("reading graph simulator state: %w", err)
		}
	}
	s.st.init()
	s.routes()
	return s, nil
}

// ServeHTTP serves the simulator's routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Stats.clone()
}

// Close writes the state to its file.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.save()
}

// Relationships returns a copy of every relationship partner holds, after
// bringing them up to the simulator's clock.
func (s *Server) Relationships(partner string) []Relationship {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Relationship
	for _, id := range s.sortedIDs() {
		rel := s.st.Relationships[id]
		if rel.Partner == partner {
			s.advance(rel)
			out = append(out, rel.Relationship)
		}
	}
	return out
}

// Approve acts as the customer's Global admin approving relationship id.
func (s *Server) Approve(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rel, ok := s.st.Relationships[id]
	if !ok {
		return fmt.Errorf("no relationship %s", id)
	}
	s.advance(rel)
	if rel.Relationship.Status != statusApprovalPending {
		return fmt.Errorf("relationship %s is %s, not approvalPending", id, rel.Relationship.Status)
	}
	now := s.now()
	rel.ApprovedAt = &now
	rel.Relationship.Status = statusApproved
	return s.save()
}

// Terminate acts as the customer ending active relationship id in their
// admin center: it is terminated at once.
func (s *Server) Terminate(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rel, ok := s.st.Relationships[id]
	if !ok {
		return fmt.Errorf("no relationship %s", id)
	}
	s.advance(rel)
	if rel.Relationship.Status != statusActive && rel.Relationship.Status != statusExpiring {
		return fmt.Errorf("relationship %s is %s, not active", id, rel.Relationship.Status)
	}
	now := s.now()
	rel.Relationship.Status, rel.Relationship.EndDateTime = statusTerminated, &now
	s.advance(rel)
	return s.save()
}

// Advance moves the simulator's clock forward by d.
func (s *Server) Advance(d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ClockOffset += d
	return s.save()
}

func (s *Server) now() time.Time {
	return s.opts.Now().Add(s.st.ClockOffset).UTC().Truncate(time.Second)
}

func (s *Server) sortedIDs() []string {
	ids := make([]string, 0, len(s.st.Relationships))
	for id := range s.st.Relationships {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// advance brings rel up to the simulator's clock: the customer's automatic
// approval, activation (one read shows approved, the next activating, then
// active), the 90-day approval window, the end with or without auto-extension,
// and termination. The caller holds s.mu.
func (s *Server) advance(rel *relationship) {
	r := &rel.Relationship
	now := s.now()
	switch r.Status {
	case statusApprovalPending:
		switch {
		case s.opts.AutoApproveAfter > 0 && rel.LockedAt != nil && !now.Before(rel.LockedAt.Add(s.opts.AutoApproveAfter)):
			rel.ApprovedAt = &now
			r.Status = statusApproved
		case rel.LockedAt != nil && !now.Before(rel.LockedAt.Add(ApprovalWindow)):
			end := rel.LockedAt.Add(ApprovalWindow)
			r.Status, r.EndDateTime = statusExpired, &end
		}
	case statusApproved:
		r.Status = statusActivating
	case statusActivating:
		r.Status = statusActive
		r.ActivatedDateTime = &now
		end := now.Add(durationOf(r.Duration))
		r.EndDateTime = &end
	case statusTerminationRequested:
		r.Status = statusTerminating
	case statusTerminating:
		r.Status = statusTerminated
		r.EndDateTime = &now
	}
	if (r.Status == statusActive || r.Status == statusExpiring) && r.EndDateTime != nil {
		for !now.Before(*r.EndDateTime) && r.AutoExtendDuration == "P180D" {
			end := r.EndDateTime.Add(180 * 24 * time.Hour)
			r.EndDateTime = &end
		}
		if !now.Before(*r.EndDateTime) {
			r.Status = statusExpired
		}
	}
	for _, a := range rel.Assignments {
		switch {
		case r.Status == statusExpired || r.Status == statusTerminated:
			a.Status = assignmentDeleted
		case a.Status == assignmentPending:
			a.Status = assignmentActive // active from the second read on
		}
	}
	r.ETag = etag(r)
}

// durationOf reads the durations Graph takes here: PnD, PnY (a year is 365 days), PT0S.
func durationOf(iso string) time.Duration {
	if len(iso) < 3 || iso[0] != 'P' {
		return 0
	}
	n, err := strconv.Atoi(iso[1 : len(iso)-1])
	if err != nil {
		return 0
	}
	switch iso[len(iso)-1] {
	case 'D':
		return time.Duration(n) * 24 * time.Hour
	case 'Y':
		return time.Duration(n) * 365 * 24 * time.Hour
	}
	return 0
}

func etag(r *Relationship) string {
	data, _ := json.Marshal(struct {
		S, A string
		E    *time.Time
	}{r.Status, r.AutoExtendDuration, r.EndDateTime})
	sum := sha256.Sum256(data) // the whole state: any change changes the ETag
	return `W/"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}

// save writes the state atomically. The caller holds s.mu.
func (s *Server) save() error {
	if s.opts.StatePath == "" {
		return nil
	}
	data, err := json.MarshalIndent(s.st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.opts.StatePath), ".graph-sim-*")
	if err != nil {
		return fmt.Errorf("writing graph simulator state: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.opts.StatePath)
}

// partnerOf reads the tenant from a bearer token of the Partner Center
// simulator ("sim1.<payload>.<signature>"). The signature is that
// simulator's to check, with a key this one does not hold: here only the
// token's shape, tenant and expiry are checked.
func (s *Server) partnerOf(r *http.Request) (string, error) {
	parts := strings.Split(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), ".")
	if len(parts) != 3 || parts[0] != "sim1" {
		return "", errors.New("no bearer token")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Tenant string `json:"tid"`
		Expiry int64  `json:"exp"`
	}
	if err != nil || json.Unmarshal(payload, &c) != nil || c.Tenant == "" {
		return "", errors.New("the token is malformed")
	}
	if s.opts.Now().Unix() >= c.Expiry {
		return "", errors.New("the token has expired")
	}
	return c.Tenant, nil
}

func chance(p float64) bool { return p > 0 && rand.Float64() < p }

func newID() string { return uuid.NewString() }

// Compose serves the Graph simulator and another handler (the Partner Center
// simulator, whose token endpoint both use) on one listener: /v1.0/ and
// /sim/graph/ go to graphSim, everything else to other.
func Compose(graphSim, other http.Handler) http.Handler {
	m := http.NewServeMux()
	m.Handle("/v1.0/", graphSim)
	m.Handle("/sim/graph/", graphSim)
	m.Handle("/", other)
	return m
}
