package graphsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const base = "/v1.0/tenantRelationships/delegatedAdminRelationships"

func (s *Server) routes() {
	m := http.NewServeMux()
	// Acting as the customer, and as time.
	m.HandleFunc("GET /sim/graph/v1/stats", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.Stats()) })
	m.HandleFunc("POST /sim/graph/v1/relationships", s.seedRoute)
	m.HandleFunc("POST /sim/graph/v1/relationships/{id}/approve", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Approve(r.PathValue("id")); err != nil {
			writeJSON(w, http.StatusConflict, graphError("Conflict", "%v", err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": statusApproved})
	})
	m.HandleFunc("POST /sim/graph/v1/relationships/{id}/terminate", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Terminate(r.PathValue("id")); err != nil {
			writeJSON(w, http.StatusConflict, graphError("Conflict", "%v", err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": statusTerminated})
	})
	m.HandleFunc("POST /sim/graph/v1/clock/advance", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Duration string `json:"duration"`
		}
		d, err := time.Duration(0), json.NewDecoder(r.Body).Decode(&body)
		if err == nil {
			d, err = time.ParseDuration(body.Duration)
		}
		if err != nil || d < 0 {
			writeJSON(w, http.StatusBadRequest, graphError("BadRequest", "send {\"duration\": \"720h\"}"))
			return
		}
		if err := s.Advance(d); err != nil {
			writeJSON(w, http.StatusInternalServerError, graphError("InternalServerError", "%v", err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"now": s.nowLocked().Format(time.RFC3339)})
	})

	// Acting as the partner's administrator, and reading what was sent.
	m.HandleFunc("POST /sim/graph/v1/mailboxes", s.addMailboxRoute)
	m.HandleFunc("POST /sim/graph/v1/grants", s.grantRoute)
	m.HandleFunc("GET /sim/graph/v1/tenants/{tenant}/mail", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"value": s.SentMail(r.PathValue("tenant"))})
	})

	// The Graph subset.
	m.HandleFunc("POST "+base, s.api("CreateRelationship", true, s.createRelationship))
	m.HandleFunc("GET "+base, s.api("ListRelationships", false, s.listRelationships))
	m.HandleFunc("GET "+base+"/{id}", s.api("GetRelationship", false, s.withRelationship(s.getRelationship)))
	m.HandleFunc("PATCH "+base+"/{id}", s.api("UpdateRelationship", false, s.withRelationship(s.updateRelationship)))
	m.HandleFunc("DELETE "+base+"/{id}", s.api("DeleteRelationship", false, s.withRelationship(s.deleteRelationship)))
	m.HandleFunc("POST "+base+"/{id}/requests", s.api("CreateRelationshipRequest", true, s.withRelationship(s.createRequest)))
	m.HandleFunc("GET "+base+"/{id}/accessAssignments", s.api("ListAccessAssignments", false, s.withRelationship(s.listAssignments)))
	m.HandleFunc("POST "+base+"/{id}/accessAssignments", s.api("CreateAccessAssignment", true, s.withRelationship(s.createAssignment)))
	// Graph does not de-duplicate sendMail by client-request-id: create is false.
	m.HandleFunc("POST /v1.0/users/{id}/sendMail", s.api("SendMail", false, s.sendMail))
	m.HandleFunc("GET /v1.0/users/{id}/mailFolders/{folder}/messages", s.api("ListMessages", false, s.listMessages))
	s.mux = m
}

func (s *Server) nowLocked() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

type reply struct {
	status  int
	body    any
	mutated bool
}

func graphError(code, format string, args ...any) wireError {
	return wireError{Error: wireErrorDetail{Code: code, Message: fmt.Sprintf(format, args...)}}
}

func fail(status int, code, format string, args ...any) reply {
	return reply{status: status, body: graphError(code, format, args...)}
}

// api wraps a handler with latency, counters, injected faults,
// authentication, idempotency by client-request-id and persistence.
func (s *Server) api(route string, create bool, h func(r *http.Request, partner string) reply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Latency > 0 {
			select {
			case <-time.After(s.opts.Latency):
			case <-r.Context().Done():
				return
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.st.Stats.RequestsByRoute[route]++
		if id := r.Header.Get(headerClientRequestID); id != "" {
			w.Header().Set("request-id", id)
			w.Header().Set(headerClientRequestID, id)
		}
		if chance(s.opts.ThrottleRate) {
			s.st.Stats.Throttled++
			w.Header().Set("Retry-After", strconv.Itoa(int((s.opts.RetryAfter+time.Second-1)/time.Second)))
			writeJSON(w, http.StatusTooManyRequests, graphError("TooManyRequests", "Too many requests: retry after the interval in Retry-After."))
			return
		}
		if chance(s.opts.ErrorRate) {
			s.st.Stats.ErrorsInjected++
			writeJSON(w, http.StatusServiceUnavailable, graphError("ServiceUnavailable", "Service unavailable (injected by the simulator)."))
			return
		}
		partner, err := s.partnerOf(r)
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, graphError("InvalidAuthenticationToken", "%v", err))
			return
		}
		var key string
		if requestID := r.Header.Get(headerClientRequestID); create && requestID != "" {
			key = partner + "|" + route + "|" + r.PathValue("id") + "|" + requestID
			if prev, ok := s.st.Responses[key]; ok {
				s.st.Stats.DuplicatesSuppressed++
				_ = s.save()
				writeRaw(w, http.StatusCreated, prev)
				return
			}
		}
		rep := h(r, partner)
		body, _ := json.Marshal(rep.body)
		if key != "" && rep.status < 300 {
			s.st.Responses[key] = body
		}
		if rep.mutated {
			if err := s.save(); err != nil {
				writeJSON(w, http.StatusInternalServerError, graphError("InternalServerError", "saving the simulator's state: %v", err))
				return
			}
		}
		if rep.body == nil { // 202 Accepted, 204 No Content
			w.WriteHeader(rep.status)
			return
		}
		writeRaw(w, rep.status, body)
	}
}

// withRelationship finds the partner's relationship {id} and brings it up to the clock.
func (s *Server) withRelationship(h func(r *http.Request, rel *relationship) reply) func(*http.Request, string) reply {
	return func(r *http.Request, partner string) reply {
		rel, ok := s.st.Relationships[r.PathValue("id")]
		if !ok || rel.Partner != partner {
			return fail(http.StatusNotFound, "NotFound", "Relationship %s was not found.", r.PathValue("id"))
		}
		before := rel.Relationship.Status
		s.advance(rel)
		rep := h(r, rel)
		rep.mutated = rep.mutated || rel.Relationship.Status != before
		return rep
	}
}

func (s *Server) createRelationship(r *http.Request, partner string) reply {
	var in Relationship
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return fail(http.StatusBadRequest, "BadRequest", "the body is not a delegatedAdminRelationship: %v", err)
	}
	switch {
	case in.DisplayName == "" || len(in.DisplayName) > 50:
		return fail(http.StatusBadRequest, "BadRequest", "displayName is required and has at most 50 characters.")
	case durationOf(in.Duration) < 24*time.Hour || durationOf(in.Duration) > 730*24*time.Hour:
		return fail(http.StatusBadRequest, "BadRequest", "duration must be between P1D and P2Y.")
	case in.AccessDetails == nil || len(in.AccessDetails.UnifiedRoles) == 0:
		return fail(http.StatusBadRequest, "BadRequest", "accessDetails.unifiedRoles is required.")
	}
	if in.AutoExtendDuration == "" || in.AutoExtendDuration == "P0D" {
		in.AutoExtendDuration = "PT0S"
	}
	if in.AutoExtendDuration != "PT0S" && in.AutoExtendDuration != "P180D" {
		return fail(http.StatusBadRequest, "BadRequest", "autoExtendDuration must be PT0S or P180D.")
	}
	if in.AutoExtendDuration == "P180D" && slices.Contains(in.AccessDetails.Roles(), globalAdministrator) {
		return fail(http.StatusBadRequest, "BadRequest", "A relationship with the Global Administrator role cannot auto-extend.")
	}
	for _, rel := range s.st.Relationships {
		if rel.Partner == partner && rel.Relationship.DisplayName == in.DisplayName {
			s.st.Stats.DuplicatesRefused++
			return fail(http.StatusConflict, "Conflict", "A relationship named %q already exists.", in.DisplayName)
		}
	}
	now := s.now()
	in.ID = newID() + "-" + newID()
	in.Status = statusCreated
	in.CreatedDateTime, in.LastModified = &now, &now
	in.ActivatedDateTime, in.EndDateTime = nil, nil
	in.ETag = etag(&in)
	s.st.Relationships[in.ID] = &relationship{Partner: partner, Relationship: in}
	s.st.Stats.ObjectsCreated["relationship"]++
	return reply{http.StatusCreated, in, true}
}

const globalAdministrator = "62e90394-69f5-4237-9190-012177145e10"

// listRelationships answers the partner's relationships, oldest ID first,
// page by page; $filter takes displayName eq '...' and customer/tenantId eq '...'.
func (s *Server) listRelationships(r *http.Request, partner string) reply {
	q, refused := s.readListQuery(r, true)
	if refused != nil {
		return *refused
	}
	match, ok := relationshipFilter(q.filter)
	if !ok {
		return badQuery("invalidQueryOption", "The simulator filters only by displayName eq '...' or customer/tenantId eq '...'.")
	}
	var rels []*relationship
	mutated := false
	for _, id := range s.sortedIDs() {
		rel := s.st.Relationships[id]
		if rel.Partner != partner || !match(rel.Relationship) {
			continue
		}
		before := rel.Relationship.Status
		s.advance(rel)
		mutated = mutated || before != rel.Relationship.Status
		rels = append(rels, rel)
	}
	from, to, next := s.page(r, q, len(rels))
	out := collection[Relationship]{NextLink: next, Value: []Relationship{}}
	for _, rel := range rels[from:to] {
		out.Value = append(out.Value, rel.Relationship)
	}
	return reply{http.StatusOK, out, mutated}
}

// relationshipFilter is what a $filter keeps: every relationship without
// one; false when the simulator does not take the filter.
func relationshipFilter(f string) (func(Relationship) bool, bool) {
	literal := func(prefix string) (string, bool) {
		if !strings.HasPrefix(f, prefix) || !strings.HasSuffix(f, "'") || len(f) < len(prefix)+1 {
			return "", false
		}
		return strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(f, prefix), "'"), "''", "'"), true
	}
	if f == "" {
		return func(Relationship) bool { return true }, true
	}
	if name, ok := literal("displayName eq '"); ok {
		return func(r Relationship) bool { return r.DisplayName == name }, true
	}
	if tenant, ok := literal("customer/tenantId eq '"); ok {
		return func(r Relationship) bool { return r.Customer != nil && strings.EqualFold(r.Customer.TenantID, tenant) }, true
	}
	return nil, false
}

func (s *Server) getRelationship(_ *http.Request, rel *relationship) reply {
	return reply{status: http.StatusOK, body: rel.Relationship}
}

func (s *Server) updateRelationship(r *http.Request, rel *relationship) reply {
	if m := r.Header.Get("If-Match"); m == "" || m != rel.Relationship.ETag {
		return fail(http.StatusPreconditionFailed, "PreconditionFailed", "If-Match must carry the relationship's current @odata.etag.")
	}
	var u wireRelationshipUpdate
	if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
		return fail(http.StatusBadRequest, "BadRequest", "%v", err)
	}
	cur := &rel.Relationship
	onlyAutoExtend := u.DisplayName == "" && u.Duration == "" && u.Customer == nil && u.AccessDetails == nil
	if cur.Status != statusCreated && (!onlyAutoExtend || cur.Status != statusActive) {
		return fail(http.StatusBadRequest, "BadRequest", "A relationship can be changed only while it is created (autoExtendDuration also while active); it is %s.", cur.Status)
	}
	if u.AutoExtendDuration == "P180D" && slices.Contains(cur.AccessDetails.Roles(), globalAdministrator) {
		return fail(http.StatusBadRequest, "BadRequest", "A relationship with the Global Administrator role cannot auto-extend.")
	}
	if u.DisplayName != "" {
		cur.DisplayName = u.DisplayName
	}
	if u.Duration != "" {
		cur.Duration = u.Duration
	}
	if u.AutoExtendDuration != "" {
		cur.AutoExtendDuration = u.AutoExtendDuration
	}
	if u.Customer != nil {
		cur.Customer = u.Customer
	}
	if u.AccessDetails != nil {
		cur.AccessDetails = u.AccessDetails
	}
	now := s.now()
	cur.LastModified = &now
	cur.ETag = etag(cur)
	return reply{http.StatusOK, *cur, true}
}

func (s *Server) deleteRelationship(r *http.Request, rel *relationship) reply {
	if rel.Relationship.Status != statusCreated {
		return fail(http.StatusBadRequest, "BadRequest", "Only a created relationship can be deleted; terminate it instead.")
	}
	delete(s.st.Relationships, rel.Relationship.ID)
	return reply{http.StatusNoContent, nil, true}
}

func (s *Server) createRequest(r *http.Request, rel *relationship) reply {
	var in wireRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return fail(http.StatusBadRequest, "BadRequest", "%v", err)
	}
	now := s.now()
	cur := &rel.Relationship
	switch in.Action {
	case actionLockForApproval:
		if cur.Status != statusCreated {
			return fail(http.StatusBadRequest, "BadRequest", "Only a created relationship can be locked for approval; it is %s.", cur.Status)
		}
		if cur.Customer == nil || cur.Customer.TenantID == "" {
			return fail(http.StatusBadRequest, "BadRequest", "The relationship names no customer tenant.")
		}
		cur.Status, rel.LockedAt = statusApprovalPending, &now
	case actionTerminate:
		if cur.Status != statusActive && cur.Status != statusExpiring {
			return fail(http.StatusBadRequest, "BadRequest", "Only an active relationship can be terminated; it is %s.", cur.Status)
		}
		cur.Status = statusTerminationRequested
	default:
		return fail(http.StatusBadRequest, "BadRequest", "The simulator takes the actions lockForApproval and terminate.")
	}
	cur.LastModified = &now
	cur.ETag = etag(cur)
	req := wireRequest{ID: newID(), Action: in.Action, Status: "succeeded"}
	rel.Requests = append(rel.Requests, req)
	s.st.Stats.ObjectsCreated["request:"+in.Action]++
	return reply{http.StatusCreated, req, true}
}

// listAssignments answers a relationship's access assignments, page by page.
func (s *Server) listAssignments(r *http.Request, rel *relationship) reply {
	q, refused := s.readListQuery(r, false)
	if refused != nil {
		return *refused
	}
	from, to, next := s.page(r, q, len(rel.Assignments))
	out := collection[wireAssignment]{NextLink: next, Value: []wireAssignment{}}
	for _, a := range rel.Assignments[from:to] {
		out.Value = append(out.Value, *a)
	}
	return reply{status: http.StatusOK, body: out}
}

func (s *Server) createAssignment(r *http.Request, rel *relationship) reply {
	var in wireAssignment
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return fail(http.StatusBadRequest, "BadRequest", "%v", err)
	}
	if rel.Relationship.Status != statusActive {
		return fail(http.StatusBadRequest, "BadRequest", "Access can be assigned only on an active relationship; it is %s.", rel.Relationship.Status)
	}
	if in.AccessContainer == nil || in.AccessContainer.ID == "" || in.AccessContainer.Type != containerSecurityGroup {
		return fail(http.StatusBadRequest, "BadRequest", "accessContainer must name a securityGroup.")
	}
	granted := rel.Relationship.AccessDetails.Roles()
	for _, role := range in.AccessDetails.Roles() {
		if !slices.Contains(granted, role) {
			return fail(http.StatusBadRequest, "BadRequest", "Role %s is not part of the relationship.", role)
		}
	}
	for _, a := range rel.Assignments {
		if a.AccessContainer.ID == in.AccessContainer.ID && a.Status != assignmentDeleted {
			s.st.Stats.DuplicatesRefused++
			return fail(http.StatusConflict, "Conflict", "Security group %s already has an access assignment on this relationship.", in.AccessContainer.ID)
		}
	}
	in.ID = newID()
	in.Status = assignmentPending
	in.ETag = `W/"1"`
	rel.Assignments = append(rel.Assignments, &in)
	s.st.Stats.ObjectsCreated["accessAssignment"]++
	return reply{http.StatusCreated, in, true}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	writeRaw(w, status, body)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
