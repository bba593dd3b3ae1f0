package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ContactRole is what a customer's contact may do in the customer's tenant,
// which decides what the operator asks of them.
// +kubebuilder:validation:Enum=GlobalAdmin;Billing;Technical
type ContactRole string

// Contact roles.
const (
	// ContactGlobalAdmin is a Global Administrator of the customer's tenant:
	// the one role that can accept a reseller relationship request and
	// approve a GDAP relationship.
	ContactGlobalAdmin ContactRole = "GlobalAdmin"
	// ContactBilling is a Billing administrator of the customer's tenant,
	// who can accept the Microsoft Customer Agreement.
	ContactBilling ContactRole = "Billing"
	// ContactTechnical is told nothing the operator sends: nothing it asks
	// for can be done by this role alone. Listed for the partner's records.
	ContactTechnical ContactRole = "Technical"
)

// CustomerContact is one of the customer's people the operator sends
// invitations and reminders to. Keep it to what is needed to reach them:
// the manifest is usually in Git.
type CustomerContact struct {
	// name is how the messages address the person.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Name string `json:"name"`

	// email is the person's email address (a plain address, such as
	// ada@woodgrove.example: no display name, no quoted or commented parts).
	// +required
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`
	Email string `json:"email"`

	// roles are the person's roles in the customer's tenant: GlobalAdmin
	// (accepts reseller relationship requests and approves GDAP
	// relationships; can also accept the Microsoft Customer Agreement),
	// Billing (accepts the Microsoft Customer Agreement), Technical (sent
	// nothing: listed for the partner's records).
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=3
	Roles []ContactRole `json:"roles"`
}

// DeliveryChannel is how the operator reaches a customer's contacts.
type DeliveryChannel string

// Delivery channels.
const (
	// ChannelMail sends email through Microsoft Graph sendMail.
	ChannelMail DeliveryChannel = "Mail"
	// ChannelWebhook posts a CloudEvent to the partner's webhook.
	ChannelWebhook DeliveryChannel = "Webhook"
)

// Delivery says how the operator delivers what a customer must act on (the
// reseller request link, the GDAP approval link, the Microsoft Customer
// Agreement) to the customer's contacts, and how often it reminds them.
// +kubebuilder:validation:XValidation:rule="has(self.mail) != has(self.webhook)",message="name exactly one channel: mail or webhook"
type Delivery struct {
	// mail sends one email per contact role that can act, through Microsoft
	// Graph sendMail from a mailbox in the partner's tenant, with the
	// partner's application credentials. The application needs the Graph
	// application permission Mail.Send.
	// +optional
	Mail *MailDelivery `json:"mail,omitempty"`

	// webhook posts one CloudEvent per delivery to a ticketing, CRM or chat
	// system. The event's id is the delivery's ID: a receiver that follows
	// the CloudEvents specification sees a re-sent event as a duplicate.
	// +optional
	Webhook *WebhookDelivery `json:"webhook,omitempty"`

	// reminders says how often the customer is reminded until it acts.
	// +optional
	Reminders *ReminderPolicy `json:"reminders,omitempty"`

	// templates override the message's subject and body (the partner's
	// name, tone, language). Absent: the operator's English defaults.
	// +optional
	Templates *MessageTemplates `json:"templates,omitempty"`
}

// MailDelivery sends through Microsoft Graph from a mailbox of the partner.
type MailDelivery struct {
	// from is the address (user principal name) of the mailbox in the
	// partner's tenant the messages are sent from; they are kept in its Sent
	// Items, where the operator looks before sending again.
	// +required
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`
	From string `json:"from"`
}

// WebhookDelivery posts CloudEvents to a URL kept in a Secret.
type WebhookDelivery struct {
	// secretRef names a Secret in the operator's own namespace with key url
	// (https) and, optionally, token (sent as a bearer token).
	// +required
	SecretRef SecretReference `json:"secretRef"`
}

// ReminderPolicy is the cadence of reminders.
type ReminderPolicy struct {
	// everyHours is the time between a delivery and the next reminder while
	// the customer has not acted, in hours (default 72).
	// +optional
	// +kubebuilder:default=72
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=2160
	EveryHours *int32 `json:"everyHours,omitempty"`

	// maxReminders is how many reminders follow one invitation (default 3;
	// 0 sends the invitation only).
	// +optional
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=20
	MaxReminders *int32 `json:"maxReminders,omitempty"`

	// beforeExpiryHours makes one reminder go out this many hours before the
	// first of the requests expires, if none would otherwise (default 48; 0:
	// no such reminder).
	// +optional
	// +kubebuilder:default=48
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=2160
	BeforeExpiryHours *int32 `json:"beforeExpiryHours,omitempty"`
}

// MessageTemplates are Go templates for the message. The subject is a text
// template rendered on one line; the body an HTML template whose values are
// escaped. docs/customers.md lists the fields they can use.
type MessageTemplates struct {
	// subject is the message's subject template.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Subject string `json:"subject,omitempty"`

	// html is the message body's HTML template.
	// +optional
	// +kubebuilder:validation:MaxLength=65536
	HTML string `json:"html,omitempty"`
}

// ActionKind is something the customer must do for a partner.
type ActionKind string

// What a customer can be asked to do.
const (
	// ActionAcceptResellerRelationship: accept the partner's reseller
	// relationship request (a Global Administrator).
	ActionAcceptResellerRelationship ActionKind = "AcceptResellerRelationship"
	// ActionApproveAdminRelationship: approve the partner's GDAP
	// relationship request (a Global Administrator).
	ActionApproveAdminRelationship ActionKind = "ApproveAdminRelationship"
	// ActionAcceptCustomerAgreement: accept the Microsoft Customer Agreement
	// (a Global or Billing administrator).
	ActionAcceptCustomerAgreement ActionKind = "AcceptCustomerAgreement"
)

// DeliveryKind says whether a delivery is the invitation or a reminder.
type DeliveryKind string

// Delivery kinds.
const (
	// DeliveryInvitation is the first message for a set of actions.
	DeliveryInvitation DeliveryKind = "Invitation"
	// DeliveryReminder follows it while the customer has not acted.
	DeliveryReminder DeliveryKind = "Reminder"
)

// DeliveryResult is what became of a delivery.
type DeliveryResult string

// Delivery results.
const (
	// DeliveryRecorded: recorded for an attempt (attemptID) before it is
	// sent; whether that attempt went out is not known yet. An attempt the
	// running operator did not make itself (it restarted, or the answer was
	// lost) is in doubt: it is looked for in the channel's own record before
	// it is sent again.
	DeliveryRecorded DeliveryResult = "Recorded"
	// DeliveryDelivered: the channel accepted it.
	DeliveryDelivered DeliveryResult = "Delivered"
	// DeliveryFailed: the channel refused it and nothing went out; the
	// error says why, and it is retried.
	DeliveryFailed DeliveryResult = "Failed"
	// DeliveryCancelled: the customer acted before it was delivered, so it
	// never will be.
	DeliveryCancelled DeliveryResult = "Cancelled"
)

// InvitationAction is one thing the customer must do for the partner.
type InvitationAction struct {
	// kind is what to do.
	// +required
	Kind ActionKind `json:"kind"`

	// object is the kind and name of the object it concerns, such as
	// ResellerRelationship/contoso-csp.
	// +required
	// +kubebuilder:validation:MaxLength=320
	Object string `json:"object"`

	// url is the link the customer opens to act.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	URL string `json:"url"`

	// expiresAt is when the request expires, if it does.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
}

// DeliveryRecord is one message (or event) the operator delivered, or
// recorded before delivering it: the evidence of who was asked, and when.
type DeliveryRecord struct {
	// id is the delivery's ID, derived from the customer, the partner, the
	// invitation and the reminder number; the channel sees it as the
	// idempotency key (the mail's extended property, the CloudEvent's id).
	// +required
	// +kubebuilder:validation:MaxLength=64
	ID string `json:"id"`

	// kind is Invitation or Reminder.
	// +required
	Kind DeliveryKind `json:"kind"`

	// reminder is the reminder's number, 0 for the invitation.
	// +optional
	Reminder int32 `json:"reminder,omitempty"`

	// channel is Mail or Webhook.
	// +required
	Channel DeliveryChannel `json:"channel"`

	// to are the email addresses of the contacts it was for.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MaxLength=254
	To []string `json:"to,omitempty"`

	// actions are the requests it was for, as kind/object.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=384
	Actions []string `json:"actions,omitempty"`

	// result is Recorded, Delivered, Failed or Cancelled.
	// +required
	Result DeliveryResult `json:"result"`

	// recordedAt is when it was recorded, before it was sent.
	// +required
	RecordedAt metav1.Time `json:"recordedAt"`

	// deliveredAt is when the channel accepted it.
	// +optional
	DeliveredAt *metav1.Time `json:"deliveredAt,omitempty"`

	// messageIDs are what the channel calls it: for Mail, the keys of the
	// messages Graph accepted or Sent Items holds (the extended property
	// each message carries); for Webhook, the event's id.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MaxLength=512
	MessageIDs []string `json:"messageIDs,omitempty"`

	// attemptID identifies the operator's attempt the delivery was
	// recorded for: only the operator process that recorded it sends it
	// without first looking for it in the channel's record.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	AttemptID string `json:"attemptID,omitempty"`

	// attemptedAt is when the latest attempt was recorded.
	// +optional
	AttemptedAt *metav1.Time `json:"attemptedAt,omitempty"`

	// attempts is how many attempts were recorded.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`

	// error is the channel's last refusal.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Error string `json:"error,omitempty"`
}

// AcceptanceRecord is a request the customer acted on, as the operator saw it.
type AcceptanceRecord struct {
	// action is the kind/object of the request.
	// +required
	// +kubebuilder:validation:MaxLength=384
	Action string `json:"action"`

	// seenAt is when the operator saw it done.
	// +required
	SeenAt metav1.Time `json:"seenAt"`

	// by is who accepted, when Partner Center or the policy says so.
	// +optional
	// +kubebuilder:validation:MaxLength=320
	By string `json:"by,omitempty"`

	// reminders is how many reminders had been sent when it was seen.
	// +optional
	Reminders int32 `json:"reminders,omitempty"`
}

// CustomerInvitation is what one partner asks of the customer, and what the
// operator delivered to the customer's contacts about it.
type CustomerInvitation struct {
	// partner is the name of the Partner asking.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Partner string `json:"partner"`

	// actions are what the customer must do now for this partner.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Actions []InvitationAction `json:"actions,omitempty"`

	// round counts the invitations: a new one goes out when the actions
	// change, and reminders follow the latest.
	// +optional
	Round int32 `json:"round,omitempty"`

	// digest identifies the actions the latest invitation was for.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Digest string `json:"digest,omitempty"`

	// reminders is how many reminders followed the latest invitation.
	// +optional
	Reminders int32 `json:"reminders,omitempty"`

	// nextReminderAt is when the next reminder is due, if one is.
	// +optional
	NextReminderAt *metav1.Time `json:"nextReminderAt,omitempty"`

	// deliveries are the latest deliveries, newest first; the first is the
	// one being sent while its result is Recorded or Failed.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	Deliveries []DeliveryRecord `json:"deliveries,omitempty"`

	// accepted are the latest requests the customer acted on, newest first.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	Accepted []AcceptanceRecord `json:"accepted,omitempty"`
}

// Customer invitations (condition Invited).
const (
	// ConditionInvited (Customer): whether the customer's contacts were told
	// what the customer must do now. Absent when nothing is asked.
	ConditionInvited = "Invited"
	// ReasonDelivered: every delivery due was delivered; the message says
	// when the next reminder is due.
	ReasonDelivered = "Delivered"
	// ReasonDelivering: a delivery is recorded and being sent.
	ReasonDelivering = "Delivering"
	// ReasonDeliveryFailed: the channel refused a delivery; it is retried,
	// and the Customer is Stalled until it is delivered.
	ReasonDeliveryFailed = "DeliveryFailed"
	// ReasonNoContacts: something is asked, but spec.contacts has no one
	// whose role can do it.
	ReasonNoContacts = "NoContacts"
	// ReasonNoChannel: something is asked, but the Partner has no
	// spec.delivery: the links are in status only.
	ReasonNoChannel = "NoChannel"
	// ReasonRemindersExhausted: every reminder was sent and the customer
	// has not acted.
	ReasonRemindersExhausted = "RemindersExhausted"
)

// Event reasons of deliveries (the condition's reasons above are events too).
const (
	// ReasonInvitationRecorded: a delivery was recorded; it is sent next.
	ReasonInvitationRecorded = "InvitationRecorded"
	// ReasonInvitationDelivered: the channel accepted an invitation.
	ReasonInvitationDelivered = "InvitationDelivered"
	// ReasonReminderDelivered: the channel accepted a reminder.
	ReasonReminderDelivered = "ReminderDelivered"
	// ReasonInvitationAccepted: the customer did what it was asked.
	ReasonInvitationAccepted = "InvitationAccepted"
)
