package sim

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Changes made outside the operator: a person in Partner Center's portal
// (or Microsoft itself) suspends a subscription, changes its seats, cancels
// a transfer. They are recorded in the activity log and raise their events
// as the API's own changes do, so that tests can show the operator
// noticing drift.

// SubscriptionChange is a change to a subscription made outside the operator.
type SubscriptionChange struct {
	// Status, when set, is the new status: active, suspended or deleted.
	Status string `json:"status,omitempty"`
	// Quantity, when positive, is the new number of seats.
	Quantity int `json:"quantity,omitempty"`
	// By is the person who made it in Partner Center (a user principal
	// name); empty is Microsoft itself (recorded as its fulfilment service).
	By string `json:"by,omitempty"`
}

// Errors of the outside changes.
var (
	ErrNotFound = errors.New("no such object")
	ErrRefused  = errors.New("the change is refused")
)

// ChangeSubscription changes subscription id as c says, outside the
// operator: the owner's activity log records update_subscription and the
// owner, if registered, is sent subscription-updated.
func (s *Server) ChangeSubscription(id string, c SubscriptionChange) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.Subscriptions[id]
	if o == nil {
		return fmt.Errorf("%w: subscription %s", ErrNotFound, id)
	}
	switch {
	case c.Status == "" && c.Quantity <= 0:
		return fmt.Errorf("%w: a change names a status or a quantity", ErrRefused)
	case c.Status != "" && !settableStatuses[c.Status]:
		return fmt.Errorf("%w: status %q is not active, suspended or deleted", ErrRefused, c.Status)
	case o.Subscription.Status == "deleted":
		return fmt.Errorf("%w: subscription %s is deleted", ErrRefused, id)
	}
	old := o.Subscription
	if c.Status != "" {
		o.Subscription.Status = c.Status
	}
	if c.Quantity > 0 {
		o.Subscription.Quantity = c.Quantity
	}
	o.Subscription.Attributes.Etag = newEtag()
	by := systemActor()
	if c.By != "" {
		by = portalActor(o.Owner, c.By)
	}
	s.auditSubscription(o, old, by)
	return s.save()
}

// CancelTransfer cancels a pending transfer outside the operator, as its
// target partner's person does in the portal (by; empty is the partner's
// admin): both partners' activity logs record update_transfer.
func (s *Server) CancelTransfer(id, by string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.Transfers[id]
	if t == nil {
		return fmt.Errorf("%w: transfer %s", ErrNotFound, id)
	}
	s.refreshTransfer(t)
	if t.Status != transferActive {
		return fmt.Errorf("%w: transfer %s is %s", ErrRefused, id, t.Status)
	}
	old := *t
	now := s.now()
	t.Status, t.LastModifiedTime = transferCancelled, &now
	s.auditTransfer(t, &old, t.TargetPartnerTenantID, portalActor(t.TargetPartnerTenantID, by))
	return s.save()
}

func (s *Server) changeSubscriptionOutside(w http.ResponseWriter, r *http.Request) {
	var c SubscriptionChange
	if err := decode(r, &c); err != nil {
		writeJSON(w, http.StatusBadRequest, errorOf(codeInvalidProperty, `the body is not {"status", "quantity", "by"}: `+err.Error()))
		return
	}
	writeOutside(w, s.ChangeSubscription(r.PathValue("id"), c))
}

func (s *Server) cancelTransferOutside(w http.ResponseWriter, r *http.Request) {
	var req struct {
		By string `json:"by"`
	}
	if err := decode(r, &req); err != nil && !errors.Is(err, io.EOF) {
		writeJSON(w, http.StatusBadRequest, errorOf(codeInvalidProperty, `the body is not {"by": ...}: `+err.Error()))
		return
	}
	writeOutside(w, s.CancelTransfer(r.PathValue("id"), req.By))
}

func writeOutside(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		writeJSON(w, http.StatusNotFound, errorOf(codeNotFound, err.Error()))
	case errors.Is(err, ErrRefused):
		writeJSON(w, http.StatusConflict, errorOf(codeInvalidProperty, err.Error()))
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, errorOf(500, err.Error()))
	default:
		writeJSON(w, http.StatusOK, map[string]string{"status": "changed"})
	}
}
