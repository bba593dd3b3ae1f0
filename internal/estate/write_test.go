package estate

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

func withLicense(ce CustomerEstate, id string) CustomerEstate {
	end := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	ce.Subscriptions = append(ce.Subscriptions, pc.Subscription{ID: id, OfferID: "CFQ7TTC0LFLX:0001", OfferName: "E3", Quantity: 1,
		Status: pc.SubscriptionActive, BillingType: pc.BillingLicense, CommitmentEndDate: &end})
	return ce
}

func write(t *testing.T, dir string, dry bool, cs ...CustomerEstate) (*WriteReport, string) {
	t.Helper()
	var out bytes.Buffer
	rep, err := Write(build(t, cs...), partner(), WriteOptions{Dir: dir, DryRun: dry, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	return rep, out.String()
}

func read(t *testing.T, dir, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestWriteKeepsOthersAndRemovesItsOwn: a customer imported alone later
// joins the customers already written; a file the import wrote and the
// estate no longer has is removed; a file someone else wrote is left
// alone and out of the kustomization.
func TestWriteKeepsOthersAndRemovesItsOwn(t *testing.T) {
	dir := t.TempDir()
	first := withLicense(withLicense(woodgrove("woodgrove.onmicrosoft.com", customer), "sub-a"), "sub-b")
	if rep, _ := write(t, dir, false, first); len(rep.New) != 8 || len(rep.Changed)+len(rep.Unchanged)+len(rep.Removed) != 0 {
		t.Fatalf("first write: %+v", rep)
	}
	mine := filepath.Join(dir, "customers", "woodgrove", "approvalpolicy.yaml")
	if err := os.WriteFile(mine, []byte("kind: ApprovalPolicy\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, _ := write(t, dir, false, withLicense(woodgrove("adatum.onmicrosoft.com", fabrikam), "sub-c"))
	if got := read(t, dir, "customers/kustomization.yaml"); !strings.Contains(got, "- adatum\n- woodgrove\n") {
		t.Errorf("customers/kustomization.yaml after importing adatum alone:\n%s", got)
	}
	if len(rep.Removed) != 0 || len(rep.Left) != 0 {
		t.Errorf("importing another customer touched woodgrove: %+v", rep)
	}
	rep, _ = write(t, dir, false, withLicense(woodgrove("woodgrove.onmicrosoft.com", customer), "sub-a"))
	gone := "customers/woodgrove/customersubscription-e3-sub-b.yaml"
	if !slices.Equal(rep.Removed, []string{gone}) || !slices.Equal(rep.Left, []string{"customers/woodgrove/approvalpolicy.yaml"}) ||
		!slices.Equal(rep.Changed, []string{"customers/woodgrove/kustomization.yaml"}) {
		t.Errorf("after sub-b ended: %+v", rep)
	}
	if _, err := os.Stat(mine); err != nil || strings.Contains(read(t, dir, "customers/woodgrove/kustomization.yaml"), "approvalpolicy") {
		t.Errorf("someone else's file: %v", err)
	}
}

// TestDryRunWritesNothing: --dry-run prints each file with what would
// happen to it, and leaves the directory as it was.
func TestDryRunWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	ce := withLicense(woodgrove("woodgrove.onmicrosoft.com", customer), "sub-a")
	rep, out := write(t, dir, true, ce)
	if _, err := os.Stat(dir); err == nil || len(rep.New) != 7 || !strings.Contains(out, "# would write customers/woodgrove/customersubscription-e3-sub-a.yaml\n"+HeaderPrefix) {
		t.Fatalf("a dry run over nothing: %+v\n%s", rep, out)
	}
	write(t, dir, false, ce)
	rep, out = write(t, dir, true, withLicense(woodgrove("woodgrove.onmicrosoft.com", customer), "sub-b"))
	if !strings.Contains(out, "# would remove customers/woodgrove/customersubscription-e3-sub-a.yaml") || !strings.Contains(out, "# unchanged customers/woodgrove/namespace.yaml") ||
		len(rep.Removed) != 1 {
		t.Errorf("a dry run over a change: %+v\n%s", rep, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "customers/woodgrove/customersubscription-e3-sub-a.yaml")); err != nil {
		t.Errorf("the dry run removed a file: %v", err)
	}
}
