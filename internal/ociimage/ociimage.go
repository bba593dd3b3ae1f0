// Package ociimage assembles the manager's container image without Docker:
// a minimal base layer (CA certificates, /etc/passwd and /etc/group with the
// non-root user 65532, a /tmp; no shell, no package manager) and a layer
// holding the statically linked manager, which is the entrypoint. It is the
// shape the Dockerfile's distroless/static:nonroot image has.
//
// Layers are reproducible: file times are the image's creation time, and the
// CA bundle comes from golang.org/x/crypto/x509roots/fallback (Mozilla's NSS
// roots as published on the Go module proxy), not from the build machine.
package ociimage

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// The image's user and paths, as in gcr.io/distroless/static:nonroot.
const (
	UID        = 65532
	User       = "65532:65532"
	Entrypoint = "/manager"
	CABundle   = "/etc/ssl/certs/ca-certificates.crt"
)

// Options describe the image.
type Options struct {
	// Binary is the path of the manager, built with CGO_ENABLED=0.
	Binary string
	// Arch is the binary's GOARCH (amd64, arm64).
	Arch string
	// Created is the image's creation time, and every file's time.
	Created time.Time
	// Labels are the image's labels (org.opencontainers.image.*).
	Labels map[string]string
}

// Build returns the image.
func Build(opts Options) (v1.Image, error) {
	bin, err := os.ReadFile(opts.Binary)
	if err != nil {
		return nil, err
	}
	if err := CheckStatic(bytes.NewReader(bin)); err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Binary, err)
	}
	base, err := layer(baseFiles(opts.Created))
	if err != nil {
		return nil, fmt.Errorf("building the base layer: %w", err)
	}
	app, err := layer([]file{{name: "manager", mode: 0o755, data: bin, mtime: opts.Created}})
	if err != nil {
		return nil, fmt.Errorf("building the manager layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{
			Created: v1.Time{Time: opts.Created}, CreatedBy: "multichannel-operator base: CA certificates, user 65532", Comment: "no shell"}},
		mutate.Addendum{Layer: app, MediaType: types.OCILayer, History: v1.History{
			Created: v1.Time{Time: opts.Created}, CreatedBy: "COPY manager /manager"}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = opts.Arch
	cf.Created = v1.Time{Time: opts.Created}
	cf.Config.User = User
	cf.Config.Entrypoint = []string{Entrypoint}
	cf.Config.WorkingDir = "/"
	cf.Config.Labels = opts.Labels
	cf.Config.Env = []string{"SSL_CERT_FILE=" + CABundle}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	// The manifest carries the same annotations, for registries that show them.
	return mutate.Annotations(img, opts.Labels).(v1.Image), nil
}

type file struct {
	name     string
	mode     int64
	dir      bool
	uid, gid int
	data     []byte
	mtime    time.Time
}

func baseFiles(t time.Time) []file {
	return []file{
		{name: "etc/", mode: 0o755, dir: true, mtime: t},
		{name: "etc/passwd", mode: 0o644, mtime: t, data: []byte(
			"root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "etc/group", mode: 0o644, mtime: t, data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{name: "etc/nsswitch.conf", mode: 0o644, mtime: t, data: []byte("hosts: files dns\n")},
		{name: "etc/ssl/", mode: 0o755, dir: true, mtime: t},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true, mtime: t},
		{name: CABundle[1:], mode: 0o644, mtime: t, data: caBundle()},
		{name: "home/", mode: 0o755, dir: true, mtime: t},
		{name: "home/nonroot/", mode: 0o700, dir: true, uid: UID, gid: UID, mtime: t},
		{name: "root/", mode: 0o700, dir: true, mtime: t},
		{name: "tmp/", mode: 0o1777, dir: true, mtime: t},
	}
}

// caBundle is the NSS roots as PEM. Roots with constraints PEM cannot express
// (distrust after a date) are left out, as Debian's ca-certificates does.
func caBundle() []byte {
	var b bytes.Buffer
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate})
	}
	return b.Bytes()
}

func layer(files []file) (v1.Layer, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Uid: f.uid, Gid: f.gid, ModTime: f.mtime, Format: tar.FormatPAX}
		if f.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := b.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// ErrNotStatic is returned for a binary that needs a dynamic loader or shared libraries.
var ErrNotStatic = errors.New("the binary is not statically linked (build it with CGO_ENABLED=0)")

// CheckStatic fails unless r is an ELF executable with no interpreter and no
// shared libraries: the image has no libc to load.
func CheckStatic(r io.ReaderAt) error {
	f, err := elf.NewFile(r)
	if err != nil {
		return fmt.Errorf("not an ELF executable: %w", err)
	}
	defer func() { _ = f.Close() }()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return ErrNotStatic
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return err
	}
	if len(libs) > 0 {
		return fmt.Errorf("%w: it needs %v", ErrNotStatic, libs)
	}
	return nil
}

// Labels are the image's labels from the OCI image annotations spec
// (github.com/opencontainers/image-spec/blob/main/annotations.md).
func Labels(version, revision string, created time.Time) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "multichannel-operator",
		"org.opencontainers.image.description": "Kubernetes operator for Partner Center multichannel support: CSP partners take on subscriptions customers bought elsewhere.",
		"org.opencontainers.image.source":      "https://github.com/partnerops/multichannel-operator",
		"org.opencontainers.image.url":         "https://github.com/partnerops/multichannel-operator",
		"org.opencontainers.image.vendor":      "partnerops",
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.version":     version,
		"org.opencontainers.image.created":     created.UTC().Format(time.RFC3339),
	}
	if revision != "" {
		l["org.opencontainers.image.revision"] = revision
	}
	return l
}

// Write writes img under out as an OCI image layout (out/oci) and as a
// tarball (out/image.tar) that 'docker load' and 'crane push' read.
func Write(img v1.Image, ref name.Tag, out string) (layoutDir, tarPath string, err error) {
	layoutDir = filepath.Join(out, "oci")
	if err := os.RemoveAll(layoutDir); err != nil {
		return "", "", err
	}
	p, err := layout.Write(layoutDir, empty.Index)
	if err != nil {
		return "", "", err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ref.TagStr(),
		"io.containerd.image.name":          ref.Name(),
	})); err != nil {
		return "", "", err
	}
	tarPath = filepath.Join(out, "image.tar")
	if err := tarball.WriteToFile(tarPath, ref, img); err != nil {
		return "", "", err
	}
	return layoutDir, tarPath, nil
}
