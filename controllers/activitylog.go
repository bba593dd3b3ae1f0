package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/changefeed"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// ActivityLogReconciler follows each partner's Partner Center activity log:
// one read per interval, from the checkpoint in status.activityLog less an
// overlap, waking only the objects each new record concerns. The
// checkpoint is written before the records are applied (changefeed), so a
// crash misses none and applies none twice. While a partner's log is read,
// its objects that wait on Partner Center poll only as a slow fallback.
type ActivityLogReconciler struct {
	client.Client
	clients *core.PartnerClients
	wake    *core.Wakeups
	opts    Options
	// read reads one window of a partner's activity log.
	read func(ctx context.Context, c *pc.Client, from, to time.Time) ([]changefeed.Record, error)

	mu sync.Mutex
	// whole: each partner's last checkpoint with every ID of its overlap;
	// the status holds the newest changefeed.MaxSeen of them.
	whole map[string]changefeed.Checkpoint
}

// checkpointFor is the partner's checkpoint: the one this process stored
// last, with every ID, when the status still holds it; else the status'.
func (r *ActivityLogReconciler) checkpointFor(partner *v1alpha1.Partner) changefeed.Checkpoint {
	stored := checkpointOf(r.own(partner))
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.whole[partner.Name]; ok && c.Through.Equal(stored.Through) {
		return c
	}
	return stored
}

func (r *ActivityLogReconciler) remember(partner string, c changefeed.Checkpoint) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.whole == nil {
		r.whole = map[string]changefeed.Checkpoint{}
	}
	r.whole[partner] = c
}

// Reconcile reads the partner's activity log since its checkpoint, stores
// the new checkpoint and wakes the objects the new records concern.
func (r *ActivityLogReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	partner := &v1alpha1.Partner{}
	if err := r.Get(ctx, req.NamespacedName, partner); err != nil {
		r.wake.Unreport(ctx, r.Client, req.Name)
		activityUnstored.DeleteLabelValues(req.Name)
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !partner.DeletionTimestamp.IsZero() || !partner.HasCredentials() || partner.Spec.CSPType == v1alpha1.CSPTypeIndirectReseller {
		// Reference data, or a reseller whose provider's log holds its activity.
		r.wake.Unreport(ctx, r.Client, partner.Name)
		activityUnstored.DeleteLabelValues(partner.Name)
		return ctrl.Result{}, nil
	}
	c, err := r.clients.Get(ctx, partner)
	if err != nil {
		r.wake.Unreport(ctx, r.Client, partner.Name)
		return ctrl.Result{RequeueAfter: r.interval()}, nil // the Partner's Ready says why
	}
	// Partner Center dates its records by its own clock: the window follows
	// the wall clock, not Options.Clock (which tests move). Whole seconds:
	// the checkpoint is stored so.
	now := time.Now().Truncate(time.Second)
	checkpoint := r.checkpointFor(partner)
	from, to := checkpoint.Window(now, r.opts.ActivityLogOverlap, r.opts.ActivityLogOverlap)
	if from.Before(now.Add(-pc.AuditMaxWindow + r.opts.ActivityLogOverlap)) {
		// Not read for about a month (Partner Center answers at most 30
		// days a query): start afresh; the objects were reconciled since.
		from = now.Add(-r.opts.ActivityLogOverlap)
		activityReads.WithLabelValues(partner.Name, "restarted").Inc()
	}
	records, err := r.read(ctx, c, from, to)
	if err != nil {
		return r.readFailed(ctx, partner, err)
	}
	fresh, next := checkpoint.Advance(records, to, r.opts.ActivityLogOverlap)
	// Nothing new: the stored checkpoint still holds, and is moved only
	// when it is half an overlap old, so a quiet log writes rarely.
	if len(fresh) > 0 || now.Sub(checkpoint.Through) >= r.opts.ActivityLogOverlap/2 {
		stored, n := next.Bounded(changefeed.MaxSeen)
		if err := r.store(ctx, partner, stored, len(fresh)); err != nil {
			return ctrl.Result{}, err // nothing applied: the same window is read again
		}
		r.remember(partner.Name, next)
		activityUnstored.WithLabelValues(partner.Name).Set(float64(n))
	}
	r.wake.MarkReported(partner.Name, now)
	r.apply(ctx, partner.Name, fresh)
	return ctrl.Result{RequeueAfter: r.interval()}, nil
}

// readFailed: the partner's changes are no longer reported, so its objects
// poll at the usual interval until a read succeeds again.
func (r *ActivityLogReconciler) readFailed(ctx context.Context, partner *v1alpha1.Partner, err error) (ctrl.Result, error) {
	r.wake.Unreport(ctx, r.Client, partner.Name)
	activityReads.WithLabelValues(partner.Name, "failed").Inc()
	if d, throttled := pc.ThrottledFor(err); throttled {
		return ctrl.Result{RequeueAfter: d}, nil
	}
	return ctrl.Result{}, fmt.Errorf("reading partner %s's activity log: %w", partner.Name, err)
}

// store writes the checkpoint: only status.activityLog, and only over the
// version read, so two managers cannot both move it.
func (r *ActivityLogReconciler) store(ctx context.Context, partner *v1alpha1.Partner, next changefeed.Checkpoint, applied int) error {
	before := partner.DeepCopy()
	st := v1alpha1.ActivityLogStatus{Shard: r.opts.Shard, ReadThrough: metav1.NewTime(next.Through), RecentRecords: next.Seen}
	if old := r.own(partner); old != nil {
		st.RecordsApplied = old.RecordsApplied
		*old = st
	} else {
		partner.Status.ActivityLogs = append(partner.Status.ActivityLogs, st)
	}
	r.own(partner).RecordsApplied += int64(applied)
	return r.Status().Patch(ctx, partner, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
}

// apply wakes the objects each fresh record concerns.
func (r *ActivityLogReconciler) apply(ctx context.Context, partner string, fresh []changefeed.Record) {
	activityReads.WithLabelValues(partner, "read").Inc()
	for _, rec := range fresh {
		woken := r.wake.Wake(ctx, r.Client, rec)
		activityRecords.WithLabelValues(partner, rec.Change).Inc()
		ctrl.LoggerFrom(ctx).V(1).Info("activity record applied", "record", rec.ID, "change", rec.Change, "customer", rec.Customer, "woken", woken)
	}
}

func (r *ActivityLogReconciler) interval() time.Duration {
	return wait.Jitter(r.opts.ActivityLogInterval, 0.1)
}

// own is this shard's entry of partner's status.activityLogs, or nil.
func (r *ActivityLogReconciler) own(partner *v1alpha1.Partner) *v1alpha1.ActivityLogStatus {
	for i := range partner.Status.ActivityLogs {
		if partner.Status.ActivityLogs[i].Shard == r.opts.Shard {
			return &partner.Status.ActivityLogs[i]
		}
	}
	return nil
}

func checkpointOf(st *v1alpha1.ActivityLogStatus) changefeed.Checkpoint {
	if st == nil {
		return changefeed.Checkpoint{}
	}
	return changefeed.Checkpoint{Through: st.ReadThrough.Time, Seen: st.RecentRecords}
}

// SetupWithManager registers the reconciler, under its own name, for Partners.
func (r *ActivityLogReconciler) SetupWithManager(mgr ctrl.Manager, opts Options) error {
	r.Client = mgr.GetClient()
	r.opts = opts
	return ctrl.NewControllerManagedBy(mgr).
		Named("activitylog").
		For(&v1alpha1.Partner{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})). // not its own status writes
		WithOptions(opts.ControllerOptions()).
		Complete(r)
}
