package partnercenter

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Change is the kind of change an audit record reports, as far as the
// operator follows it. docs/partnercenter.md ("The activity log") tables
// each mapping with its source.
type Change string

// Changes.
const (
	// ChangeNone: nothing the operator follows, or an operation that did
	// not succeed (and so changed nothing).
	ChangeNone Change = ""

	ChangeRelationshipAccepted Change = "RelationshipAccepted"
	ChangeRelationshipDeclined Change = "RelationshipDeclined"
	ChangeRelationshipRemoved  Change = "RelationshipRemoved"
	ChangeCustomerAdded        Change = "CustomerAdded"
	ChangeAgreementCreated     Change = "AgreementCreated"

	ChangeOrderCreated     Change = "OrderCreated"
	ChangeOrderProvisioned Change = "OrderProvisioned"
	ChangeOrderFailed      Change = "OrderFailed"
	ChangeOrderUpdated     Change = "OrderUpdated"

	ChangeSubscriptionSuspended   Change = "SubscriptionSuspended"
	ChangeSubscriptionCancelled   Change = "SubscriptionCancelled"
	ChangeSubscriptionReactivated Change = "SubscriptionReactivated"
	ChangeSubscriptionQuantity    Change = "SubscriptionQuantity"
	ChangeSubscriptionUpdated     Change = "SubscriptionUpdated"

	ChangeTransferCreated   Change = "TransferCreated"
	ChangeTransferCompleted Change = "TransferCompleted"
	ChangeTransferCancelled Change = "TransferCancelled"
	ChangeTransferExpired   Change = "TransferExpired"
	ChangeTransferRejected  Change = "TransferRejected"
	ChangeTransferFailed    Change = "TransferFailed"
	ChangeTransferUpdated   Change = "TransferUpdated"

	ChangeGDAPRelationship     Change = "GDAPRelationship"
	ChangeGDAPAccessAssignment Change = "GDAPAccessAssignment"
)

// Concern is what an audit record concerns: the objects it names and the
// kind of change. Fields a record does not name are empty.
type Concern struct {
	Change           Change
	CustomerTenantID string
	SubscriptionIDs  []string
	OrderID          string
	TransferID       string
	// GDAPRelationshipID is the granular admin relationship a GDAP record
	// names in its new value, when it names one.
	GDAPRelationshipID string
	// Status is the resource's status after the operation as the record
	// gives it (an order's, a subscription's or a transfer's; for GDAP, the
	// operation's last word, such as "approved" or "terminated").
	Status string
	// Failed: the operation did not succeed (operationStatus failed or
	// decline).
	Failed bool
}

// resourceValue is what the operator reads of a resource's old or new
// value: the JSON of the resource, PascalCase keys as Partner Center
// serialises it (matched without regard to case).
type resourceValue struct {
	ID                  string `json:"Id"`
	Status              string `json:"Status"`
	Quantity            *int   `json:"Quantity"`
	ReferenceCustomerID string `json:"ReferenceCustomerId"`
	CustomerTenantID    string `json:"CustomerTenantId"`
	CustomerID          string `json:"CustomerId"`
	LineItems           []struct {
		SubscriptionID string `json:"SubscriptionId"`
	} `json:"LineItems"`
}

func parseValue(s string) resourceValue {
	var v resourceValue
	_ = json.Unmarshal([]byte(s), &v) // a value that is not JSON names nothing
	return v
}

// Concerns says which objects the record concerns and what changed. It is
// a pure function of the record: resourceType and operationType choose the
// mapping, resourceNewValue, resourceOldValue and customizedData give the
// identifiers and the status.
func (r AuditRecord) Concerns() Concern {
	oldV, newV := parseValue(r.ResourceOldValue), parseValue(r.ResourceNewValue)
	c := Concern{CustomerTenantID: firstOf(r.CustomerID, newV.CustomerTenantID, newV.ReferenceCustomerID, newV.CustomerID),
		Failed: strings.EqualFold(r.OperationStatus, AuditStatusFailed) || strings.EqualFold(r.OperationStatus, AuditStatusDecline)}
	switch r.ResourceType {
	case AuditResourceOrder:
		c.orderConcern(r, newV)
	case AuditResourceSubscription:
		c.subscriptionConcern(r, oldV, newV)
	case AuditResourceTransfer:
		c.transferConcern(r, newV)
	case AuditResourceGranularAdminRelationship, AuditResourceGranularAdminAccessAssignment:
		c.gdapConcern(r, newV)
	default:
		c.customerConcern(r)
	}
	return c
}

// orderConcern: create_order and update_order; customizedData OrderId and
// SubscriptionId-N, or the order's Id and line items' SubscriptionId.
func (c *Concern) orderConcern(r AuditRecord, v resourceValue) {
	c.OrderID, c.Status = firstOf(r.Data("OrderId"), v.ID), strings.ToLower(v.Status)
	c.SubscriptionIDs = subscriptionIDs(r, v)
	if r.OperationType != AuditOperationCreateOrder && r.OperationType != AuditOperationUpdateOrder {
		return
	}
	switch {
	case c.Failed, c.Status == OrderCancelled, c.Status == "failed":
		c.Change = ChangeOrderFailed
	case c.Status == OrderCompleted, c.Status == "partial success":
		c.Change = ChangeOrderProvisioned
	case r.OperationType == AuditOperationCreateOrder:
		c.Change = ChangeOrderCreated
	default:
		c.Change = ChangeOrderUpdated
	}
}

// subscriptionConcern: update_subscription (and the upgrade and trial
// conversion operations), its old and new values compared.
func (c *Concern) subscriptionConcern(r AuditRecord, oldV, newV resourceValue) {
	c.SubscriptionIDs = compact(firstOf(newV.ID, oldV.ID))
	c.Status = strings.ToLower(newV.Status)
	switch r.OperationType {
	case AuditOperationUpdateSubscription, AuditOperationUpgradeSubscription, AuditOperationConvertTrialSubscription:
	default:
		return
	}
	oldStatus := strings.ToLower(oldV.Status)
	switch {
	case c.Failed:
	case c.Status == SubscriptionSuspended && oldStatus != SubscriptionSuspended:
		c.Change = ChangeSubscriptionSuspended
	case c.Status == SubscriptionDeleted && oldStatus != SubscriptionDeleted:
		c.Change = ChangeSubscriptionCancelled
	case c.Status == SubscriptionActive && oldStatus == SubscriptionSuspended:
		c.Change = ChangeSubscriptionReactivated
	case oldV.Quantity != nil && newV.Quantity != nil && *oldV.Quantity != *newV.Quantity:
		c.Change = ChangeSubscriptionQuantity
	default:
		c.Change = ChangeSubscriptionUpdated
	}
}

// transferConcern: create_transfer and update_transfer, the transfer's
// status in its new value.
func (c *Concern) transferConcern(r AuditRecord, v resourceValue) {
	c.TransferID, c.Status = v.ID, CanonicalTransferStatus(v.Status)
	c.SubscriptionIDs = subscriptionIDs(r, v)
	switch {
	case c.Failed:
	case r.OperationType == AuditOperationCreateTransfer:
		c.Change = ChangeTransferCreated
	case r.OperationType != AuditOperationUpdateTransfer:
	default:
		c.Change = transferChange(c.Status)
	}
}

func transferChange(status string) Change {
	switch {
	case status == TransferCompleted:
		return ChangeTransferCompleted
	case status == TransferCancelled, strings.EqualFold(status, "Cancelled"):
		return ChangeTransferCancelled
	case status == TransferExpired:
		return ChangeTransferExpired
	case status == TransferRejected, strings.EqualFold(status, "Rejected"):
		return ChangeTransferRejected
	case status == TransferFailed:
		return ChangeTransferFailed
	}
	return ChangeTransferUpdated
}

// gdapConcern: the granular_admin_relationship_* and
// granular_admin_access_assignment_* operations. A relationship's new value
// is taken to be the relationship, its Id the relationship's ID.
func (c *Concern) gdapConcern(r AuditRecord, v resourceValue) {
	if r.ResourceType == AuditResourceGranularAdminRelationship {
		c.GDAPRelationshipID = v.ID
	}
	if c.Failed {
		return
	}
	if s, ok := strings.CutPrefix(r.OperationType, "granular_admin_relationship_"); ok {
		c.Change, c.Status = ChangeGDAPRelationship, s
	} else if s, ok := strings.CutPrefix(r.OperationType, "granular_admin_access_assignment_"); ok {
		c.Change, c.Status = ChangeGDAPAccessAssignment, s
	}
}

// customerConcern: the customer's relationship with the partner and its
// agreement.
func (c *Concern) customerConcern(r AuditRecord) {
	switch r.OperationType {
	case AuditOperationResellerRelationshipAcceptedByCustomer:
		c.Change = ChangeRelationshipAccepted
		if strings.EqualFold(r.OperationStatus, AuditStatusDecline) {
			c.Change = ChangeRelationshipDeclined
		} else if c.Failed {
			c.Change = ChangeNone
		}
	case AuditOperationAddCustomer:
		c.Change = ifSucceeded(c.Failed, ChangeCustomerAdded)
	case AuditOperationRemovePartnerCustomerRelationship:
		c.Change = ifSucceeded(c.Failed, ChangeRelationshipRemoved)
	case AuditOperationCreateAgreement:
		c.Change = ifSucceeded(c.Failed, ChangeAgreementCreated)
	}
}

func ifSucceeded(failed bool, ch Change) Change {
	if failed {
		return ChangeNone
	}
	return ch
}

// subscriptionIDs are the subscriptions an order or transfer names: its
// customizedData SubscriptionId-0, -1, ... and its line items'.
func subscriptionIDs(r AuditRecord, v resourceValue) []string {
	var ids []string
	for i := 0; ; i++ {
		id := r.Data(fmt.Sprintf("SubscriptionId-%d", i))
		if id == "" && !r.hasData(fmt.Sprintf("SubscriptionId-%d", i)) {
			break
		}
		ids = appendID(ids, id)
	}
	for _, li := range v.LineItems {
		ids = appendID(ids, li.SubscriptionID)
	}
	return ids
}

func (r AuditRecord) hasData(key string) bool {
	return slices.ContainsFunc(r.CustomizedData, func(kv AuditKeyValue) bool { return strings.EqualFold(kv.Key, key) })
}

// appendID adds id unless it is empty or already there (GUIDs compared
// without regard to case).
func appendID(ids []string, id string) []string {
	if id == "" || slices.ContainsFunc(ids, func(x string) bool { return strings.EqualFold(x, id) }) {
		return ids
	}
	return append(ids, id)
}

func compact(id string) []string { return appendID(nil, id) }

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
