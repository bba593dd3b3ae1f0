// Package install reads the cluster-wide manifests config/default ships
// besides the CRDs and the operator itself: the admission check on decisions,
// the admission warnings and the seed's roles. make dev and the tests install
// them as config/default does, with its name prefix.
package install

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/partnerops/multichannel-operator/config/admission"
	"github.com/partnerops/multichannel-operator/config/rbac"
)

// NamePrefix is the prefix config/default gives every object's name.
const NamePrefix = "multichannel-"

// Objects returns the admission policies, their bindings and the roles, named
// as config/default names them.
func Objects() ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, src := range []struct {
		fsys  fs.FS
		files []string
	}{
		{admission.Policies, []string{"decisions.yaml", "bindings.yaml", "warnings.yaml"}},
		{rbac.Roles, []string{"roles.yaml"}},
	} {
		for _, name := range src.files {
			data, err := fs.ReadFile(src.fsys, name)
			if err != nil {
				return nil, err
			}
			objs, err := decode(data)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", name, err)
			}
			out = append(out, objs...)
		}
	}
	return out, nil
}

func decode(data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(u.Object) == 0 {
			continue
		}
		u.SetName(NamePrefix + u.GetName())
		out = append(out, u)
	}
}
