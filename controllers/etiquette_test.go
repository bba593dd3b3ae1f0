package controllers_test

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// TestPollOncePerInterval: a relationship waiting for the customer asks
// Partner Center once per poll interval (an hour here), however many watch
// events wake it meanwhile.
func TestPollOncePerInterval(t *testing.T) {
	h := start(t, withPollInterval(time.Hour))
	contoso := h.contoso()
	h.customer("woodgrove")
	h.subscription("m365", licenseFromEA("woodgrove", contoso.Name))
	rr := h.waitRelationship("woodgrove-"+contoso.Name, v1alpha1.RelationshipRequested)
	getCustomer := func() int { return h.sim.Stats().RequestsByRoute["GetCustomer"] }
	h.eventually("the relationship asked Partner Center once", func() error {
		if n := getCustomer(); n != 1 {
			return errf("GetCustomer %d times", n)
		}
		return nil
	})

	for i := range 20 {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{"example.com/wake":"%d"}}}`, i)
		if err := k8sClient.Patch(h.ctx, rr, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
			t.Fatal(err)
		}
	}
	h.consistently("20 wake-ups ask Partner Center nothing more", 2*time.Second, func() error {
		if n := getCustomer(); n != 1 {
			return errf("GetCustomer %d times", n)
		}
		return nil
	})
}
