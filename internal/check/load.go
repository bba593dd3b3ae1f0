// Package check evaluates committed manifests offline: it reads Partner,
// Customer and CustomerSubscription manifests, validates them against the
// generated CRDs, resolves their references and evaluates every subscription
// with the eligibility package. kubectl multichannel check is its command line.
package check

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Source says where a document came from: a file (or "-" for stdin) and its
// 1-based position among the file's documents.
type Source struct {
	File string
	Doc  int
}

func (s Source) String() string {
	file := s.File
	if file == "-" {
		file = "stdin"
	}
	return fmt.Sprintf("%s, document %d", file, s.Doc)
}

// Document is one object read from the input.
type Document struct {
	Source Source
	Object *unstructured.Unstructured
}

// InputError is bad input: where it is, which field, and why.
type InputError struct {
	Source Source
	Kind   string
	Name   string
	Field  string
	Reason string
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source.String())
	if e.Kind != "" {
		fmt.Fprintf(&b, " (%s %s)", e.Kind, e.Name)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// manifestExtensions are the files a directory is searched for.
var manifestExtensions = map[string]bool{".yaml": true, ".yml": true, ".json": true}

// Load reads every document of the named files and directories (searched
// recursively for .yaml, .yml and .json files); "-" reads stdin.
func Load(paths []string, stdin io.Reader) ([]Document, error) {
	if len(paths) == 0 {
		return nil, errors.New("no input: name files or directories with -f, or -f - for stdin")
	}
	var docs []Document
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("reading stdin: %w", err)
			}
			d, err := decode("-", data)
			if err != nil {
				return nil, err
			}
			docs = append(docs, d...)
			continue
		}
		files, err := manifestFiles(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", f, err)
			}
			d, err := decode(f, data)
			if err != nil {
				return nil, err
			}
			docs = append(docs, d...)
		}
	}
	return docs, nil
}

// manifestFiles returns p itself when it is a file, or the manifest files below it.
func manifestFiles(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && manifestExtensions[strings.ToLower(filepath.Ext(path))] {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading directory %s: %w", p, err)
	}
	sort.Strings(files)
	return files, nil
}

// decode splits data into its YAML (or JSON) documents, skipping empty ones.
// A List (kubectl get -o yaml) contributes its items.
func decode(file string, data []byte) ([]Document, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var docs []Document
	// n counts the documents that hold something, as a person reading the file would.
	for n := 1; ; {
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return nil, &InputError{Source: Source{file, n}, Reason: "not valid YAML or JSON: " + err.Error()}
		}
		if len(raw) == 0 {
			continue
		}
		n++
		obj := &unstructured.Unstructured{Object: raw}
		if obj.IsList() {
			list, err := obj.ToList()
			if err != nil {
				return nil, &InputError{Source: Source{file, n - 1}, Reason: err.Error()}
			}
			for i := range list.Items {
				docs = append(docs, Document{Source: Source{file, n - 1}, Object: &list.Items[i]})
			}
			continue
		}
		docs = append(docs, Document{Source: Source{file, n - 1}, Object: obj})
	}
}
