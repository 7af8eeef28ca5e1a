package images

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/planeless/planeless/tests/need"
)

// fromDockerfile reads what the Dockerfile's final stage puts in the image.
func fromDockerfile(t *testing.T) Recipe {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(need.RepoRoot(), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// Join continued lines, drop comments.
	text := regexp.MustCompile(`\\\n`).ReplaceAllString(string(data), " ")
	var stage []string
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "FROM ") {
			stage = nil
		}
		stage = append(stage, line)
	}
	var r Recipe
	for _, line := range stage {
		verb, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch verb {
		case "FROM":
			r.Base = strings.Fields(rest)[0]
		case "RUN":
			for cmd := range strings.SplitSeq(rest, "&&") {
				f := strings.Fields(cmd)
				if i := slices.Index(f, "install"); i > 0 && f[i-1] == "apt-get" {
					for _, a := range f[i+1:] {
						if !strings.HasPrefix(a, "-") {
							r.Packages = append(r.Packages, a)
						}
					}
				}
				if len(f) == 2 && f[1] == "--version" {
					r.Checks = append(r.Checks, strings.Join(f, " "))
				}
			}
		case "COPY":
			f := strings.Fields(rest)
			switch {
			case strings.HasSuffix(f[len(f)-2], "/planeless"):
				r.Binary = f[len(f)-1]
			case strings.HasSuffix(f[len(f)-2], "/planeless-pod"):
				r.PodBinary = f[len(f)-1]
			}
		case "USER":
			r.User = rest
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &r.Entrypoint); err != nil {
				t.Fatalf("ENTRYPOINT %s: %v", rest, err)
			}
		}
	}
	return r
}

// The builder puts in what the Dockerfile puts in: the same base, the same
// packages, the binary at the same place, the same user and entrypoint.
func TestDockerfileAndBuilderDoNotDrift(t *testing.T) {
	if diff := cmp.Diff(fromDockerfile(t), Planeless); diff != "" {
		t.Errorf("the Dockerfile (-) and images.Planeless (+) differ; change both together:\n%s", diff)
	}
	if PlanelessRef == "" || EnvoyRef == "" {
		t.Errorf("the templates name no image: planeless %q, envoy %q", PlanelessRef, EnvoyRef)
	}
}

// The planeless image the builder makes holds the binary where the
// entrypoint says, and both iptables backends with the commands the
// Dockerfile checks, for IPv4 and IPv6; it runs as the Dockerfile's user.
func TestPlanelessImageHoldsWhatTheDockerfileChecks(t *testing.T) {
	need.Root(t)
	need.Command(t, "mmdebstrap", "make node-deps")
	root, err := DebianRoot(t.Context(), filepath.Join(need.RepoRoot(), ".tools", "images"), Planeless, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "planeless")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := PlanelessImage(root, bin, bin)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != Planeless.User || !slices.Equal(cf.Config.Entrypoint, Planeless.Entrypoint) {
		t.Errorf("config: user %q entrypoint %q, want %q %q", cf.Config.User, cf.Config.Entrypoint, Planeless.User, Planeless.Entrypoint)
	}
	files := map[string]*tar.Header{}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			files["/"+strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/")] = h
		}
		rc.Close()
	}
	for _, b := range []string{Planeless.Binary, Planeless.PodBinary} {
		if h := files[b]; h == nil || h.Mode&0o111 == 0 {
			t.Errorf("%s is missing or not executable: %+v", b, h)
		}
	}
	for _, check := range Planeless.Checks {
		cmd := strings.Fields(check)[0]
		found := false
		for _, dir := range []string{"/usr/sbin/", "/sbin/", "/usr/bin/"} {
			if files[dir+cmd] != nil {
				found = true
			}
		}
		if !found {
			t.Errorf("the image has no %s, which the Dockerfile runs", cmd)
		}
	}
	if files["/dev/null"] != nil {
		t.Errorf("the root carries /dev entries; the runtime makes those")
	}
}
