package estate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// Manifests are the objects an import writes.
type Manifests struct {
	// Namespaces hold each customer's objects, by namespace name.
	Namespaces []Namespace
	// Partners are the reference-only Partners of the CSP partners that
	// transfers under way come from, by name.
	Partners []*v1alpha1.Partner
	// Notes say what was not imported and why.
	Notes  []string
	Counts Counts
}

// Namespace is one customer's namespace and its objects: the Namespace,
// the Customer, its ResellerRelationship, CustomerSubscriptions and
// DelegatedAdminRelationships, each sorted by name.
type Namespace struct {
	Name    string
	Objects []client.Object
}

// Counts are what the manifests hold.
type Counts struct {
	Customers, Licenses, AzureSubscriptions, AzurePlans int
	Transfers, TransferLineItems, SourcePartners        int
	GDAP, AccessAssignments                             int
}

// BuildOptions say whose estate it is.
type BuildOptions struct {
	// Partner is the importing Partner, as the cluster holds it.
	Partner *v1alpha1.Partner
	// KnownPartners are the cluster's Partners: a transfer's source partner
	// among them is named by its name, and no manifest is written for it.
	KnownPartners []v1alpha1.Partner
	// OperatorNamespace is never a customer's namespace.
	OperatorNamespace string
}

var (
	tenantID    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	countryCode = regexp.MustCompile(`^[A-Z]{2}$`)
	domain      = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$`)
)

// Build turns an estate into manifests. Two customers whose namespace
// names collide are an error naming both.
func Build(e *Estate, o BuildOptions) (*Manifests, error) {
	b := &builder{o: o, m: &Manifests{Notes: slices.Clone(e.Notes)}, sources: map[string]string{}, owners: map[string]string{}}
	b.noteSelector()
	for i := range e.Customers {
		if err := b.customer(&e.Customers[i]); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(b.m.Namespaces, func(a, c Namespace) int { return strings.Compare(a.Name, c.Name) })
	slices.SortFunc(b.m.Partners, func(a, c *v1alpha1.Partner) int { return strings.Compare(a.Name, c.Name) })
	b.m.Counts.SourcePartners = len(b.sources)
	return b.m, nil
}

// builder builds one estate's manifests.
type builder struct {
	o BuildOptions
	m *Manifests
	// sources: the name of each source partner's Partner, by tenant.
	sources map[string]string
	// owners: the tenant of each namespace written, to tell collisions.
	owners map[string]string
}

func (b *builder) note(format string, args ...any) {
	b.m.Notes = append(b.m.Notes, fmt.Sprintf(format, args...))
}

// customer builds one customer's namespace; a customer that cannot be
// written as a valid Customer is a note.
func (b *builder) customer(ce *CustomerEstate) error {
	cu := &ce.Customer
	country := cu.Country()
	switch {
	case !tenantID.MatchString(cu.ID):
		b.note("customer %q: its ID is not a tenant ID; not imported", cu.ID)
		return nil
	case !countryCode.MatchString(country):
		b.note("customer %s (%s): Partner Center gives no country (ISO 3166-1 alpha-2) in its company or billing address; not imported, declare it by hand", cu.ID, cu.CompanyProfile.Domain)
		return nil
	}
	ns := NamespaceName(cu.CompanyProfile.Domain, cu.ID, b.o.OperatorNamespace)
	if other, taken := b.owners[ns]; taken {
		return fmt.Errorf("customers %s and %s would both be namespace %s: rename one by hand, or import them one at a time with --customer", other, cu.ID, ns)
	}
	b.owners[ns] = cu.ID
	objs := []client.Object{b.namespace(ns), b.customerObject(ns, cu, country), b.resellerRelationship(ns)}
	objs = append(objs, b.subscriptions(ns, ce)...)
	objs = append(objs, b.transfers(ns, ce)...)
	objs = append(objs, b.relationships(ns, ce)...)
	if err := unique(ns, objs); err != nil {
		return err
	}
	b.m.Namespaces = append(b.m.Namespaces, Namespace{Name: ns, Objects: sortObjects(objs)})
	b.m.Counts.Customers++
	return nil
}

// unique refuses two objects of one kind and name in a namespace.
func unique(ns string, objs []client.Object) error {
	seen := map[string]bool{}
	for _, o := range objs {
		key := fmt.Sprintf("%T/%s", o, o.GetName())
		if seen[key] {
			return fmt.Errorf("namespace %s: two objects would be %s; rename one by hand", ns, key)
		}
		seen[key] = true
	}
	return nil
}

// sortObjects orders a namespace's objects by kind (as written: Namespace,
// Customer, ResellerRelationship, CustomerSubscription,
// DelegatedAdminRelationship), then name.
func sortObjects(objs []client.Object) []client.Object {
	rank := func(o client.Object) int {
		return slices.Index([]string{"Namespace", "Customer", "ResellerRelationship", "CustomerSubscription", "DelegatedAdminRelationship"},
			o.GetObjectKind().GroupVersionKind().Kind)
	}
	slices.SortStableFunc(objs, func(a, c client.Object) int {
		if d := rank(a) - rank(c); d != 0 {
			return d
		}
		return strings.Compare(a.GetName(), c.GetName())
	})
	return objs
}

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: kind}
}

// namespace is the customer's Namespace, with the labels the partner's
// namespaceSelector matches, so that the partner may act there.
func (b *builder) namespace(name string) *corev1.Namespace {
	ns := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: name}}
	if sel := b.o.Partner.Spec.NamespaceSelector; sel != nil {
		for k, v := range sel.MatchLabels {
			if k == corev1.LabelMetadataName {
				continue
			}
			if ns.Labels == nil {
				ns.Labels = map[string]string{}
			}
			ns.Labels[k] = v
		}
	}
	return ns
}

// noteSelector says when the namespaces written are not selected by the
// partner's namespaceSelector as they are.
func (b *builder) noteSelector() {
	p := b.o.Partner
	sel := p.Spec.NamespaceSelector
	switch {
	case sel == nil:
		b.note("Partner %s has no spec.namespaceSelector, so no namespace may act through it: the imported objects wait (PartnerNotAllowed) until it selects their namespaces", p.Name)
	case len(sel.MatchExpressions) > 0:
		b.note("Partner %s's spec.namespaceSelector has matchExpressions, which the import does not write labels for: check that it selects the imported namespaces", p.Name)
	case sel.MatchLabels[corev1.LabelMetadataName] != "":
		b.note("Partner %s's spec.namespaceSelector selects namespace %s by name only: widen it to select the imported namespaces", p.Name, sel.MatchLabels[corev1.LabelMetadataName])
	}
}

// customerObject is the Customer as Partner Center reports it; its cloud
// is the partner's, whose Partner Center it was read from.
func (b *builder) customerObject(ns string, cu *pc.Customer, country string) *v1alpha1.Customer {
	c := &v1alpha1.Customer{TypeMeta: typeMeta("Customer"), ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ns},
		Spec: v1alpha1.CustomerSpec{DisplayName: displayNameOf(cu), TenantID: cu.ID, Cloud: cloudOf(b.o.Partner), Country: country}}
	if d := strings.ToLower(cu.CompanyProfile.Domain); domain.MatchString(d) && len(d) <= 253 {
		c.Spec.Domain = d
	}
	return c
}

// displayNameOf is the company name, else the domain, else the tenant.
func displayNameOf(cu *pc.Customer) string {
	for _, s := range []string{cu.CompanyProfile.CompanyName, cu.CompanyProfile.Domain, cu.ID} {
		if s = strings.TrimSpace(s); s != "" {
			return truncate(s, 256)
		}
	}
	return cu.ID
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// resellerRelationship is the relationship the customer already accepted,
// under the name the operator gives it.
func (b *builder) resellerRelationship(ns string) *v1alpha1.ResellerRelationship {
	p := b.o.Partner
	rr := &v1alpha1.ResellerRelationship{TypeMeta: typeMeta("ResellerRelationship"),
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: resellerRelationshipName(ns, p.Name)},
		Spec:       v1alpha1.ResellerRelationshipSpec{PartnerRef: p.Name, CustomerRef: ns}}
	if cloudOf(p) == v1alpha1.CloudUSGovernment {
		rr.Spec.DelegatedAdmin = ptr.To(true) // required there, as the operator creates it
	}
	return rr
}
