// Command bench is make bench: it runs the real manager binary against a real
// control plane and the Partner Center simulator binary, declares N
// subscriptions in equal shares of four paths (a new Azure plan, a new
// license subscription, a partner switch, a reseller relationship only), and
// reports, as a table and as JSON, the time until all are Completed against
// the floor a bare client needs, the Partner Center calls and status writes
// per subscription, the manager's memory, and what a restarted manager does
// once everything is Completed. docs/performance.md says how to read it.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/harness"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

type options struct {
	n, perCustomer, namespaces, workers int
	lift, floor, changeFeed             bool
	tenantLimit                         int
	pollInterval, autoApprove           time.Duration
	activityLog, fallbackPoll           time.Duration
	provisioning                        time.Duration
	restartWindow, timeout              time.Duration
	managerArgs, goMemLimit             string
	dir, out                            string
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 1000, "Subscriptions, in equal shares of the four paths.")
	flag.IntVar(&o.perCustomer, "per-customer", 10, "Subscriptions per customer.")
	flag.IntVar(&o.namespaces, "namespaces", 10, "Namespaces the customers are spread over.")
	flag.IntVar(&o.workers, "workers", 8, "Customers declared at once, by the bench and by the floor's bare client.")
	flag.BoolVar(&o.lift, "lift", false, "Lift the Partner Center limit to measure the operator's own overhead: the manager runs with "+
		"--partner-center-requests-per-minute=1000000 (same workload, same tenant); the simulator never throttles.")
	flag.BoolVar(&o.floor, "floor", true, "Measure the floor first (false: skip it, for a run that looks at memory or calls only).")
	flag.IntVar(&o.tenantLimit, "tenant-limit", 500, "Partner Center's limit per partner tenant, in calls per minute, that the calls' time is computed with.")
	flag.DurationVar(&o.pollInterval, "poll-interval", 2*time.Second, "The manager's --poll-interval (make dev's).")
	flag.DurationVar(&o.autoApprove, "auto-approve-after", 3*time.Second, "The simulator's customers and source partners accept this long after a request (make dev's).")
	flag.BoolVar(&o.changeFeed, "change-feed", false, "Run the manager with Partner Center's activity log as its change feed (--activity-log-interval=-activity-log-interval, "+
		"--fallback-poll-interval=-fallback-poll-interval): objects that wait on Partner Center are woken by the log's records and poll only as a slow fallback. "+
		"Off: --activity-log-interval=0, every object polls every -poll-interval.")
	flag.DurationVar(&o.activityLog, "activity-log-interval", 2*time.Second, "With -change-feed, how often the manager reads each partner's activity log (the bench's -poll-interval).")
	flag.DurationVar(&o.fallbackPoll, "fallback-poll-interval", time.Hour, "With -change-feed, the manager's --fallback-poll-interval: how often an object that waits on Partner Center polls while the log is read.")
	flag.DurationVar(&o.provisioning, "provisioning-delay", 0, "The simulator's --provisioning-delay: orders stay pending this long after checkout (0: provisioned at checkout). The floor waits it too.")
	flag.DurationVar(&o.restartWindow, "restart-window", 2*time.Minute, "How long to count writes and Partner Center calls after restarting the manager once all are Completed.")
	flag.DurationVar(&o.timeout, "timeout", time.Hour, "How long the subscriptions may take to complete.")
	flag.StringVar(&o.managerArgs, "manager-args", "", "Further manager flags, space-separated, such as --max-concurrent-reconciles=8.")
	flag.StringVar(&o.goMemLimit, "gomemlimit", "230MiB", "The manager's GOMEMLIMIT: in a cluster it is 90% of the container's memory limit, "+
		"which config/manager sets to 256Mi; \"off\" runs it with the Go runtime's default (no limit).")
	flag.StringVar(&o.dir, "dir", filepath.Join("bin", "bench"), "Directory for binaries, state and logs (emptied first).")
	flag.StringVar(&o.out, "json", filepath.Join("bin", "bench", "report.json"), "File the JSON report is written to.")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := run(ctx, o)
	if r != nil {
		printReport(r)
		if werr := writeJSON(o.out, r); werr != nil {
			fmt.Fprintln(os.Stderr, "make bench:", werr)
		} else {
			fmt.Println("JSON report:", o.out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "make bench:", err)
		os.Exit(1)
	}
}

// Report is what one run measured.
type Report struct {
	N               int                 `json:"n"`
	Customers       int                 `json:"customers"`
	Namespaces      int                 `json:"namespaces"`
	SupportPartners int                 `json:"supportPartners"`
	Lift            bool                `json:"lift"`
	ChangeFeed      bool                `json:"changeFeed"`
	ActivityLog     string              `json:"activityLogInterval,omitempty"`
	FallbackPoll    string              `json:"fallbackPollInterval,omitempty"`
	Provisioning    string              `json:"provisioningDelay"`
	PollInterval    string              `json:"pollInterval"`
	AutoApprove     string              `json:"autoApproveAfter"`
	ManagerArgs     string              `json:"managerArgs,omitempty"`
	GoMemLimit      string              `json:"goMemLimit"`
	Expected        harness.Expected    `json:"expected"`
	Purchases       int                 `json:"purchases"` // line items Partner Center ordered: subscriptions sold
	Transfers       int                 `json:"transfers"`
	AzurePlans      int                 `json:"azurePlans"` // Azure plans bought, one per customer with Azure
	Aliases         int                 `json:"aliases"`    // Azure subscriptions created through ARM
	Completed       time.Duration       `json:"completedNanos"`
	Floor           harness.FloorReport `json:"floor"`
	FloorRatio      float64             `json:"floorRatio"`
	CallsByRoute    map[string]int      `json:"callsByRoute"`
	Calls           int                 `json:"partnerCenterCalls"`
	PollCalls       int                 `json:"pollCalls"`
	// CustomersAccepted counts the reseller requests the bench's customers
	// accepted (harness.AcceptRelationships); AcceptsFailed those it could not.
	CustomersAccepted int `json:"customersAccepted"`
	AcceptsFailed     int `json:"acceptsFailed,omitempty"`
	// Answers are the manager's Partner Center requests by operation and
	// HTTP code, as it counts them (multichannel_partnercenter_requests_total).
	Answers map[string]int `json:"managerAnswers,omitempty"`
	// RecordsApplied are the activity log's records the manager applied, by
	// change; LogReadResults its reads of the log by result.
	RecordsApplied map[string]int `json:"recordsApplied,omitempty"`
	LogReadResults map[string]int `json:"logReadResults,omitempty"`
	// LogIDsUnstored is how many record IDs of the overlap the manager's
	// stored checkpoint left out at its last write
	// (multichannel_activity_log_ids_unstored): kept in memory, they would
	// be applied once more after a restart.
	LogIDsUnstored int                  `json:"logIDsUnstored,omitempty"`
	LogReads       int                  `json:"activityLogReads"`   // GetAuditRecords pages
	AuditRecords   int                  `json:"activityLogRecords"` // records the simulator wrote meanwhile
	TokenRequests  int                  `json:"tokenRequests"`
	TenantLimit    int                  `json:"tenantLimitPerMinute"`
	LimitTime      time.Duration        `json:"callsTimeAtLimitNanos"`
	LimitRatio     float64              `json:"limitRatio"`
	Tenants        map[string]TenantRow `json:"tenants"`
	WritesByMethod map[string]int       `json:"writesByMethod"`
	StatusWrites   int                  `json:"statusWrites"`
	SubUpdates     int                  `json:"subscriptionUpdates"`
	// UpdatesByChange sorts the subscription updates by what each changed
	// (updateKind): the phase, Ready's reason, only Ready's message, the
	// operation, or other status fields.
	UpdatesByChange map[string]int `json:"subscriptionUpdatesByChange,omitempty"`
	PeakRSS         int64          `json:"peakRSSBytes"`
	HeapAtCompleted int64          `json:"heapAllocAtCompletedBytes"`
	PeakHeap        int64          `json:"peakHeapAllocBytes"`
	Restart         *RestartReport `json:"restart,omitempty"`
}

// TenantRow is one support partner tenant's counters at the simulator.
type TenantRow struct {
	Partner       string `json:"partner"`
	Requests      int    `json:"requests"`
	PeakPerMinute int    `json:"peakPerMinute"`
	EarlyRetries  int    `json:"earlyRetries"`
}

// RestartReport is what a restarted manager did once all were Completed.
type RestartReport struct {
	Window         time.Duration  `json:"windowNanos"`
	Writes         int            `json:"writes"`
	WritesByMethod map[string]int `json:"writesByMethod"`
	Calls          int            `json:"partnerCenterCalls"`
	CallsByRoute   map[string]int `json:"callsByRoute"`
	TokenRequests  int            `json:"tokenRequests"`
	SubUpdates     int            `json:"subscriptionUpdates"`
}

// pollRoutes are reads of what another party changes: the calls polling makes.
var pollRoutes = []string{"GetCustomer", "GetTransfer", "GetOrder", "GetSubscription", "ListSubscriptions"}

// logRoute is a read of a page of the activity log: the change feed's one call.
const logRoute = "GetAuditRecords"

var writeMethods = []string{"POST", "PUT", "PATCH", "DELETE"}

func run(ctx context.Context, o options) (*Report, error) {
	w := harness.Workload{N: o.n, PerCustomer: o.perCustomer, Namespaces: o.namespaces, Paths: harness.BenchPaths, Workers: o.workers}
	r := &Report{N: o.n, Customers: w.Customers(), Namespaces: o.namespaces, SupportPartners: max(1, w.SupportPartners), Lift: o.lift,
		PollInterval: o.pollInterval.String(), AutoApprove: o.autoApprove.String(), ManagerArgs: o.managerArgs, TenantLimit: o.tenantLimit,
		GoMemLimit: o.goMemLimit, ChangeFeed: o.changeFeed, Provisioning: o.provisioning.String()}
	if o.changeFeed {
		r.ActivityLog, r.FallbackPoll = o.activityLog.String(), o.fallbackPoll.String()
	}
	root, err := harness.Root()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	logf("building the manager and the simulator")
	bin, err := harness.Build(ctx, root, filepath.Join(dir, "bin"))
	if err != nil {
		return nil, err
	}
	logf("starting kube-apiserver and etcd")
	cluster, err := harness.StartCluster(ctx, root, dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = cluster.Stop() }()
	simulator, simURL, err := harness.StartSimulator(ctx, bin.Simulator, dir, harness.SimulatorOptions{AutoApproveAfter: o.autoApprove,
		ProvisioningDelay: o.provisioning, InMemory: true})
	if err != nil {
		return nil, err
	}
	defer simulator.Stop()

	if o.floor {
		logf("floor: a bare client declares and completes N=%d subscriptions (%d at once)", o.n, o.workers)
		if r.Floor, err = w.Floor(ctx, cluster.Config, simURL, harness.FloorOptions{AcceptAfter: o.autoApprove, ProvisioningDelay: o.provisioning}); err != nil {
			return r, fmt.Errorf("measuring the floor: %w", err)
		}
		logf("floor: %v", r.Floor.Duration.Round(100*time.Millisecond))
	}

	before, err := harness.Stats(simURL)
	if err != nil {
		return r, err
	}
	metricsAddr, err := harness.FreeAddress()
	if err != nil {
		return r, err
	}
	mopts := harness.ManagerOptions{PollInterval: o.pollInterval, MaxRequeue: time.Minute, MetricsAddress: metricsAddr, Args: strings.Fields(o.managerArgs),
		Env: []string{"GOMEMLIMIT=" + o.goMemLimit}}
	if o.lift {
		mopts.Args = append(mopts.Args, "--partner-center-requests-per-minute=1000000")
	}
	if o.changeFeed {
		mopts.ActivityLogInterval = o.activityLog
		mopts.Args = append(mopts.Args, "--fallback-poll-interval="+o.fallbackPoll.String())
	}
	manager := harness.NewManagerWith(bin.Manager, dir, "manager", cluster, simURL, mopts)
	metricsURL := "http://" + metricsAddr + "/metrics"

	// The workload's customers accept the operator's requests -auto-approve-after
	// after they are shown the link, recorded in the activity log as they happen.
	acceptCtx, stopAccepting := context.WithCancel(ctx)
	defer stopAccepting()
	acceptor, err := harness.AcceptRelationships(acceptCtx, cluster.Config, simURL, o.autoApprove)
	if err != nil {
		return r, err
	}

	updates := &updateCounter{}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if err := updates.start(watchCtx, cluster); err != nil {
		return r, err
	}

	if err := manager.Start(); err != nil {
		return r, err
	}
	defer manager.Stop()
	if err := harness.WaitHTTP(ctx, metricsURL, time.Minute); err != nil {
		return r, fmt.Errorf("the manager's metrics: %w\n%s", err, tail(manager.Output()))
	}
	heap := &heapSampler{url: metricsURL}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	go heap.run(sampleCtx, 2*time.Second)

	logf("operator: declaring N=%d subscriptions over %d customers in %d namespaces, %d support partner tenant(s)", o.n, r.Customers, o.namespaces, r.SupportPartners)
	start := time.Now()
	if r.Expected, err = w.Apply(ctx, cluster.Client, simURL); err != nil {
		stopSampling()
		return r, err
	}
	every := time.Second
	if o.n > 2000 {
		every = 3 * time.Second
	}
	lastLog := time.Now()
	waitErr := harness.WaitCompletedEvery(ctx, cluster.Client, r.Expected.Subscriptions, o.timeout, every, func(p harness.Progress) {
		if time.Since(lastLog) >= 30*time.Second {
			lastLog = time.Now()
			logf("after %v: %v", time.Since(start).Round(time.Second), progressString(p))
		}
	})
	r.Completed = time.Since(start)
	stopSampling()
	logf("operator: %v (%v)", r.Completed.Round(100*time.Millisecond), waitErr)

	// What the run cost, read while the manager that did it still runs.
	m, merr := harness.ScrapeMetrics(metricsURL)
	if merr == nil {
		r.WritesByMethod = map[string]int{}
		for _, method := range writeMethods {
			r.WritesByMethod[method] = int(m.Sum("rest_client_requests_total", `method="`+method+`"`))
		}
		r.StatusWrites = r.WritesByMethod["PATCH"] + r.WritesByMethod["PUT"]
		r.HeapAtCompleted = int64(m.Sum("go_memstats_heap_alloc_bytes"))
		r.Answers = map[string]int{}
		for _, sm := range m {
			if sm.Name == "multichannel_partnercenter_requests_total" {
				r.Answers[harness.LabelValue(sm.Labels, "operation")+" "+harness.LabelValue(sm.Labels, "code")] += int(sm.Value)
			}
		}
		r.LogIDsUnstored = int(m.Sum("multichannel_activity_log_ids_unstored"))
		r.RecordsApplied, r.LogReadResults = ints(m.By("multichannel_activity_records_applied_total", "change")), ints(m.By("multichannel_activity_log_reads_total", "result"))
	}
	r.PeakHeap = max(heap.peak(), r.HeapAtCompleted)
	if mem, err := harness.ProcessMemory(manager.PID()); err == nil {
		r.PeakRSS = mem.PeakRSS
	}
	r.SubUpdates = updates.count()
	r.UpdatesByChange = updates.byChange()
	var acceptErr error
	r.CustomersAccepted, r.AcceptsFailed, acceptErr = acceptor.Counts()
	if acceptErr != nil {
		logf("customers' acceptances: %d failed, the last: %v", r.AcceptsFailed, acceptErr)
	}
	after, err := harness.Stats(simURL)
	if err != nil {
		return r, err
	}
	r.Purchases, r.Transfers = after.ObjectsCreated["orderLineItem"]-before.ObjectsCreated["orderLineItem"], after.ObjectsCreated["transfer"]-before.ObjectsCreated["transfer"]
	for k, n := range after.AzurePlansBought {
		r.AzurePlans += n - before.AzurePlansBought[k]
	}
	r.Aliases = after.ARM.AliasesCreated - before.ARM.AliasesCreated
	r.CallsByRoute, r.Calls, r.PollCalls, r.TokenRequests = callsBetween(before, after)
	r.LogReads, r.AuditRecords = r.CallsByRoute[logRoute], after.AuditRecords-before.AuditRecords
	r.Tenants = map[string]TenantRow{}
	busiest := 0
	for i := range r.SupportPartners {
		t := harness.SupportPartnerTenant(i)
		a, b := after.Tenants[t], before.Tenants[t]
		row := TenantRow{Partner: harness.SupportPartnerName(i), Requests: a.Requests - b.Requests, PeakPerMinute: a.PeakPerMinute, EarlyRetries: a.EarlyRetries - b.EarlyRetries}
		r.Tenants[t] = row
		busiest = max(busiest, row.Requests)
	}
	r.LimitTime = time.Duration(float64(busiest) / float64(o.tenantLimit) * float64(time.Minute))
	if r.LimitTime > 0 {
		r.LimitRatio = float64(r.Completed) / float64(r.LimitTime)
	}
	if r.Floor.Duration > 0 {
		r.FloorRatio = float64(r.Completed) / float64(r.Floor.Duration)
	}
	if waitErr != nil {
		return r, fmt.Errorf("%w\n%s", waitErr, tail(manager.Output()))
	}
	if merr != nil {
		return r, fmt.Errorf("reading the manager's metrics: %w", merr)
	}

	logf("restart: the manager is restarted; counting its writes and Partner Center calls for %v", o.restartWindow)
	manager.Stop()
	restartBefore, err := harness.Stats(simURL)
	if err != nil {
		return r, err
	}
	updatesBefore := updates.count()
	restarted := harness.NewManagerWith(bin.Manager, dir, "manager-restarted", cluster, simURL, mopts)
	if err := restarted.Start(); err != nil {
		return r, err
	}
	defer restarted.Stop()
	if err := harness.WaitHTTP(ctx, metricsURL, time.Minute); err != nil {
		return r, fmt.Errorf("the restarted manager's metrics: %w\n%s", err, tail(restarted.Output()))
	}
	select {
	case <-ctx.Done():
		return r, ctx.Err()
	case <-time.After(o.restartWindow):
	}
	m, err = harness.ScrapeMetrics(metricsURL)
	if err != nil {
		return r, err
	}
	restartAfter, err := harness.Stats(simURL)
	if err != nil {
		return r, err
	}
	rr := &RestartReport{Window: o.restartWindow, WritesByMethod: map[string]int{}, SubUpdates: updates.count() - updatesBefore}
	for _, method := range writeMethods {
		rr.WritesByMethod[method] = int(m.Sum("rest_client_requests_total", `method="`+method+`"`))
		rr.Writes += rr.WritesByMethod[method]
	}
	rr.CallsByRoute, rr.Calls, _, rr.TokenRequests = callsBetween(restartBefore, restartAfter)
	r.Restart = rr
	return r, nil
}

// callsBetween is the Partner Center calls between two readings of the
// simulator's counters: by route, in all, those that poll, and the token
// requests (Entra ID, not Partner Center).
func callsBetween(before, after sim.Stats) (byRoute map[string]int, calls, polls, tokens int) {
	byRoute = map[string]int{}
	for route, n := range after.RequestsByRoute {
		d := n - before.RequestsByRoute[route]
		if d == 0 {
			continue
		}
		if route == "Token" {
			tokens = d
			continue
		}
		byRoute[route] = d
		calls += d
		if slices.Contains(pollRoutes, route) {
			polls += d
		}
	}
	return byRoute, calls, polls, tokens
}

// updateCounter counts the changes to CustomerSubscriptions in the
// workload's namespaces that a watch sees, and sorts them by what changed.
type updateCounter struct {
	mu     sync.Mutex
	n      int
	last   map[types.UID]*v1alpha1.CustomerSubscription
	byKind map[string]int
}

func (u *updateCounter) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.n
}

func (u *updateCounter) byChange() map[string]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return maps.Clone(u.byKind)
}

func (u *updateCounter) seen(ev watch.Event, sub *v1alpha1.CustomerSubscription) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.last == nil {
		u.last, u.byKind = map[types.UID]*v1alpha1.CustomerSubscription{}, map[string]int{}
	}
	before := u.last[sub.UID]
	u.last[sub.UID] = sub
	switch ev.Type {
	case watch.Deleted:
		delete(u.last, sub.UID)
		return
	case watch.Modified:
	default:
		return
	}
	u.n++
	if before == nil {
		u.byKind["first seen by the watch"]++ // resumed after its creation: what changed is unknown
		return
	}
	u.byKind[updateKind(before, sub)]++
}

// updateKind names what an update changed, the first of: the phase (from
// and to), Ready's reason (from and to), only Ready's message (its
// reason), the operation, or the other status fields that changed.
func updateKind(before, after *v1alpha1.CustomerSubscription) string {
	b, a := before.Status, after.Status
	if b.Phase != a.Phase {
		return fmt.Sprintf("phase %s -> %s", orNone(string(b.Phase)), orNone(string(a.Phase)))
	}
	rb, ra := meta.FindStatusCondition(b.Conditions, v1alpha1.ConditionReady), meta.FindStatusCondition(a.Conditions, v1alpha1.ConditionReady)
	reason := func(c *metav1.Condition) string {
		if c == nil {
			return "none"
		}
		return c.Reason
	}
	if reason(rb) != reason(ra) {
		return fmt.Sprintf("ready %s -> %s", reason(rb), reason(ra))
	}
	if rb != nil && ra != nil && rb.Message != ra.Message {
		return "ready message only (" + ra.Reason + ")"
	}
	if !equality.Semantic.DeepEqual(b.Operation, a.Operation) {
		return "operation only"
	}
	var fields []string
	bj, _ := json.Marshal(b)
	aj, _ := json.Marshal(a)
	var bm, am map[string]json.RawMessage
	_ = json.Unmarshal(bj, &bm)
	_ = json.Unmarshal(aj, &am)
	for k := range mergeKeys(bm, am) {
		if string(bm[k]) != string(am[k]) {
			fields = append(fields, k)
		}
	}
	if len(fields) == 0 {
		return "metadata only"
	}
	slices.Sort(fields)
	return "other: " + strings.Join(fields, ",")
}

func mergeKeys(a, b map[string]json.RawMessage) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (u *updateCounter) start(ctx context.Context, cluster *harness.Cluster) error {
	c, err := client.NewWithWatch(cluster.Config, client.Options{Scheme: harness.Scheme()})
	if err != nil {
		return err
	}
	go func() {
		rv := "" // where the last watch ended; a new one resumes there
		for ctx.Err() == nil {
			wi, err := c.Watch(ctx, &v1alpha1.CustomerSubscriptionList{}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
			if err != nil {
				time.Sleep(time.Second)
				continue
			}
			for ev := range wi.ResultChan() {
				if ev.Type == watch.Error {
					rv = "" // too old: start again from now (a few updates may go uncounted)
					break
				}
				sub, ok := ev.Object.(*v1alpha1.CustomerSubscription)
				if !ok {
					continue
				}
				rv = sub.ResourceVersion
				if strings.HasPrefix(sub.Namespace, "customers-") {
					u.seen(ev, sub)
				}
			}
			wi.Stop()
		}
	}()
	return nil
}

// heapSampler keeps the highest go_memstats_heap_alloc_bytes the manager reported.
type heapSampler struct {
	url string
	mu  sync.Mutex
	max int64
}

func (h *heapSampler) peak() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.max
}

func (h *heapSampler) run(ctx context.Context, every time.Duration) {
	for {
		if m, err := harness.ScrapeMetrics(h.url); err == nil {
			h.mu.Lock()
			h.max = max(h.max, int64(m.Sum("go_memstats_heap_alloc_bytes")))
			h.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func progressString(p harness.Progress) string {
	var parts []string
	for phase, n := range p {
		name := string(phase)
		if name == "" {
			name = "(none)"
		}
		parts = append(parts, fmt.Sprintf("%s=%d", name, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func tail(s string) string {
	if len(s) > 3000 {
		s = "..." + s[len(s)-3000:]
	}
	return s
}

func writeJSON(path string, r *Report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func perSub(n int, subs int) string {
	if subs == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(n)/float64(subs))
}

func printReport(r *Report) {
	n := r.Expected.Subscriptions
	if n == 0 {
		n = r.N
	}
	mode := "tenant limit (one support partner tenant)"
	if r.Lift {
		mode = "limit lifted (--partner-center-requests-per-minute=1000000)"
	}
	feed := "polling (no activity log)"
	if r.ChangeFeed {
		feed = fmt.Sprintf("change feed (activity log every %s, fallback poll %s)", r.ActivityLog, r.FallbackPoll)
	}
	fmt.Printf("\nmake bench: N=%d, %d customers, %d namespaces; %s; %s; poll %s, auto-accept %s, provisioning %s; GOMEMLIMIT %s\n\n",
		r.N, r.Customers, r.Namespaces, mode, feed, r.PollInterval, r.AutoApprove, r.Provisioning, r.GoMemLimit)
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	row := func(name, value, per string) { fmt.Fprintf(w, "%s\t%s\t%s\n", name, value, per) }
	row("MEASURE", "VALUE", "PER SUBSCRIPTION")
	row("time to all Completed", r.Completed.Round(100*time.Millisecond).String(), "-")
	if r.Floor.Duration > 0 {
		row(fmt.Sprintf("floor (bare client, %d workers)", r.Floor.Workers), r.Floor.Duration.Round(100*time.Millisecond).String(), "-")
		row("  ratio to the floor", fmt.Sprintf("%.2fx", r.FloorRatio), "-")
		row("  floor's waits: acceptance / provisioning", fmt.Sprintf("%v / %v", r.Floor.AcceptAfter, r.Floor.ProvisioningDelay), "-")
		row("  floor's writes / PC calls / ARM PUTs", fmt.Sprintf("%d / %d / %d", r.Floor.KubeWrites, r.Floor.PartnerCenterCalls, r.Floor.ARMCalls),
			perSub(int(r.Floor.KubeWrites), n)+" / "+perSub(int(r.Floor.PartnerCenterCalls), n)+" / "+perSub(int(r.Floor.ARMCalls), n))
	} else {
		row("floor", "not measured (-floor=false)", "-")
	}
	row("Partner Center calls", fmt.Sprint(r.Calls), perSub(r.Calls, n))
	row("  besides polls", fmt.Sprint(r.Calls-r.PollCalls), perSub(r.Calls-r.PollCalls, n))
	routes := make([]string, 0, len(r.CallsByRoute))
	for route := range r.CallsByRoute {
		routes = append(routes, route)
	}
	slices.Sort(routes)
	for _, route := range routes {
		row("  "+route, fmt.Sprint(r.CallsByRoute[route]), perSub(r.CallsByRoute[route], n))
	}
	row("  token requests (Entra ID)", fmt.Sprint(r.TokenRequests), perSub(r.TokenRequests, n))
	if r.ChangeFeed {
		row("  log reads by result (manager)", sorted(r.LogReadResults), "-")
		row("  records applied by change (manager)", sorted(r.RecordsApplied), "-")
		row("  record IDs the stored checkpoint leaves out (manager)", fmt.Sprint(r.LogIDsUnstored), "-")
	}
	var refused []string
	for k, v := range r.Answers {
		if !strings.HasSuffix(k, " 200") && !strings.HasSuffix(k, " 201") {
			refused = append(refused, fmt.Sprintf("%s: %d", k, v))
		}
	}
	slices.Sort(refused)
	row("Partner Center answers other than 2xx (manager)", strings.Join(refused, ", "), "-")
	row("customers' acceptances sent by the bench", fmt.Sprint(r.CustomersAccepted), "-")
	row("activity log: pages read / records written", fmt.Sprintf("%d / %d", r.LogReads, r.AuditRecords), "-")
	row(fmt.Sprintf("calls' time at %d/min per tenant", r.TenantLimit), r.LimitTime.Round(100*time.Millisecond).String(), "-")
	row("  ratio to it", fmt.Sprintf("%.2fx", r.LimitRatio), "-")
	row("manager's PATCH+PUT requests", fmt.Sprint(r.StatusWrites), perSub(r.StatusWrites, n))
	row("  all its writes (POST/PUT/PATCH/DELETE)", fmt.Sprint(sum(r.WritesByMethod)), perSub(sum(r.WritesByMethod), n))
	row("subscription updates (watch)", fmt.Sprint(r.SubUpdates), perSub(r.SubUpdates, n))
	kinds := slices.Collect(maps.Keys(r.UpdatesByChange))
	slices.SortFunc(kinds, func(a, b string) int {
		return cmp.Or(cmp.Compare(r.UpdatesByChange[b], r.UpdatesByChange[a]), cmp.Compare(a, b))
	})
	for i, k := range kinds {
		if i == 12 {
			row("    (the others: see the JSON report)", "", "")
			break
		}
		row("    "+k, fmt.Sprint(r.UpdatesByChange[k]), perSub(r.UpdatesByChange[k], n))
	}
	row("manager peak RSS (VmHWM)", mib(r.PeakRSS), fmt.Sprintf("%.1f KiB", float64(r.PeakRSS)/1024/float64(n)))
	row("manager Go heap at Completed", mib(r.HeapAtCompleted), fmt.Sprintf("%.1f KiB", float64(r.HeapAtCompleted)/1024/float64(n)))
	row("manager peak Go heap (2 s samples)", mib(r.PeakHeap), fmt.Sprintf("%.1f KiB", float64(r.PeakHeap)/1024/float64(n)))
	row("subscriptions bought / transfers created", fmt.Sprintf("%d/%d / %d/%d", r.Purchases, r.Expected.Purchases, r.Transfers, r.Expected.Transfers), "-")
	row("  Azure plans bought / Azure subscriptions through ARM", fmt.Sprintf("%d/%d / %d", r.AzurePlans, r.Expected.AzurePlans, r.Aliases), "-")
	if rr := r.Restart; rr != nil {
		row(fmt.Sprintf("after a restart, %v: writes", rr.Window), fmt.Sprintf("%d %v", rr.Writes, rr.WritesByMethod), "-")
		row("  Partner Center calls", fmt.Sprintf("%d %v", rr.Calls, rr.CallsByRoute), "-")
		row("  token requests", fmt.Sprint(rr.TokenRequests), "-")
		row("  subscription updates (watch)", fmt.Sprint(rr.SubUpdates), "-")
	}
	_ = w.Flush()
	if len(r.Tenants) > 0 && len(r.Tenants) <= 10 {
		fmt.Println()
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PARTNER\tTENANT\tREQUESTS\tPEAK PER MINUTE\tEARLY RETRIES")
		for t, row := range r.Tenants {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", row.Partner, t, row.Requests, row.PeakPerMinute, row.EarlyRetries)
		}
		_ = tw.Flush()
	} else if len(r.Tenants) > 10 {
		peak, early := 0, 0
		for _, row := range r.Tenants {
			peak, early = max(peak, row.PeakPerMinute), early+row.EarlyRetries
		}
		fmt.Printf("\n%d support partner tenants: highest peak per minute %d, early retries %d\n", len(r.Tenants), peak, early)
	}
}

func ints(m map[string]float64) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = int(v)
	}
	return out
}

// sorted is m as "key n" pairs in key order.
func sorted(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sum(m map[string]int) int {
	t := 0
	for _, v := range m {
		t += v
	}
	return t
}
