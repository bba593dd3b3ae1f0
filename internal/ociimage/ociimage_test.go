package ociimage

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestImage builds an image around a small static binary, writes it as an OCI
// layout and a docker-load tarball, reads both back and checks their shape.
// With IMAGE_LAYOUT set ('make image' sets it), it checks that image instead:
// the real manager.
func TestImage(t *testing.T) {
	ref := name.MustParseReference("registry.example.com/multichannel-operator:test").(name.Tag)
	var images map[string]v1.Image
	if dir := os.Getenv("IMAGE_LAYOUT"); dir != "" {
		images = map[string]v1.Image{"layout": fromLayout(t, dir)}
		if tarPath := filepath.Join(filepath.Dir(dir), "image.tar"); fileExists(tarPath) {
			images["tarball"] = fromTarball(t, tarPath)
		}
	} else {
		bin := filepath.Join(t.TempDir(), "manager")
		build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./testdata/hello")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		created := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
		img, err := Build(Options{Binary: bin, Arch: runtime.GOARCH, Created: created, Labels: Labels("v0.1.0", "abc123", created)})
		if err != nil {
			t.Fatal(err)
		}
		dir, tarPath, err := Write(img, ref, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		images = map[string]v1.Image{"layout": fromLayout(t, dir), "tarball": fromTarball(t, tarPath)}
		// The same inputs give the same image.
		again, err := Build(Options{Binary: bin, Arch: runtime.GOARCH, Created: created, Labels: Labels("v0.1.0", "abc123", created)})
		if err != nil {
			t.Fatal(err)
		}
		if d1, d2 := digest(t, img), digest(t, again); d1 != d2 {
			t.Errorf("two builds of the same binary differ: %s, %s", d1, d2)
		}
	}
	for form, img := range images {
		t.Run(form, func(t *testing.T) { checkImage(t, form, img) })
	}
}

func checkImage(t *testing.T, form string, img v1.Image) {
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != User {
		t.Errorf("user %q, want %q", cf.Config.User, User)
	}
	if !slices.Equal(cf.Config.Entrypoint, []string{Entrypoint}) || len(cf.Config.Cmd) != 0 {
		t.Errorf("entrypoint %v cmd %v", cf.Config.Entrypoint, cf.Config.Cmd)
	}
	if cf.OS != "linux" || cf.Architecture == "" {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	for _, l := range []string{"org.opencontainers.image.title", "org.opencontainers.image.source", "org.opencontainers.image.version",
		"org.opencontainers.image.created", "org.opencontainers.image.licenses"} {
		if cf.Config.Labels[l] == "" {
			t.Errorf("no label %s", l)
		}
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 2 {
		t.Fatalf("%d layers, want 2 (base, manager)", len(layers))
	}
	base := files(t, layers[0])
	for _, f := range []string{"etc/passwd", "etc/group", CABundle[1:], "tmp/", "home/nonroot/"} {
		if _, ok := base[f]; !ok {
			t.Errorf("the base layer lacks %s", f)
		}
	}
	for _, shell := range []string{"bin/sh", "bin/bash", "bin/busybox", "usr/bin/sh"} {
		if _, ok := base[shell]; ok {
			t.Errorf("the base layer has a shell: %s", shell)
		}
	}
	if !bytes.Contains(base["etc/passwd"].data, []byte("nonroot:x:65532:65532:")) {
		t.Errorf("/etc/passwd has no user 65532:\n%s", base["etc/passwd"].data)
	}
	if h := base["home/nonroot/"].hdr; h.Uid != UID || h.Gid != UID {
		t.Errorf("/home/nonroot belongs to %d:%d", h.Uid, h.Gid)
	}
	n := 0
	for rest := base[CABundle[1:]].data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			t.Fatalf("the CA bundle holds a bad certificate: %v", err)
		}
		n++
	}
	if n < 100 {
		t.Errorf("the CA bundle holds %d certificates", n)
	}
	app := files(t, layers[1])
	if len(app) != 1 {
		t.Errorf("the manager layer holds %d files, want 1", len(app))
	}
	m, ok := app[Entrypoint[1:]]
	if !ok {
		t.Fatalf("the manager layer has no %s", Entrypoint)
	}
	if m.hdr.Mode&0o111 == 0 {
		t.Errorf("%s is not executable: %o", Entrypoint, m.hdr.Mode)
	}
	if err := CheckStatic(bytes.NewReader(m.data)); err != nil {
		t.Error(err)
	}
	// A docker-load tarball has no manifest media type of its own.
	if mt, err := img.MediaType(); form == "layout" && (err != nil || mt != types.OCIManifestSchema1) {
		t.Errorf("manifest media type %s (%v)", mt, err)
	}
}

func TestCheckStaticRejectsDynamicBinaries(t *testing.T) {
	for _, p := range []string{"/bin/sh", "/usr/bin/env"} {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		defer func() { _ = f.Close() }()
		if err := CheckStatic(f); !errors.Is(err, ErrNotStatic) {
			t.Errorf("%s: %v, want ErrNotStatic", p, err)
		}
		return
	}
	t.Skip("no dynamically linked binary on this machine")
}

type entry struct {
	hdr  *tar.Header
	data []byte
}

func files(t *testing.T, l v1.Layer) map[string]entry {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	out := map[string]entry{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = entry{hdr: h, data: data}
	}
}

func fromLayout(t *testing.T, dir string) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("the layout holds %d manifests", len(m.Manifests))
	}
	if m.Manifests[0].Annotations["org.opencontainers.image.ref.name"] == "" {
		t.Error("the layout does not name the image")
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func fromTarball(t *testing.T, path string) v1.Image {
	t.Helper()
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		t.Fatalf("reading %s as docker load would: %v", path, err)
	}
	return img
}

func digest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
