// Package notify tells a customer's people what the customer must do for a
// partner (accept the reseller relationship request, approve the GDAP
// relationship, accept the Microsoft Customer Agreement), and reminds them
// until they do. It decides who is told what (Messages), checks every link
// before it goes out (CheckLink), renders the message from the partner's
// templates or the defaults (Templates), and delivers one CloudEvent per
// delivery to a partner's webhook (Webhook). It knows nothing of Kubernetes.
//
// Deliveries are exactly-once across crashes by a contract between the
// caller and the channel. The caller records the delivery, with its ID
// (Invitation.ID), in status before it sends anything, and sends the same ID
// again after a crash, a timeout or a failure, never a new one. The channel
// sees that ID as its idempotency key: the CloudEvent's id is the ID and its
// source names the partner, so a receiver that follows the CloudEvents
// specification (a producer's source and id identify an event; an event
// with the same source and id as one received is a duplicate) drops a
// re-sent event. A delivery is therefore sent at least once by the caller
// and acted on at most once by the receiver.
package notify
