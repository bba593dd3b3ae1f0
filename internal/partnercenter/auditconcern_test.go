package partnercenter_test

import (
	"reflect"
	"testing"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// TestConcerns tables what each kind of record concerns (the mapping
// docs/partnercenter.md documents). Values are PascalCase, as Partner
// Center serialises resources in resourceNewValue.
func TestConcerns(t *testing.T) {
	const cust, sub, other = "0c39d6d5-c70d-4c55-bc02-f620844f3fd1", "488745b5-2086-4912-802c-6abb9f7c3638", "f428d44a-d08b-348b-579e-ce92a6362c7b"
	record := func(resource, op, status, oldV, newV string, data ...pc.AuditKeyValue) pc.AuditRecord {
		return pc.AuditRecord{CustomerID: cust, ResourceType: resource, OperationType: op, OperationStatus: status,
			ResourceOldValue: oldV, ResourceNewValue: newV, CustomizedData: data}
	}
	subV := func(status string, qty int) string {
		return `{"Id":"` + sub + `","Status":"` + status + `","Quantity":` + string(rune('0'+qty)) + `}`
	}
	transferV := func(status string) string {
		return `{"Id":"t-1","Status":"` + status + `","CustomerTenantId":"` + cust + `","LineItems":[{"SubscriptionId":"` + sub + `"}]}`
	}
	tests := []struct {
		name string
		r    pc.AuditRecord
		want pc.Concern
	}{
		{"order provisioned", record("order", "update_order", "succeeded", "", `{"Id":"o-1","Status":"completed","LineItems":[{"SubscriptionId":"`+sub+`"}]}`),
			pc.Concern{Change: pc.ChangeOrderProvisioned, OrderID: "o-1", Status: "completed", SubscriptionIDs: []string{sub}}},
		{"order partly provisioned", record("order", "update_order", "succeeded", "", `{"Id":"o-1","Status":"partial success"}`),
			pc.Concern{Change: pc.ChangeOrderProvisioned, OrderID: "o-1", Status: "partial success"}},
		{"order cancelled", record("order", "update_order", "succeeded", "", `{"Id":"o-1","Status":"cancelled"}`),
			pc.Concern{Change: pc.ChangeOrderFailed, OrderID: "o-1", Status: "cancelled"}},
		{"order failed", record("order", "create_order", "failed", "", "", pc.AuditKeyValue{Key: "OrderId", Value: "o-2"}),
			pc.Concern{Change: pc.ChangeOrderFailed, OrderID: "o-2", Failed: true}},
		{"order still pending", record("order", "update_order", "succeeded", "", `{"Id":"o-1","Status":"pending"}`),
			pc.Concern{Change: pc.ChangeOrderUpdated, OrderID: "o-1", Status: "pending"}},
		{"order's subscriptions from customizedData", record("order", "create_order", "succeeded", "", "",
			pc.AuditKeyValue{Key: "OrderId", Value: "o-3"}, pc.AuditKeyValue{Key: "SubscriptionId-0", Value: sub}, pc.AuditKeyValue{Key: "SubscriptionId-1", Value: other}),
			pc.Concern{Change: pc.ChangeOrderCreated, OrderID: "o-3", SubscriptionIDs: []string{sub, other}}},
		{"suspended", record("subscription", "update_subscription", "succeeded", subV("active", 5), subV("suspended", 5)),
			pc.Concern{Change: pc.ChangeSubscriptionSuspended, SubscriptionIDs: []string{sub}, Status: "suspended"}},
		{"cancelled", record("subscription", "update_subscription", "succeeded", subV("active", 5), subV("deleted", 5)),
			pc.Concern{Change: pc.ChangeSubscriptionCancelled, SubscriptionIDs: []string{sub}, Status: "deleted"}},
		{"reactivated", record("subscription", "update_subscription", "succeeded", subV("suspended", 5), subV("active", 5)),
			pc.Concern{Change: pc.ChangeSubscriptionReactivated, SubscriptionIDs: []string{sub}, Status: "active"}},
		{"quantity", record("subscription", "update_subscription", "succeeded", subV("active", 5), subV("active", 7)),
			pc.Concern{Change: pc.ChangeSubscriptionQuantity, SubscriptionIDs: []string{sub}, Status: "active"}},
		{"renamed", record("subscription", "update_subscription", "succeeded", subV("active", 5), subV("active", 5)),
			pc.Concern{Change: pc.ChangeSubscriptionUpdated, SubscriptionIDs: []string{sub}, Status: "active"}},
		{"update that failed", record("subscription", "update_subscription", "failed", subV("active", 5), subV("suspended", 5)),
			pc.Concern{SubscriptionIDs: []string{sub}, Status: "suspended", Failed: true}},
		{"transfer created", record("transfer", "create_transfer", "succeeded", "", transferV("Active")),
			pc.Concern{Change: pc.ChangeTransferCreated, TransferID: "t-1", Status: pc.TransferActive, SubscriptionIDs: []string{sub}}},
		{"transfer completed", record("transfer", "update_transfer", "succeeded", "", transferV("completed")),
			pc.Concern{Change: pc.ChangeTransferCompleted, TransferID: "t-1", Status: pc.TransferCompleted, SubscriptionIDs: []string{sub}}},
		{"transfer cancelled", record("transfer", "update_transfer", "succeeded", "", transferV("Cancel")),
			pc.Concern{Change: pc.ChangeTransferCancelled, TransferID: "t-1", Status: pc.TransferCancelled, SubscriptionIDs: []string{sub}}},
		{"transfer expired", record("transfer", "update_transfer", "succeeded", "", transferV("Expired")),
			pc.Concern{Change: pc.ChangeTransferExpired, TransferID: "t-1", Status: pc.TransferExpired, SubscriptionIDs: []string{sub}}},
		{"transfer rejected", record("transfer", "update_transfer", "succeeded", "", transferV("Reject")),
			pc.Concern{Change: pc.ChangeTransferRejected, TransferID: "t-1", Status: pc.TransferRejected, SubscriptionIDs: []string{sub}}},
		{"transfer failed", record("transfer", "update_transfer", "succeeded", "", transferV("Failed")),
			pc.Concern{Change: pc.ChangeTransferFailed, TransferID: "t-1", Status: pc.TransferFailed, SubscriptionIDs: []string{sub}}},
		{"relationship accepted", record("partner_customer_relationship", pc.AuditOperationResellerRelationshipAcceptedByCustomer, "succeeded", "", ""),
			pc.Concern{Change: pc.ChangeRelationshipAccepted}},
		{"relationship declined", record("partner_customer_relationship", pc.AuditOperationResellerRelationshipAcceptedByCustomer, "decline", "", ""),
			pc.Concern{Change: pc.ChangeRelationshipDeclined, Failed: true}},
		{"relationship removed", record("partner_customer_relationship", "remove_partner_customer_relationship", "succeeded", "", ""),
			pc.Concern{Change: pc.ChangeRelationshipRemoved}},
		{"agreement", record("agreement", "create_agreement", "succeeded", "", ""), pc.Concern{Change: pc.ChangeAgreementCreated}},
		{"GDAP relationship", record("granular_admin_relationship", "granular_admin_relationship_terminated", "succeeded", "", `{"Id":"g-1"}`),
			pc.Concern{Change: pc.ChangeGDAPRelationship, GDAPRelationshipID: "g-1", Status: "terminated"}},
		{"GDAP access assignment", record("granular_admin_access_assignment", "granular_admin_access_assignment_created", "succeeded", "", `{"Id":"a-1"}`),
			pc.Concern{Change: pc.ChangeGDAPAccessAssignment, Status: "created"}},
		{"a user's licenses", record("license", "update_customer_user_licenses", "succeeded", "", `{"LicensesToAssign":[]}`), pc.Concern{}},
		{"a value that is not JSON", record("subscription", "update_subscription", "succeeded", "", "not json"),
			pc.Concern{Change: pc.ChangeSubscriptionUpdated}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.CustomerTenantID = cust
			if got := tc.r.Concerns(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Concerns = %+v\nwant       %+v", got, tc.want)
			}
		})
	}
}
