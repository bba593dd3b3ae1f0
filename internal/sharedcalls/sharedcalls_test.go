package sharedcalls

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// TestReadsShared: concurrent askers of one order make one call, and a read
// within the interval makes none; after it, the order is read again.
func TestReadsShared(t *testing.T) {
	c := New()
	var calls atomic.Int32
	get := func() (*pc.Order, error) {
		calls.Add(1)
		time.Sleep(10 * time.Millisecond)
		return &pc.Order{ID: "o1"}, nil
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if o, err := c.ReadOrder("o1", time.Hour, get); err != nil || o.ID != "o1" {
				t.Errorf("ReadOrder = %v, %v", o, err)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls for 8 concurrent askers, want 1", n)
	}
	if _, err := c.ReadOrder("o1", 0, get); err != nil || calls.Load() != 2 {
		t.Errorf("a read past the interval made %d calls in all, want 2 (%v)", calls.Load(), err)
	}
}

// TestTransferJoinedWhileActive: a group's transfer is joined while the
// source partner has not answered, and no longer once it ended.
func TestTransferJoinedWhileActive(t *testing.T) {
	c := New()
	g := TransferGroup{Customer: "c", Source: "s", Target: "t", ProductType: "OnlineServicesNCE"}
	c.TransferStarted(g, "t1")
	if id, ok := c.ActiveTransfer(g); !ok || id != "t1" {
		t.Fatalf("active transfer %q, %v", id, ok)
	}
	if _, err := c.ReadTransfer(g, "t1", time.Now(), 0, func() (*pc.Transfer, error) {
		return &pc.Transfer{ID: "t1", Status: pc.TransferCompleted}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if id, ok := c.ActiveTransfer(g); ok {
		t.Errorf("a completed transfer %q is still joined", id)
	}
}

// TestForget: a read the activity log said is stale is made again at once.
func TestForget(t *testing.T) {
	c := New()
	calls := 0
	getOrder := func() (*pc.Order, error) { calls++; return &pc.Order{ID: "o1"}, nil }
	getTransfer := func() (*pc.Transfer, error) { calls++; return &pc.Transfer{ID: "t1"}, nil }
	g := TransferGroup{Customer: "c"}
	for range 2 {
		_, _ = c.ReadOrder("o1", time.Hour, getOrder)
		_, _ = c.ReadTransfer(g, "t1", time.Now(), time.Hour, getTransfer)
	}
	if calls != 2 {
		t.Fatalf("%d calls, want one per ID", calls)
	}
	c.Forget("t1", "")
	_, _ = c.ReadTransfer(g, "t1", time.Now(), time.Hour, getTransfer)
	_, _ = c.ReadOrder("o1", time.Hour, getOrder)
	if calls != 3 {
		t.Errorf("%d calls, want the forgotten transfer read again and the order not", calls)
	}
}

// TestReadCatalog: a catalog answer serves every asker within its
// interval, an error is not kept, and keys are apart.
func TestReadCatalog(t *testing.T) {
	c := New()
	calls := 0
	fail := true
	get := func() (*pc.SKU, error) {
		calls++
		if fail {
			return nil, errors.New("throttled")
		}
		return &pc.SKU{ID: "0001"}, nil
	}
	if _, err := ReadCatalog(c, "sku/a", time.Hour, get); err == nil {
		t.Fatal("the error was not returned")
	}
	fail = false
	for range 3 {
		if s, err := ReadCatalog(c, "sku/a", time.Hour, get); err != nil || s.ID != "0001" {
			t.Fatalf("ReadCatalog = %v, %v", s, err)
		}
	}
	_, _ = ReadCatalog(c, "sku/b", time.Hour, get)
	if calls != 3 {
		t.Errorf("%d calls, want 3: the failed one, one for a, one for b", calls)
	}
}
