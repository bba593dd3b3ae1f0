package estate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// The layout an import writes under its directory:
//
//	kustomization.yaml             partners (when there are any), then customers
//	customers/kustomization.yaml   every customer directory
//	customers/<namespace>/         one customer: kustomization.yaml, namespace.yaml,
//	                               customer-*.yaml, resellerrelationship-*.yaml,
//	                               customersubscription-*.yaml, delegatedadminrelationship-*.yaml
//	partners/kustomization.yaml    every source partner
//	partners/partner-<name>.yaml   a reference-only Partner (cluster-scoped)
//
// Every file starts with a header saying the import wrote it; keys and
// objects are sorted, and nothing depends on the time, so that importing
// the same estate again writes the same bytes. A file of a customer
// directory that the import wrote before and no longer writes (a
// subscription cancelled since) is removed; any other file is left alone.
// A customer directory the estate no longer has is left in place too.

// HeaderPrefix starts every file an import writes.
const HeaderPrefix = "# Written by kubectl multichannel import"

// Dirs of the layout.
const (
	CustomersDir = "customers"
	PartnersDir  = "partners"
	kustomize    = "kustomization.yaml"
)

// WriteOptions say where and how to write.
type WriteOptions struct {
	// Dir is the directory the layout is written under.
	Dir string
	// DryRun writes nothing and prints to Out what would change, with each
	// file's content.
	DryRun bool
	Out    io.Writer
}

// WriteReport says what was written, by path relative to Dir.
type WriteReport struct {
	New, Changed, Unchanged, Removed []string
	// Left are files in the customer directories written that the import
	// did not write: they are left alone, and are not in the kustomization.
	Left []string
}

// file is one file's path relative to the directory, and content.
type file struct {
	path string
	data []byte
}

// Write writes the manifests for partner under o.Dir.
func Write(m *Manifests, partner *v1alpha1.Partner, o WriteOptions) (*WriteReport, error) {
	head := header(partner)
	files, err := render(m, head)
	if err != nil {
		return nil, err
	}
	aggregates, err := aggregate(o.Dir, m, head)
	if err != nil {
		return nil, err
	}
	files = append(files, aggregates...)
	rep := &WriteReport{}
	stale, err := stale(o.Dir, m, files, rep)
	if err != nil {
		return nil, err
	}
	if o.DryRun {
		return rep, preview(o, files, stale, rep)
	}
	return rep, apply(o.Dir, files, stale, rep)
}

func header(p *v1alpha1.Partner) string {
	return fmt.Sprintf("%s for partner %s (tenant %s) from Partner Center and Microsoft Graph.\n# It holds nothing secret; importing again rewrites it.\n",
		HeaderPrefix, p.Name, p.Spec.TenantID)
}

// render is every namespace's files, its kustomization included, and every
// source partner's file.
func render(m *Manifests, head string) ([]file, error) {
	var files []file
	for _, ns := range m.Namespaces {
		var names []string
		for _, obj := range ns.Objects {
			data, err := objectYAML(obj)
			if err != nil {
				return nil, fmt.Errorf("writing %s %s/%s: %w", obj.GetObjectKind().GroupVersionKind().Kind, ns.Name, obj.GetName(), err)
			}
			name := fileName(obj)
			names = append(names, name)
			files = append(files, file{path.Join(CustomersDir, ns.Name, name), []byte(head + string(data))})
		}
		files = append(files, file{path.Join(CustomersDir, ns.Name, kustomize), kustomization(head, names)})
	}
	for _, p := range m.Partners {
		data, err := objectYAML(p)
		if err != nil {
			return nil, fmt.Errorf("writing Partner %s: %w", p.Name, err)
		}
		files = append(files, file{path.Join(PartnersDir, fileName(p)), []byte(head + string(data))})
	}
	return files, nil
}

// fileName is kind-name.yaml in lower case; the namespace's is namespace.yaml.
func fileName(obj client.Object) string {
	kind := strings.ToLower(obj.GetObjectKind().GroupVersionKind().Kind)
	if kind == "namespace" {
		return "namespace.yaml"
	}
	return kind + "-" + obj.GetName() + ".yaml"
}

// objectYAML is obj as YAML, keys sorted, without status or the empty
// creationTimestamp and spec a typed object carries.
func objectYAML(obj any) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	if spec, ok := m["spec"].(map[string]any); ok && len(spec) == 0 {
		delete(m, "spec")
	}
	return yaml.Marshal(m)
}

// kustomization lists resources in the order given: a customer's
// Namespace first, then its objects by kind and name, so that kustomize,
// whatever order it is told to keep, applies the Namespace first.
func kustomization(head string, resources []string) []byte {
	data, _ := yaml.Marshal(map[string]any{"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources})
	return []byte(head + string(data))
}

// aggregate is the kustomizations that gather the directories and
// partners: those on disk from earlier imports (of other customers) and
// those written now.
func aggregate(dir string, m *Manifests, head string) ([]file, error) {
	dirs, err := entries(filepath.Join(dir, CustomersDir), func(e fs.DirEntry, full string) bool {
		_, err := os.Stat(filepath.Join(full, kustomize))
		return e.IsDir() && err == nil
	})
	if err != nil {
		return nil, err
	}
	for _, ns := range m.Namespaces {
		dirs = append(dirs, ns.Name)
	}
	partners, err := entries(filepath.Join(dir, PartnersDir), func(e fs.DirEntry, _ string) bool {
		return !e.IsDir() && strings.HasSuffix(e.Name(), ".yaml") && e.Name() != kustomize
	})
	if err != nil {
		return nil, err
	}
	for _, p := range m.Partners {
		partners = append(partners, fileName(p))
	}
	top := []string{CustomersDir}
	files := []file{{path.Join(CustomersDir, kustomize), kustomization(head, slices.Compact(slices.Sorted(slices.Values(dirs))))}}
	if len(partners) > 0 {
		top = []string{PartnersDir, CustomersDir} // the Partners the customers' objects name, first
		files = append(files, file{path.Join(PartnersDir, kustomize), kustomization(head, slices.Compact(slices.Sorted(slices.Values(partners))))})
	}
	return append(files, file{kustomize, kustomization(head, top)}), nil
}

// entries are the names of dir's entries keep keeps; none when dir does not exist.
func entries(dir string, keep func(e fs.DirEntry, full string) bool) ([]string, error) {
	list, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range list {
		if keep(e, filepath.Join(dir, e.Name())) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// stale is the files of the customer directories written now that an
// earlier import wrote and this one does not; files someone else put there
// go to rep.Left.
func stale(dir string, m *Manifests, files []file, rep *WriteReport) ([]string, error) {
	written := map[string]bool{}
	for _, f := range files {
		written[f.path] = true
	}
	var out []string
	for _, ns := range m.Namespaces {
		names, err := entries(filepath.Join(dir, CustomersDir, ns.Name), func(e fs.DirEntry, _ string) bool { return !e.IsDir() })
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			rel := path.Join(CustomersDir, ns.Name, n)
			if written[rel] {
				continue
			}
			ours, err := writtenByImport(filepath.Join(dir, filepath.FromSlash(rel)))
			if err != nil {
				return nil, err
			}
			if ours {
				out = append(out, rel)
			} else {
				rep.Left = append(rep.Left, rel)
			}
		}
	}
	return out, nil
}

func writtenByImport(name string) (bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return false, err
	}
	defer func() { _ = f.Close() }()
	head := make([]byte, len(HeaderPrefix))
	n, _ := io.ReadFull(f, head)
	return n == len(head) && string(head) == HeaderPrefix, nil
}

// classify says whether f is new, changed or unchanged on disk.
func classify(dir string, f file, rep *WriteReport) (write bool, err error) {
	old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.path)))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		rep.New = append(rep.New, f.path)
		return true, nil
	case err != nil:
		return false, err
	case bytes.Equal(old, f.data):
		rep.Unchanged = append(rep.Unchanged, f.path)
		return false, nil
	}
	rep.Changed = append(rep.Changed, f.path)
	return true, nil
}

// apply writes what changed and removes what is stale.
func apply(dir string, files []file, stale []string, rep *WriteReport) error {
	for _, f := range files {
		write, err := classify(dir, f, rep)
		if err != nil {
			return fmt.Errorf("reading %s: %w", f.path, err)
		}
		if !write {
			continue
		}
		full := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, f.data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", f.path, err)
		}
	}
	for _, s := range stale {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(s))); err != nil {
			return fmt.Errorf("removing %s, which the estate no longer has: %w", s, err)
		}
		rep.Removed = append(rep.Removed, s)
	}
	return nil
}

// preview prints what apply would do, and each file's content.
func preview(o WriteOptions, files []file, stale []string, rep *WriteReport) error {
	for _, f := range files {
		write, err := classify(o.Dir, f, rep)
		if err != nil {
			return fmt.Errorf("reading %s: %w", f.path, err)
		}
		verb := "unchanged"
		if write {
			verb = "would write"
		}
		fmt.Fprintf(o.Out, "# %s %s\n%s---\n", verb, f.path, f.data)
	}
	for _, s := range stale {
		fmt.Fprintf(o.Out, "# would remove %s\n---\n", s)
		rep.Removed = append(rep.Removed, s)
	}
	return nil
}
