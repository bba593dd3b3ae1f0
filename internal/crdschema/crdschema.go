// Package crdschema validates objects offline against the project's generated
// CRDs, as the API server would on create: unknown fields, defaults, the
// OpenAPI schema, list types and the CEL rules. It holds no rule of its own.
package crdschema

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	crds "github.com/partnerops/multichannel-operator/config/crd"
)

// Validator validates objects of the kinds its CRDs define.
type Validator struct {
	kinds map[schema.GroupVersionKind]*kind
}

type kind struct {
	namespaced bool
	structural *structuralschema.Structural
	schema     apiservervalidation.SchemaCreateValidator
	cel        *cel.Validator
}

// New builds a Validator from the CRDs embedded in config/crd.
func New() (*Validator, error) {
	return FromFS(crds.Bases, "bases")
}

// FromFS builds a Validator from the CRD YAML files in dir of fsys.
func FromFS(fsys fs.FS, dir string) (*Validator, error) {
	files, err := fs.Glob(fsys, dir+"/*.yaml")
	if err != nil {
		return nil, err
	}
	v := &Validator{kinds: map[schema.GroupVersionKind]*kind{}}
	for _, file := range files {
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			return nil, fmt.Errorf("reading CRD %s: %w", file, err)
		}
		for _, ver := range crd.Spec.Versions {
			k, err := newKind(crd, ver)
			if err != nil {
				return nil, fmt.Errorf("CRD %s version %s: %w", crd.Name, ver.Name, err)
			}
			v.kinds[schema.GroupVersionKind{Group: crd.Spec.Group, Version: ver.Name, Kind: crd.Spec.Names.Kind}] = k
		}
	}
	if len(v.kinds) == 0 {
		return nil, fmt.Errorf("no CRDs in %s", dir)
	}
	return v, nil
}

func newKind(crd *apiextensionsv1.CustomResourceDefinition, ver apiextensionsv1.CustomResourceDefinitionVersion) (*kind, error) {
	if ver.Schema == nil || ver.Schema.OpenAPIV3Schema == nil {
		return nil, fmt.Errorf("no schema")
	}
	internal := &apiextensions.JSONSchemaProps{}
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(ver.Schema.OpenAPIV3Schema, internal, nil); err != nil {
		return nil, err
	}
	structural, err := structuralschema.NewStructural(internal)
	if err != nil {
		return nil, err
	}
	validator, _, err := apiservervalidation.NewSchemaValidator(internal)
	if err != nil {
		return nil, err
	}
	return &kind{
		namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		structural: structural,
		schema:     validator,
		cel:        cel.NewValidator(structural, true, celconfig.PerCallLimit),
	}, nil
}

// Namespaced reports whether gvk is a namespaced kind.
func (v *Validator) Namespaced(gvk schema.GroupVersionKind) bool {
	k := v.kinds[gvk]
	return k != nil && k.namespaced
}

// Validate checks obj as the API server would on create, and applies the
// schema's defaults to it. An empty list means the API server would accept it.
func (v *Validator) Validate(ctx context.Context, obj *unstructured.Unstructured) field.ErrorList {
	gvk := obj.GroupVersionKind()
	k, ok := v.kinds[gvk]
	if !ok {
		return field.ErrorList{field.NotSupported(field.NewPath("kind"), gvk.String(), v.kindNames())}
	}
	var errs field.ErrorList

	// Decoders that yield float64 for every number (encoding/json, most YAML
	// libraries) would make integer fields fail CEL's type checks: hold numbers
	// as the API server does, integers as int64.
	if data, err := json.Marshal(obj.Object); err == nil {
		normalised := map[string]any{}
		if err := utiljson.Unmarshal(data, &normalised); err == nil {
			obj.Object = normalised
		}
	}

	// Unknown fields: kubectl's strict field validation rejects them.
	unknown := structuralpruning.PruneWithOptions(obj.Object, k.structural, true,
		structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	sort.Strings(unknown)
	for _, p := range unknown {
		errs = append(errs, field.Forbidden(field.NewPath(p), "unknown field: the CRD has no such field (check its spelling with kubectl explain)"))
	}

	if obj.GetName() == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "name"), "every object needs a name"))
	} else {
		for _, msg := range validation.IsDNS1123Subdomain(obj.GetName()) {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), obj.GetName(), msg))
		}
	}

	structuraldefaulting.Default(obj.Object, k.structural)
	schemaErrs := apiservervalidation.ValidateCustomResource(nil, obj.Object, k.schema)
	schemaErrs = append(schemaErrs, listtype.ValidateListSetsAndMaps(nil, k.structural, obj.Object)...)
	errs = append(errs, schemaErrs...)
	if len(schemaErrs) == 0 {
		// CEL rules are written against values of the schema's types, so they
		// only run on objects whose fields have those types.
		celErrs, _ := k.cel.Validate(ctx, nil, k.structural, obj.Object, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	return errs
}

func (v *Validator) kindNames() []string {
	var names []string
	for gvk := range v.kinds {
		names = append(names, gvk.Kind)
	}
	sort.Strings(names)
	return names
}
