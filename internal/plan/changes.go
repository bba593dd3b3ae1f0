package plan

import (
	"fmt"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/check"
)

// Changes of a subscription, against a cluster (--cluster).
const (
	// ChangeCreate: the cluster has no such CustomerSubscription.
	ChangeCreate = "Create"
	// ChangeUpdate: the cluster's spec differs from the manifest's.
	ChangeUpdate = "Update"
)

// Removed is a CustomerSubscription the cluster holds in a namespace the
// manifests cover, which they no longer declare.
type Removed struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Phase is where it was in the cluster.
	Phase string `json:"phase,omitempty"`
	Note  string `json:"note"`
}

// BuildChanges plans only what applying rows' manifests changes in a
// cluster that holds current: subscriptions it does not hold (Create) or
// holds with another spec (Update); one it holds with the same spec is left
// out, whatever its phase (the operator goes on with it as it is). Those it
// holds in the manifests' namespaces and the manifests no longer declare
// are listed as Removed: deleting them cancels nothing in Partner Center.
// ApprovalPolicy totals count only the planned subscriptions.
func BuildChanges(rows []check.Row, now time.Time, current []v1alpha1.CustomerSubscription) *Plan {
	byKey := make(map[string]*v1alpha1.CustomerSubscription, len(current))
	for i := range current {
		byKey[current[i].Namespace+"/"+current[i].Name] = &current[i]
	}
	changed := make([]check.Row, 0, len(rows))
	change := map[string]string{}
	declared := map[string]bool{}
	namespaces := map[string]bool{}
	for _, r := range rows {
		key := r.Namespace + "/" + r.Name
		declared[key], namespaces[r.Namespace] = true, true
		cur, ok := byKey[key]
		switch {
		case !ok:
			change[key] = ChangeCreate
		case !equality.Semantic.DeepEqual(cur.Spec, r.Input.Subscription.Spec):
			change[key] = ChangeUpdate
		default:
			continue
		}
		changed = append(changed, r)
	}
	p := Build(changed, now)
	p.Mode = "Cluster"
	for i := range p.Items {
		it := &p.Items[i]
		it.Change = change[it.Namespace+"/"+it.Name]
		if cur := byKey[it.Namespace+"/"+it.Name]; cur != nil {
			following(it, cur)
		}
	}
	p.Totals, p.Customers = Counts{}, nil
	p.summarize()
	for key, cur := range byKey {
		if namespaces[cur.Namespace] && !declared[key] {
			p.Removed = append(p.Removed, Removed{Namespace: cur.Namespace, Name: cur.Name, Phase: string(cur.Status.Phase),
				Note: "no longer declared: pruning deletes it, which cancels and changes nothing in Partner Center (what was bought or transferred stays)"})
		}
	}
	sort.Slice(p.Removed, func(i, j int) bool {
		a, b := p.Removed[i], p.Removed[j]
		return a.Namespace < b.Namespace || (a.Namespace == b.Namespace && a.Name < b.Name)
	})
	return p
}

// following: what the cluster's status of an updated subscription means for
// its plan. A purchase cancelled in Partner Center stays so (nothing is
// bought again); an operation Partner Center confirmed is followed to its
// end before anything the new spec asks for.
func following(it *Item, cur *v1alpha1.CustomerSubscription) {
	st := cur.Status
	switch {
	case st.Cancellation != nil && st.Cancellation.CompletedAt != nil && st.Phase == v1alpha1.PhaseCompleted:
		it.Attention, it.Steps, it.Seats, it.Purchases, it.Transfers = Nothing, nil, 0, 0, 0
		it.Message = "Its purchase was cancelled in Partner Center (status.cancellation): nothing is bought again for it; declare a new CustomerSubscription to buy anew."
	case st.Operation != nil && st.Operation.ExternalID != "" && st.Operation.CompletedAt == nil:
		it.Caveats = append(it.Caveats, fmt.Sprintf("operation %s (%s) is in flight in Partner Center (%s) and is followed to its end before the new spec's steps", st.Operation.ID, st.Operation.Type, st.Operation.ExternalID))
	}
}
