package check

import (
	"context"
	"fmt"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/crdschema"
	"github.com/partnerops/multichannel-operator/internal/eligibility"
)

// Options of an evaluation.
type Options struct {
	// Now is the time of evaluation.
	Now time.Time
	// Namespace is given to namespaced objects that name none, as kubectl apply would.
	Namespace string
	// Validator checks each object against the CRDs.
	Validator *crdschema.Validator
}

// Row is the evaluation of one subscription.
type Row struct {
	Namespace   string
	Name        string
	Customer    string
	Channel     v1alpha1.ChannelType
	ServiceType v1alpha1.ServiceType
	Target      string
	Result      eligibility.Result
	// Input is what the decision table read: the subscription and the
	// objects it names.
	Input eligibility.Input
	// Policies are the ApprovalPolicies in the subscription's namespace.
	Policies []*v1alpha1.ApprovalPolicy
}

// Evaluate validates docs and evaluates every CustomerSubscription among them.
// Objects of other groups (Secrets, Kustomizations) are passed over. Any bad
// input (a manifest the CRD would reject, a reference to an object that is not
// in the input, an object defined twice) returns every such error and no rows.
func Evaluate(ctx context.Context, docs []Document, opts Options) ([]Row, []error) {
	in := inventory{
		partners:  map[string]*entry[v1alpha1.Partner]{},
		customers: map[string]*entry[v1alpha1.Customer]{},
	}
	var errs []error
	for _, d := range docs {
		errs = append(errs, in.add(ctx, d, opts)...)
	}
	if len(errs) > 0 {
		return nil, errs
	}

	errs = append(errs, in.resolveGDAP()...)
	rows := make([]Row, 0, len(in.subscriptions))
	for _, s := range in.subscriptions {
		input, refErrs := in.resolve(s)
		if len(refErrs) > 0 {
			errs = append(errs, refErrs...)
			continue
		}
		input.Now = opts.Now
		rows = append(rows, Row{
			Namespace: s.obj.Namespace, Name: s.obj.Name,
			Customer: s.obj.Spec.CustomerRef, Channel: s.obj.Spec.Channel.Type,
			ServiceType: s.obj.Spec.ServiceType, Target: s.obj.Spec.SupportPartnerRef,
			Result: eligibility.Evaluate(input), Input: input, Policies: in.policies[s.obj.Namespace],
		})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Namespace != rows[j].Namespace {
			return rows[i].Namespace < rows[j].Namespace
		}
		return rows[i].Name < rows[j].Name
	})
	return rows, nil
}

type entry[T any] struct {
	source Source
	obj    *T
}

// inventory is the input, validated and indexed by name.
type inventory struct {
	partners      map[string]*entry[v1alpha1.Partner]  // by name (cluster-scoped)
	customers     map[string]*entry[v1alpha1.Customer] // by namespace/name
	subscriptions []*entry[v1alpha1.CustomerSubscription]
	gdaps         []*entry[v1alpha1.DelegatedAdminRelationship]
	policies      map[string][]*v1alpha1.ApprovalPolicy // by namespace, in input order
	seen          map[string]Source                     // kind/namespace/name → where first defined
}

func (in *inventory) add(ctx context.Context, d Document, opts Options) []error {
	obj := d.Object
	gvk := obj.GroupVersionKind()
	if gvk.Kind == "" || obj.GetAPIVersion() == "" {
		return []error{&InputError{Source: d.Source, Reason: "not a Kubernetes object: apiVersion and kind are required"}}
	}
	if gvk.Group != v1alpha1.GroupVersion.Group {
		return nil
	}
	if opts.Validator.Namespaced(gvk) && obj.GetNamespace() == "" {
		obj.SetNamespace(opts.Namespace)
	}
	if fieldErrs := opts.Validator.Validate(ctx, obj); len(fieldErrs) > 0 {
		errs := make([]error, 0, len(fieldErrs))
		for _, fe := range fieldErrs {
			errs = append(errs, &InputError{Source: d.Source, Kind: gvk.Kind, Name: obj.GetName(), Field: fe.Field, Reason: fe.ErrorBody()})
		}
		return errs
	}

	key := gvk.Kind + "/" + obj.GetNamespace() + "/" + obj.GetName()
	if in.seen == nil {
		in.seen = map[string]Source{}
	}
	if first, dup := in.seen[key]; dup {
		return []error{&InputError{Source: d.Source, Kind: gvk.Kind, Name: obj.GetName(), Field: "metadata.name",
			Reason: fmt.Sprintf("defined twice: also at %s", first)}}
	}
	in.seen[key] = d.Source

	var err error
	switch gvk.Kind {
	case "Partner":
		p := &v1alpha1.Partner{}
		if err = fromUnstructured(obj.Object, p, gvk); err == nil {
			in.partners[p.Name] = &entry[v1alpha1.Partner]{d.Source, p}
		}
	case "Customer":
		c := &v1alpha1.Customer{}
		if err = fromUnstructured(obj.Object, c, gvk); err == nil {
			in.customers[c.Namespace+"/"+c.Name] = &entry[v1alpha1.Customer]{d.Source, c}
		}
	case "DelegatedAdminRelationship":
		g := &v1alpha1.DelegatedAdminRelationship{}
		if err = fromUnstructured(obj.Object, g, gvk); err == nil {
			in.gdaps = append(in.gdaps, &entry[v1alpha1.DelegatedAdminRelationship]{d.Source, g})
		}
	case "ApprovalPolicy":
		p := &v1alpha1.ApprovalPolicy{}
		if err = fromUnstructured(obj.Object, p, gvk); err == nil {
			if in.policies == nil {
				in.policies = map[string][]*v1alpha1.ApprovalPolicy{}
			}
			in.policies[p.Namespace] = append(in.policies[p.Namespace], p)
		}
	case "CustomerSubscription":
		s := &v1alpha1.CustomerSubscription{}
		if err = fromUnstructured(obj.Object, s, gvk); err == nil {
			in.subscriptions = append(in.subscriptions, &entry[v1alpha1.CustomerSubscription]{d.Source, s})
		}
	}
	if err != nil {
		return []error{&InputError{Source: d.Source, Kind: gvk.Kind, Name: obj.GetName(), Reason: err.Error()}}
	}
	return nil
}

// resolve finds the objects a subscription refers to.
func (in *inventory) resolve(s *entry[v1alpha1.CustomerSubscription]) (eligibility.Input, []error) {
	sub := s.obj
	var errs []error
	missing := func(field, what string) {
		errs = append(errs, &InputError{Source: s.source, Kind: "CustomerSubscription", Name: sub.Name, Field: field, Reason: what + " is not in the input"})
	}
	input := eligibility.Input{Subscription: sub}
	if c, ok := in.customers[sub.Namespace+"/"+sub.Spec.CustomerRef]; ok {
		input.Customer = c.obj
	} else {
		missing("spec.customerRef", fmt.Sprintf("Customer %q in namespace %q", sub.Spec.CustomerRef, sub.Namespace))
	}
	if ref := sub.Spec.Channel.PartnerRef; ref != "" {
		if p, ok := in.partners[ref]; ok {
			input.ChannelPartner = p.obj
		} else {
			missing("spec.channel.partnerRef", fmt.Sprintf("Partner %q", ref))
		}
	}
	if ref := sub.Spec.SupportPartnerRef; ref != "" {
		if p, ok := in.partners[ref]; ok {
			input.Target = p.obj
			if prov := p.obj.Spec.IndirectProviderRef; prov != "" {
				if pp, ok := in.partners[prov]; ok {
					input.TargetProvider = pp.obj
				} else {
					errs = append(errs, &InputError{Source: p.source, Kind: "Partner", Name: p.obj.Name, Field: "spec.indirectProviderRef",
						Reason: fmt.Sprintf("Partner %q is not in the input", prov)})
				}
			}
		} else {
			missing("spec.supportPartnerRef", fmt.Sprintf("Partner %q", ref))
		}
	}
	return input, errs
}

// resolveGDAP checks that each DelegatedAdminRelationship's partner and
// customer are in the input, and that no two of one partner share a display
// name (Graph keeps display names unique per partner).
func (in *inventory) resolveGDAP() []error {
	var errs []error
	names := map[string]string{} // partner|displayName → object
	for _, g := range in.gdaps {
		o := g.obj
		if _, ok := in.partners[o.Spec.PartnerRef]; !ok {
			errs = append(errs, &InputError{Source: g.source, Kind: "DelegatedAdminRelationship", Name: o.Name, Field: "spec.partnerRef",
				Reason: fmt.Sprintf("Partner %q is not in the input", o.Spec.PartnerRef)})
		}
		if _, ok := in.customers[o.Namespace+"/"+o.Spec.CustomerRef]; !ok {
			errs = append(errs, &InputError{Source: g.source, Kind: "DelegatedAdminRelationship", Name: o.Name, Field: "spec.customerRef",
				Reason: fmt.Sprintf("Customer %q in namespace %q is not in the input", o.Spec.CustomerRef, o.Namespace)})
		}
		key := o.Spec.PartnerRef + "|" + o.Spec.DisplayName
		if other, dup := names[key]; dup {
			errs = append(errs, &InputError{Source: g.source, Kind: "DelegatedAdminRelationship", Name: o.Name, Field: "spec.displayName",
				Reason: fmt.Sprintf("display name %q is also used by %s for partner %s; Microsoft Graph keeps display names unique per partner", o.Spec.DisplayName, other, o.Spec.PartnerRef)})
		}
		names[key] = o.Namespace + "/" + o.Name
	}
	return errs
}

func fromUnstructured(u map[string]any, into runtime.Object, gvk schema.GroupVersionKind) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u, into, true); err != nil {
		return fmt.Errorf("reading %s: %w", gvk.Kind, err)
	}
	return nil
}
