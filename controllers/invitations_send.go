package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/graph"
	"github.com/partnerops/multichannel-operator/internal/notify"
)

// Secret keys of a Partner's spec.delivery.webhook.secretRef.
const (
	SecretKeyWebhookURL   = "url"
	SecretKeyWebhookToken = "token"
)

// invitationModel is what a delivery says: the partner's actions for the
// customer, to the contacts who can do them. For a recorded delivery it is
// the delivery's own: its ID and reminder number, and only the contacts it
// was recorded for (one removed from spec.contacts since is left out).
func (r *CustomerReconciler) invitationModel(c *v1alpha1.Customer, partner *v1alpha1.Partner, inv *v1alpha1.CustomerInvitation, rec *v1alpha1.DeliveryRecord) notify.Invitation {
	m := notify.Invitation{
		PartnerName: partner.Name, PartnerDisplayName: partner.Spec.DisplayName,
		CustomerNamespace: c.Namespace, CustomerName: c.Name, CustomerDisplayName: c.Spec.DisplayName, CustomerTenantID: c.Spec.TenantID,
	}
	if rec != nil {
		m.ID, m.Reminder, m.Time = rec.ID, int(rec.Reminder), rec.RecordedAt.Time
	}
	for _, ct := range c.Spec.Contacts {
		if rec != nil && !slices.Contains(rec.To, ct.Email) {
			continue
		}
		nc := notify.Contact{Name: ct.Name, Email: ct.Email}
		for _, role := range ct.Roles {
			nc.Roles = append(nc.Roles, notify.Role(role))
		}
		m.Contacts = append(m.Contacts, nc)
	}
	for _, a := range inv.Actions {
		na := notify.Action{Kind: notify.ActionKind(a.Kind), Object: a.Object, URL: a.URL}
		if a.ExpiresAt != nil {
			t := a.ExpiresAt.Time
			na.ExpiresAt = &t
		}
		m.Actions = append(m.Actions, na)
	}
	return m
}

// sendThrough delivers the recorded attempt through the partner's channel
// and returns what the channel calls what it took; maybeSent says whether
// a failed attempt may have gone out all the same (its answer was lost).
func (r *CustomerReconciler) sendThrough(ctx context.Context, partner *v1alpha1.Partner, inv notify.Invitation, rec *v1alpha1.DeliveryRecord) (ids []string, maybeSent bool, err error) {
	d := partner.Spec.Delivery
	templates, err := templatesOf(d)
	if err != nil {
		return rec.MessageIDs, false, fmt.Errorf("partner %s spec.delivery.templates: %w", partner.Name, err)
	}
	if d.Webhook != nil {
		hook, err := r.webhookOf(ctx, partner)
		if err != nil {
			return rec.MessageIDs, false, err
		}
		id, err := hook.Send(ctx, inv)
		if err != nil {
			return rec.MessageIDs, false, fmt.Errorf("webhook: %w", err)
		}
		return []string{id}, false, nil
	}
	return r.sendMail(ctx, partner, templates, inv, rec)
}

// sendMail sends one message per group of contacts who can do the same
// things, each under a key derived from the delivery's ID and its
// recipients, which the message carries as an extended property. A message
// Graph took in an earlier attempt (rec.MessageIDs) is not sent again; the
// attempt is this process's own, so no other sent it (resolveDoubt looks in
// Sent Items for any other).
func (r *CustomerReconciler) sendMail(ctx context.Context, partner *v1alpha1.Partner, templates *notify.Templates, inv notify.Invitation, rec *v1alpha1.DeliveryRecord) ([]string, bool, error) {
	g, from, err := r.mailbox(ctx, partner)
	if err != nil {
		return rec.MessageIDs, false, err
	}
	ids := slices.Clone(rec.MessageIDs)
	for _, m := range notify.Messages(inv) {
		key := messageKey(inv.ID, m)
		if slices.Contains(ids, key) {
			continue
		}
		subject, html, err := templates.Render(inv, m)
		if err != nil {
			return ids, false, fmt.Errorf("partner %s spec.delivery.templates: %w", partner.Name, err)
		}
		mail := graph.Mail{From: from, Subject: subject, HTMLBody: html, Key: key}
		for _, c := range m.To {
			mail.To = append(mail.To, graph.Recipient{Name: c.Name, Address: c.Email})
		}
		if err := g.SendMail(ctx, mail); err != nil {
			return ids, graph.MaybeSent(err), fmt.Errorf("mail from %s: %w", from, err)
		}
		ids = append(ids, key)
	}
	return ids, false, nil
}

// findSent looks for an attempt's messages in the mailbox's Sent Items:
// it returns the keys found or taken before, and how many are missing.
func (r *CustomerReconciler) findSent(ctx context.Context, partner *v1alpha1.Partner, inv notify.Invitation, rec *v1alpha1.DeliveryRecord) ([]string, int, error) {
	g, from, err := r.mailbox(ctx, partner)
	if err != nil {
		return rec.MessageIDs, 0, err
	}
	ids, missing := slices.Clone(rec.MessageIDs), 0
	for _, m := range notify.Messages(inv) {
		key := messageKey(inv.ID, m)
		if slices.Contains(ids, key) {
			continue
		}
		sent, err := g.FindSentMail(ctx, from, key)
		if err != nil {
			return ids, 0, fmt.Errorf("looking for message %s in the Sent Items of %s: %w", key, from, err)
		}
		if sent == nil {
			missing++
			continue
		}
		ids = append(ids, key)
	}
	return ids, missing, nil
}

// mailbox is the partner's Graph client and the mailbox it sends from.
func (r *CustomerReconciler) mailbox(ctx context.Context, partner *v1alpha1.Partner) (*graph.Client, string, error) {
	g, err := r.clients.GetGraph(ctx, partner)
	if err != nil {
		if errors.Is(err, core.ErrReferenceOnly) {
			return nil, "", fmt.Errorf("partner %s has no credentials (spec.partnerCenter): mail is sent with its application's Graph credentials", partner.Name)
		}
		return nil, "", fmt.Errorf("partner %s cannot call Microsoft Graph: %w", partner.Name, err)
	}
	return g, partner.Spec.Delivery.Mail.From, nil
}

// sentItemsGrace is how long an attempt that may have been sent is looked
// for in Sent Items before it is sent again. Microsoft documents no bound
// on the delay between sendMail's answer and the copy in Sent Items
// ("Things to know about send mail"); a message stays in Drafts until the
// transport takes it, which is usually seconds.
const sentItemsGrace = 5 * time.Minute

// messageKey is one message's idempotency key: the delivery's ID and a
// digest of its recipients.
func messageKey(id string, m notify.Message) string {
	var to []string
	for _, c := range m.To {
		to = append(to, strings.ToLower(c.Email))
	}
	slices.Sort(to)
	sum := sha256.Sum256([]byte(strings.Join(to, "\x00")))
	return id + "-" + hex.EncodeToString(sum[:4])
}

// templatesOf parses a Partner's template overrides, or gives the defaults.
func templatesOf(d *v1alpha1.Delivery) (*notify.Templates, error) {
	if d.Templates == nil {
		return notify.DefaultTemplates(), nil
	}
	return notify.ParseTemplates(d.Templates.Subject, d.Templates.HTML)
}

// webhookOf reads the partner's webhook from its Secret, in the operator's
// own namespace as credentials are; notify.Webhook checks where it points
// (https, or http to a loopback address) and follows no redirect.
func (r *CustomerReconciler) webhookOf(ctx context.Context, partner *v1alpha1.Partner) (*notify.Webhook, error) {
	ref := partner.Spec.Delivery.Webhook.SecretRef
	ns := r.clients.Namespace
	if ref.Namespace != "" && ref.Namespace != ns {
		return nil, fmt.Errorf("partner %s spec.delivery.webhook.secretRef names namespace %s, but the operator reads Secrets only in its own namespace %s",
			partner.Name, ref.Namespace, ns)
	}
	secret := &corev1.Secret{}
	if err := r.clients.Secrets.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, secret); err != nil {
		return nil, fmt.Errorf("partner %s spec.delivery.webhook.secretRef: reading Secret %s/%s: %w", partner.Name, ns, ref.Name, err)
	}
	raw := strings.TrimSpace(string(secret.Data[SecretKeyWebhookURL]))
	if raw == "" {
		return nil, fmt.Errorf("secret %s/%s has no key %s: the webhook's https URL", ns, ref.Name, SecretKeyWebhookURL)
	}
	return &notify.Webhook{URL: raw, Token: strings.TrimSpace(string(secret.Data[SecretKeyWebhookToken])),
		HTTP: &http.Client{Timeout: 30 * time.Second}}, nil
}
