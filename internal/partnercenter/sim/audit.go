package sim

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The activity log: a record of every change the simulator makes, through
// the API, by the acting parties, or by time, as Partner Center's "Get a
// record of Partner Center activity" serves it. Records are dated by the
// simulator's clock, kept 90 days, and carry IDs shaped as the documented
// ones: partner_customer[_resource]_operation_ticks.
// Sources:
// https://learn.microsoft.com/partner-center/developer/auditing-resources
// https://learn.microsoft.com/partner-center/developer/api-throttling-guidance ("Example of activity log")

// auditKeyValue is an entry of customizedData; a value may be null.
type auditKeyValue struct {
	Key   string  `json:"key"`
	Value *string `json:"value"`
}

func kv(key, value string) auditKeyValue { return auditKeyValue{Key: key, Value: &value} }

// auditRecord is the AuditRecord resource.
type auditRecord struct {
	ID                    string          `json:"id"`
	PartnerID             string          `json:"partnerId"`
	Participants          []string        `json:"participants"`
	CustomerID            string          `json:"customerId"`
	CustomerName          string          `json:"customerName,omitempty"`
	UserPrincipalName     string          `json:"userPrincipalName,omitempty"`
	ApplicationID         string          `json:"applicationId"`
	ResourceType          string          `json:"resourceType"`
	ResourceOldValue      string          `json:"resourceOldValue,omitempty"`
	ResourceNewValue      string          `json:"resourceNewValue,omitempty"`
	OperationType         string          `json:"operationType"`
	OriginalCorrelationID string          `json:"originalCorrelationId,omitempty"`
	OperationDate         time.Time       `json:"operationDate"`
	OperationStatus       string          `json:"operationStatus"`
	CustomizedData        []auditKeyValue `json:"customizedData"`
	Attributes            attributes      `json:"attributes"`
}

// visibleTo: the partner the record is of, or one it is shown to.
func (r *auditRecord) visibleTo(partner string) bool {
	return r.PartnerID == partner || slices.Contains(r.Participants, partner)
}

// actor is who makes a change, as the record names them.
type actor struct {
	app, user, correlationID string
	// base is the simulator's URL as the request reached it.
	base string
}

// Applications the records name: the first two are the documented
// examples' (a change Partner Center's own services made; a person's in
// Partner Center), the third the simulator's (the customer's Global admin
// in the Microsoft 365 admin center).
const (
	appFulfillment = "FulfillmentService"
	appPortal      = "Partner Center Native App"
	appAdminCenter = "Microsoft 365 admin center"
)

// Resource and operation types the simulator records (auditing-resources).
const (
	resourceOrder        = "order"
	resourceSubscription = "subscription"
	resourceTransfer     = "transfer"
	resourceAgreement    = "agreement"
	resourceRelationship = "partner_customer_relationship"

	opCreateOrder        = "create_order"
	opUpdateOrder        = "update_order"
	opUpdateSubscription = "update_subscription"
	opCreateTransfer     = "create_transfer"
	opUpdateTransfer     = "update_transfer"
	opCreateAgreement    = "create_agreement"
	// opRelationshipAccepted is not in the operation table: it is read
	// from the audit ID of the documented reseller-relationship-accepted-
	// by-customer event (..._resellerrelationshipacceptedbycustomer_...).
	opRelationshipAccepted = "reseller_relationship_accepted_by_customer"

	statusSucceeded = "succeeded"
	statusFailed    = "failed"
	// statusDecline is in the REST reference's operationStatus enum; the
	// simulator records a customer's refusal with it.
	statusDecline = "decline"
)

func systemActor() actor { return actor{app: appFulfillment} }
func customerActor(customer string) actor {
	return actor{app: appAdminCenter, user: simulatedEmail(customer)}
}

// portalActor is a person in Partner Center; no one named is the
// partner's admin.
func portalActor(partner, user string) actor {
	if user == "" {
		user = "admin@" + partner + ".example.com"
	}
	return actor{app: appPortal, user: user}
}

// change is one change to record.
type change struct {
	partner    string
	others     []string // further partners the record is shown to
	customer   string
	resource   string
	resourceID string
	op         string
	status     string // operationStatus; "" is succeeded
	oldV, newV any
	data       []auditKeyValue
	by         actor
	// event, when set, is the webhook event the change raises, to the
	// partner and the others registered for it.
	event *webhookEvent
}

// ticksAtUnixEpoch: records are dated and named in .NET ticks (100 ns
// since 0001-01-01), as the documented IDs end (637346859797753934 is
// 2020-09-02T23:26:19.7753934Z).
const ticksAtUnixEpoch = 621355968000000000

func ticksOf(t time.Time) int64     { return t.UnixNano()/100 + ticksAtUnixEpoch }
func timeOfTicks(n int64) time.Time { return time.Unix(0, (n-ticksAtUnixEpoch)*100).UTC() }

// auditRetention is how long records are kept: "activity log data
// availability is limited to the previous 90 days".
const auditRetention = 90 * 24 * time.Hour

// audit records c, dated now (each record a tick after the last, so that
// IDs and order are unique), and raises its event. The caller holds s.mu.
func (s *Server) audit(c change) {
	ticks := max(ticksOf(s.now()), s.st.AuditTicks+1)
	s.st.AuditTicks = ticks
	if c.status == "" {
		c.status = statusSucceeded
	}
	rec := auditRecord{ID: auditID(c, ticks), PartnerID: c.partner, Participants: participants(c), CustomerID: c.customer,
		UserPrincipalName: c.by.user, ApplicationID: c.by.app, ResourceType: c.resource, OperationType: c.op,
		OriginalCorrelationID: c.by.correlationID, OperationDate: timeOfTicks(ticks), OperationStatus: c.status,
		ResourceOldValue: pascalJSON(c.oldV), ResourceNewValue: pascalJSON(c.newV), CustomizedData: c.data,
		Attributes: attributes{ObjectType: "AuditRecord"}}
	if rec.CustomizedData == nil {
		rec.CustomizedData = []auditKeyValue{}
	}
	if p := s.st.Customers[c.customer]; p != nil {
		rec.CustomerName = p.CompanyName
	}
	s.st.AuditRecords = append(s.pruneAudit(), rec)
	s.st.Stats.AuditRecords++
	if c.event != nil {
		s.raise(rec, c)
	}
}

func participants(c change) []string {
	out := []string{c.partner}
	for _, p := range c.others {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// auditID joins partner, customer, the resource's ID (lower case), the
// operation without underscores and the ticks, as the documented IDs do.
func auditID(c change, ticks int64) string {
	parts := []string{c.partner, c.customer}
	if c.resourceID != "" {
		parts = append(parts, strings.ToLower(c.resourceID))
	}
	return strings.Join(append(parts, strings.ReplaceAll(c.op, "_", ""), strconv.FormatInt(ticks, 10)), "_")
}

// pruneAudit drops the records older than the retention. The caller holds s.mu.
func (s *Server) pruneAudit() []auditRecord {
	oldest := s.now().Add(-auditRetention)
	i := 0
	for i < len(s.st.AuditRecords) && s.st.AuditRecords[i].OperationDate.Before(oldest) {
		i++
	}
	return s.st.AuditRecords[i:]
}

// pascalJSON is v's JSON with its keys in PascalCase, as Partner Center
// serialises a resource into resourceOldValue and resourceNewValue; nil
// is "".
func pascalJSON(v any) string {
	if v == nil {
		return ""
	}
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var x any
	if json.Unmarshal(data, &x) != nil {
		return ""
	}
	out, _ := json.Marshal(pascal(x))
	return string(out)
}

func pascal(x any) any {
	switch v := x.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			if k != "" {
				k = strings.ToUpper(k[:1]) + k[1:]
			}
			m[k] = pascal(e)
		}
		return m
	case []any:
		for i := range v {
			v[i] = pascal(v[i])
		}
	}
	return x
}

// applyDue applies what time has done and not yet been applied (orders
// provisioned, transfers accepted automatically or expired), so that the
// activity log is complete when it is read. The caller holds s.mu.
func (s *Server) applyDue() (mutated bool) {
	for _, id := range slices.Sorted(maps.Keys(s.st.Orders)) {
		mutated = s.refreshOrder(s.st.Orders[id]) || mutated
	}
	for _, id := range slices.Sorted(maps.Keys(s.st.Transfers)) {
		mutated = s.refreshTransfer(s.st.Transfers[id]) || mutated
	}
	return mutated
}

// auditRecordByID is "Gets Audit Record by Id": a record the partner may see.
func (s *Server) auditRecordByID(r *http.Request, partner string) reply {
	mutated := s.applyDue()
	for i := range s.st.AuditRecords {
		if rec := &s.st.AuditRecords[i]; rec.ID == r.PathValue("id") && rec.visibleTo(partner) {
			return ok(rec, mutated)
		}
	}
	rep := fail(http.StatusNotFound, codeNotFound, "Audit record %s was not found.", r.PathValue("id"))
	rep.mutated = mutated
	return rep
}
