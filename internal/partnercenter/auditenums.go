package partnercenter

// The documented enumerations of AuditRecord, in the order the resource
// table lists them (auditing-resources, 2023: kvamseek/partner-center@85eb3c4
// developer/auditing-resources.md). Partner Center adds values over time,
// so the client never refuses a value it does not know.

// Resource types (resourceType), as auditing-resources lists them.
const (
	AuditResourceCustomer                      = "customer"
	AuditResourceCustomerUser                  = "customer_user"
	AuditResourceOrder                         = "order"
	AuditResourceSubscription                  = "subscription"
	AuditResourceLicense                       = "license"
	AuditResourceThirdPartyAddOn               = "third_party_add_on"
	AuditResourceMPNAssociation                = "mpn_association"
	AuditResourceTransfer                      = "transfer"
	AuditResourceApplication                   = "application"
	AuditResourceApplicationCredential         = "application_credential"
	AuditResourcePartnerUser                   = "partner_user"
	AuditResourcePartnerRelationship           = "partner_relationship"
	AuditResourcePartnerCustomerDAP            = "partner_customer_dap"
	AuditResourceCustomerDirectoryRole         = "customer_directory_role"
	AuditResourceReferral                      = "referral"
	AuditResourceSoftwareKey                   = "software_key"
	AuditResourceSoftwareDownloadLink          = "software_download_link"
	AuditResourceSpendingLimit                 = "spending_limit"
	AuditResourceInvoice                       = "invoice"
	AuditResourceAgreement                     = "agreement"
	AuditResourcePartnerCustomerRelationship   = "partner_customer_relationship"
	AuditResourceSelfServePolicy               = "self_serve_policy"
	AuditResourceGranularAdminRelationship     = "granular_admin_relationship"
	AuditResourceGranularAdminAccessAssignment = "granular_admin_access_assignment"
	AuditResourceCredit                        = "credit"
	AuditResourceSoftwarePage                  = "software_page"
	AuditResourceDevice                        = "device"
	AuditResourcePolicy                        = "policy"
)

// Operation types (operationType), as auditing-resources lists them.
const (
	AuditOperationUpdateCustomerQualification                   = "update_customer_qualification"
	AuditOperationUpdateSubscription                            = "update_subscription"
	AuditOperationUpgradeSubscription                           = "upgrade_subscription"
	AuditOperationConvertTrialSubscription                      = "convert_trial_subscription"
	AuditOperationAddCustomer                                   = "add_customer"
	AuditOperationUpdateCustomerBillingProfile                  = "update_customer_billing_profile"
	AuditOperationUpdateCustomerPartnerContractCompanyName      = "update_customer_partner_contract_company_name"
	AuditOperationUpdateCustomerSpendingBudget                  = "update_customer_spending_budget"
	AuditOperationDeleteCustomer                                = "delete_customer"
	AuditOperationRemovePartnerCustomerRelationship             = "remove_partner_customer_relationship"
	AuditOperationCreateOrder                                   = "create_order"
	AuditOperationUpdateOrder                                   = "update_order"
	AuditOperationCreateCustomerUser                            = "create_customer_user"
	AuditOperationDeleteCustomerUser                            = "delete_customer_user"
	AuditOperationUpdateCustomerUser                            = "update_customer_user"
	AuditOperationUpdateCustomerUserLicenses                    = "update_customer_user_licenses"
	AuditOperationResetCustomerUserPassword                     = "reset_customer_user_password"
	AuditOperationUpdateCustomerUserPrincipalName               = "update_customer_user_principal_name"
	AuditOperationRestoreCustomerUser                           = "restore_customer_user"
	AuditOperationCreateMPNAssociation                          = "create_mpn_association"
	AuditOperationUpdateMPNAssociation                          = "update_mpn_association"
	AuditOperationUpdateSfBCustomerUserLicenses                 = "update_sfb_customer_user_licenses"
	AuditOperationUpdateTransfer                                = "update_transfer"
	AuditOperationCreatePartnerRelationship                     = "create_partner_relationship"
	AuditOperationRegisterApplication                           = "register_application"
	AuditOperationUnregisterApplication                         = "unregister_application"
	AuditOperationAddApplicationCredential                      = "add_application_credential"
	AuditOperationRemoveApplicationCredential                   = "remove_application_credential"
	AuditOperationCreatePartnerUser                             = "create_partner_user"
	AuditOperationUpdatePartnerUser                             = "update_partner_user"
	AuditOperationRemovePartnerUser                             = "remove_partner_user"
	AuditOperationCreateSelfServePolicy                         = "create_self_serve_policy"
	AuditOperationUpdateSelfServePolicy                         = "update_self_serve_policy"
	AuditOperationDeleteSelfServePolicy                         = "delete_self_serve_policy"
	AuditOperationRemovePartnerRelationship                     = "remove_partner_relationship"
	AuditOperationDeleteTIPCustomer                             = "delete_tip_customer"
	AuditOperationCreateRelatedReferral                         = "create_related_referral"
	AuditOperationUpdateRelatedReferral                         = "update_related_referral"
	AuditOperationCreateReferral                                = "create_referral"
	AuditOperationUpdateReferral                                = "update_referral"
	AuditOperationGetSoftwareKey                                = "get_software_key"
	AuditOperationGetSoftwareDownloadLink                       = "get_software_download_link"
	AuditOperationIncreaseSpendingLimit                         = "increase_spending_limit"
	AuditOperationReadyInvoice                                  = "ready_invoice"
	AuditOperationCreateAgreement                               = "create_agreement"
	AuditOperationExtendRelationship                            = "extend_relationship"
	AuditOperationCreateTransfer                                = "create_transfer"
	AuditOperationDAPAdminRelationshipApproved                  = "dap_admin_relationship_approved"
	AuditOperationDAPAdminRelationshipTerminated                = "dap_admin_relationship_terminated"
	AuditOperationAddUserMember                                 = "add_user_member"
	AuditOperationRemoveUserMember                              = "remove_user_member"
	AuditOperationGranularAdminRelationshipApproved             = "granular_admin_relationship_approved"
	AuditOperationGranularAdminRelationshipActivated            = "granular_admin_relationship_activated"
	AuditOperationGranularAdminRelationshipTerminationRequested = "granular_admin_relationship_termination_requested"
	AuditOperationGranularAdminRelationshipTerminated           = "granular_admin_relationship_terminated"
	AuditOperationGranularAdminRelationshipExpired              = "granular_admin_relationship_expired"
	AuditOperationGranularAdminAccessAssignmentCreated          = "granular_admin_access_assignment_created"
	AuditOperationGranularAdminAccessAssignmentUpdated          = "granular_admin_access_assignment_updated"
	AuditOperationGranularAdminAccessAssignmentDeleted          = "granular_admin_access_assignment_deleted"
	AuditOperationCreateCredit                                  = "create_credit"
	AuditOperationUpdateCredit                                  = "update_credit"
	AuditOperationCancelCredit                                  = "cancel_credit"
	AuditOperationGranularAdminAccessAssignmentActivated        = "granular_admin_access_assignment_activated"
	AuditOperationSoftwareAttestation                           = "software_attestation"
	AuditOperationGranularAdminRelationshipCleanedUp            = "granular_admin_relationship_cleaned_up"
	AuditOperationUpdateCompanyInfo                             = "update_company_info"
	AuditOperationPolicyCreated                                 = "policy_created"
	AuditOperationPolicyUpdated                                 = "policy_updated"
	AuditOperationPolicyDeleted                                 = "policy_deleted"
	AuditOperationDeviceUpdated                                 = "device_updated"
	AuditOperationDevicesUpdateAttempted                        = "devices_update_attempted"
	AuditOperationDeviceDeleted                                 = "device_deleted"
	AuditOperationDevicesUploadToNewBatchAttempted              = "devices_upload_to_new_batch_attempted"
	AuditOperationDevicesUploadToExistingBatchAttempted         = "devices_upload_to_existing_batch_attempted"
	AuditOperationManageOverage                                 = "manage_overage"
	AuditOperationDAPAdminRelationshipTerminatedByMicrosoft     = "dap_admin_relationship_terminated_by_microsoft"
	AuditOperationAzureFraudEventDetected                       = "azure_fraud_event_detected"
)

// AuditOperationResellerRelationshipAcceptedByCustomer is the operation of
// a customer accepting a reseller relationship. It is not in the table: it
// is read from the audit ID Partner Center's own example event carries
// (reseller-relationship-accepted-by-customer, AuditUri
// ..._resellerrelationshipacceptedbycustomer_638331855840159088), whose
// documented IDs otherwise join partner, customer, resource, the operation
// type without underscores and the time in ticks.
const AuditOperationResellerRelationshipAcceptedByCustomer = "reseller_relationship_accepted_by_customer"

// Operation statuses (operationStatus): succeeded, failed, or progress ("the
// operation is still in progress"); the REST reference adds decline.
const (
	AuditStatusSucceeded = "succeeded"
	AuditStatusFailed    = "failed"
	AuditStatusProgress  = "progress"
	AuditStatusDecline   = "decline"
)
