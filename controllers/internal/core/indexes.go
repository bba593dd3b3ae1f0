package core

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// Field indexes over the cache, so that a change to one object finds the
// objects that refer to it without listing everything.
const (
	IndexCustomerRef       = "spec.customerRef"
	IndexSupportPartnerRef = "spec.supportPartnerRef"
	IndexChannelPartnerRef = "spec.channel.partnerRef"
	IndexPartnerRef        = "spec.partnerRef"
	IndexProviderRef       = "spec.indirectProviderRef"
	// IndexCredentialsSecret: the name of the Secret a Partner's credentials
	// are in (spec.partnerCenter.credentialsSecretRef.name).
	IndexCredentialsSecret = "spec.partnerCenter.credentialsSecretRef.name"
	// indexTenantID: a Customer's tenant ID.
	indexTenantID = "spec.tenantID"
	// indexActivityKeys: the Partner Center IDs a subscription's changes are
	// reported under: its own (spec.subscriptionID), the one it became
	// (status.targetSubscriptionID), and its operation's order or transfer.
	indexActivityKeys = "activityKeys"
	// indexRelationshipID: a DelegatedAdminRelationship's Graph ID.
	indexRelationshipID = "status.relationshipID"
)

func RegisterIndexes(mgr ctrl.Manager) error {
	idx := mgr.GetFieldIndexer()
	ctx := context.Background()
	indexes := []struct {
		obj   client.Object
		field string
		value func(client.Object) string
	}{
		{&v1alpha1.CustomerSubscription{}, IndexCustomerRef, func(o client.Object) string { return o.(*v1alpha1.CustomerSubscription).Spec.CustomerRef }},
		{&v1alpha1.CustomerSubscription{}, IndexSupportPartnerRef, func(o client.Object) string { return o.(*v1alpha1.CustomerSubscription).Spec.SupportPartnerRef }},
		{&v1alpha1.CustomerSubscription{}, IndexChannelPartnerRef, func(o client.Object) string { return o.(*v1alpha1.CustomerSubscription).Spec.Channel.PartnerRef }},
		{&v1alpha1.CustomerSubscription{}, IndexCart, func(o client.Object) string {
			if op := o.(*v1alpha1.CustomerSubscription).Status.Operation; op != nil {
				return op.Cart
			}
			return ""
		}},
		{&v1alpha1.ResellerRelationship{}, IndexCustomerRef, func(o client.Object) string { return o.(*v1alpha1.ResellerRelationship).Spec.CustomerRef }},
		{&v1alpha1.ResellerRelationship{}, IndexPartnerRef, func(o client.Object) string { return o.(*v1alpha1.ResellerRelationship).Spec.PartnerRef }},
		{&v1alpha1.DelegatedAdminRelationship{}, IndexCustomerRef, func(o client.Object) string { return o.(*v1alpha1.DelegatedAdminRelationship).Spec.CustomerRef }},
		{&v1alpha1.DelegatedAdminRelationship{}, IndexPartnerRef, func(o client.Object) string { return o.(*v1alpha1.DelegatedAdminRelationship).Spec.PartnerRef }},
		{&v1alpha1.Customer{}, indexTenantID, func(o client.Object) string { return o.(*v1alpha1.Customer).Spec.TenantID }},
		{&v1alpha1.DelegatedAdminRelationship{}, indexRelationshipID, func(o client.Object) string { return o.(*v1alpha1.DelegatedAdminRelationship).Status.RelationshipID }},
		{&v1alpha1.Partner{}, IndexProviderRef, func(o client.Object) string { return o.(*v1alpha1.Partner).Spec.IndirectProviderRef }},
		{&v1alpha1.Partner{}, IndexCredentialsSecret, func(o client.Object) string {
			if c := o.(*v1alpha1.Partner).Spec.PartnerCenter; c != nil && c.CredentialsSecretRef != nil {
				return c.CredentialsSecretRef.Name
			}
			return ""
		}},
	}
	if err := idx.IndexField(ctx, &v1alpha1.CustomerSubscription{}, indexActivityKeys, activityKeys); err != nil {
		return fmt.Errorf("indexing CustomerSubscriptions by %s: %w", indexActivityKeys, err)
	}
	for _, i := range indexes {
		value := i.value
		if err := idx.IndexField(ctx, i.obj, i.field, func(o client.Object) []string {
			if v := value(o); v != "" {
				return []string{v}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("indexing %T by %s: %w", i.obj, i.field, err)
		}
	}
	return nil
}

// activityKeys are the values of indexActivityKeys for a CustomerSubscription.
func activityKeys(o client.Object) []string {
	sub := o.(*v1alpha1.CustomerSubscription)
	keys := []string{sub.Spec.SubscriptionID}
	if id := sub.Status.TargetSubscriptionID; id != "" && id != sub.Spec.SubscriptionID {
		keys = append(keys, id)
	}
	if op := sub.Status.Operation; op != nil && op.ExternalID != "" {
		keys = append(keys, op.ExternalID)
	}
	return keys
}

// RequestsFor lists the objects of list matching opts, as reconcile requests.
func RequestsFor(ctx context.Context, c client.Client, list client.ObjectList, opts ...client.ListOption) []reconcile.Request {
	if err := c.List(ctx, list, opts...); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing objects to requeue")
		return nil
	}
	var reqs []reconcile.Request
	_ = meta.EachListItem(list, func(o runtime.Object) error {
		if obj, ok := o.(client.Object); ok {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
		}
		return nil
	})
	return reqs
}

// IndexCart: the cart a subscription's purchase recorded (status.operation.cart).
const IndexCart = "status.operation.cart"
