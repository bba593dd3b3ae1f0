package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/partnerops/multichannel-operator/internal/changefeed"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// readActivity reads one window of a partner's activity log and reduces
// each record to what it concerns (pc.AuditRecord.Concerns).
func readActivity(ctx context.Context, c *pc.Client, from, to time.Time) ([]changefeed.Record, error) {
	records, err := c.AuditRecords(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]changefeed.Record, 0, len(records))
	for _, r := range records {
		rec := changeOf(recordKey(r.ID), r.OperationDate, r.Concerns())
		rec.By = r.UserPrincipalName
		if rec.By == "" {
			rec.By = r.ApplicationID
		}
		// What the operator did itself it learnt from Partner Center's answer.
		rec.Quiet = rec.Quiet || (r.ApplicationID != "" && strings.EqualFold(r.ApplicationID, c.ClientID()))
		out = append(out, rec)
	}
	return out, nil
}

// recordKey is how a checkpoint remembers a record: the first 16
// hexadecimal digits of the SHA-256 of its ID.
func recordKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:8])
}

// changeOf is the change feed's record of what an audit record or a
// webhook's event concerns.
func changeOf(id string, at time.Time, c pc.Concern) changefeed.Record {
	return changefeed.Record{
		ID: id, At: at, Customer: c.CustomerTenantID, Subscriptions: c.SubscriptionIDs,
		Transfer: c.TransferID, Order: c.OrderID, Relationship: c.GDAPRelationshipID, Change: string(c.Change),
		Quiet: quietChanges[c.Change],
	}
}

// quietChanges wake nothing: the operator learns of what it creates from
// Partner Center's answer, and the others change nothing it follows.
var quietChanges = map[pc.Change]bool{
	pc.ChangeNone: true, pc.ChangeOrderCreated: true, pc.ChangeTransferCreated: true, pc.ChangeCustomerAdded: true,
}
