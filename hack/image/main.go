// Command image assembles the manager's OCI image without Docker (see
// internal/ociimage) and writes it twice: as an OCI image layout directory
// and as a tarball that 'docker load' and 'crane push' accept.
// 'make image' builds the manager statically and runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/partnerops/multichannel-operator/internal/ociimage"
)

func main() {
	var (
		binary   = flag.String("binary", "bin/image/manager", "the manager, built with CGO_ENABLED=0")
		arch     = flag.String("arch", "amd64", "the binary's GOARCH")
		out      = flag.String("out", "bin/image", "directory for oci/ (an OCI image layout) and image.tar")
		tag      = flag.String("tag", "ghcr.io/partnerops/multichannel-operator:latest", "the image reference")
		version  = flag.String("version", "dev", "org.opencontainers.image.version")
		revision = flag.String("revision", "", "org.opencontainers.image.revision (the git commit)")
	)
	flag.Parse()
	if err := run(*binary, *arch, *out, *tag, *version, *revision); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(binary, arch, out, tag, version, revision string) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	// SOURCE_DATE_EPOCH (reproducible-builds.org) fixes the creation time, so
	// the same commit gives the same image digest.
	created := time.Now().UTC().Truncate(time.Second)
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
		}
		created = time.Unix(sec, 0).UTC()
	}
	img, err := ociimage.Build(ociimage.Options{
		Binary:  binary,
		Arch:    arch,
		Created: created,
		Labels:  ociimage.Labels(version, revision, created),
	})
	if err != nil {
		return err
	}
	dir, tarPath, err := ociimage.Write(img, ref, out)
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s %s\n  OCI layout: %s\n  tarball:    %s (docker load -i %s; crane push %s %s)\n",
		ref, digest, dir, tarPath, tarPath, tarPath, ref)
	return nil
}
