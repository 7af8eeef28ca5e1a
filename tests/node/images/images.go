// Package images builds every image the test node runs, without Docker and
// without a registry, as docker-archive tarballs that `ctr images import`
// loads under the exact references the chart and the pod specs use, so the
// kubelet never pulls (imagePullPolicy: IfNotPresent):
//
//   - the planeless image: what the Dockerfile puts in (Recipe, checked
//     against the Dockerfile by a test): a Debian root made by mmdebstrap
//     from Debian's packages (cached in .tools/images), then the static
//     planeless binary, the user and the entrypoint;
//   - the Envoy image under the proxy template's reference: the pinned Envoy
//     binary (make envoy) and the glibc files it links, no shell (like
//     envoy-distroless), so nothing the injector adds may rely on one;
//   - the pause image under containerd's default sandbox reference
//     (tests/node/images/pause);
//   - the test app image: tests/apps/testapp.
//
// Layers are written with fixed times and explicit modes, so the same
// inputs give the same image.
package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/planeless/planeless/templates"
)

// Recipe is what the Dockerfile's final stage puts in the planeless image.
type Recipe struct {
	// Base is the FROM image: a Debian suite's slim image.
	Base string
	// Packages are installed with apt-get --no-install-recommends.
	Packages []string
	// Checks are the commands the Dockerfile runs to prove the install.
	Checks []string
	// Binary is where the planeless binary goes, PodBinary planeless-pod
	// (the injected init container's command).
	Binary, PodBinary string
	// User and Entrypoint are the image's config.
	User       string
	Entrypoint []string
}

// Planeless is the planeless image's recipe. A test parses the Dockerfile
// and compares: change both together.
var Planeless = Recipe{
	Base:       "debian:trixie-slim",
	Packages:   []string{"iptables"},
	Checks:     []string{"iptables-nft --version", "iptables-legacy --version", "ip6tables-nft --version", "ip6tables-legacy --version"},
	Binary:     "/usr/local/bin/planeless",
	PodBinary:  "/usr/local/bin/planeless-pod",
	User:       "65532:65532",
	Entrypoint: []string{"/usr/local/bin/planeless"},
}

// References of the images the node needs.
var (
	// PlanelessRef is the init container's image (and the chart's default).
	PlanelessRef = templates.Default().Init.Image
	// EnvoyRef is the proxy template's image.
	EnvoyRef = templates.Default().Proxy.Image
)

const (
	// PauseRef is containerd v2.4's default sandbox image.
	PauseRef = "registry.k8s.io/pause:3.10.2"
	// TestappRef is tests/apps/testapp; its binary is /usr/local/bin/testapp.
	TestappRef = "planeless.test/testapp:v1"
	// TestappPath is where the test app sits in its image.
	TestappPath = "/usr/local/bin/testapp"
)

// Inputs are the files the images are made of.
type Inputs struct {
	// Planeless, PlanelessPod, Testapp and Pause are static binaries
	// (CGO_ENABLED=0).
	Planeless, PlanelessPod, Testapp, Pause string
	// Envoy is the Envoy binary (dynamically linked to glibc).
	Envoy string
	// Cache holds the Debian roots across runs (.tools/images).
	Cache string
	// Logf reports progress; nil is quiet.
	Logf func(format string, args ...any)
}

// Archive is one image written as a docker-archive tarball.
type Archive struct {
	Ref  string
	Path string
}

// Build writes every image into dir and returns their archives.
func Build(ctx context.Context, in Inputs, dir string) ([]Archive, error) {
	logf := in.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	root, err := DebianRoot(ctx, in.Cache, Planeless, logf)
	if err != nil {
		return nil, err
	}
	build := []struct {
		ref  string
		make func() (v1.Image, error)
	}{
		{PlanelessRef, func() (v1.Image, error) { return PlanelessImage(root, in.Planeless, in.PlanelessPod) }},
		{EnvoyRef, func() (v1.Image, error) { return EnvoyImage(in.Envoy) }},
		{PauseRef, func() (v1.Image, error) {
			return binaryImage(in.Pause, "/pause", v1.Config{Entrypoint: []string{"/pause"}, User: "65535:65535"})
		}},
		{TestappRef, func() (v1.Image, error) {
			return binaryImage(in.Testapp, TestappPath, v1.Config{Entrypoint: []string{TestappPath}, Env: []string{"PATH=" + defaultPath}})
		}},
	}
	var out []Archive
	for _, b := range build {
		img, err := b.make()
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", b.ref, err)
		}
		tag, err := name.NewTag(b.ref)
		if err != nil {
			return nil, err
		}
		file := filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_").Replace(b.ref)+".tar")
		if err := tarball.WriteToFile(file, tag, img); err != nil {
			return nil, fmt.Errorf("writing %s: %w", b.ref, err)
		}
		out = append(out, Archive{Ref: b.ref, Path: file})
	}
	return out, nil
}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// epoch is every file's time in the layers written here.
var epoch = time.Unix(0, 0).UTC()

// PlanelessImage is the Debian root tarball plus the planeless and
// planeless-pod binaries, configured as the Dockerfile says.
func PlanelessImage(debianRoot, binary, podBinary string) (v1.Image, error) {
	base, err := tarball.LayerFromFile(debianRoot)
	if err != nil {
		return nil, err
	}
	bin, err := fileLayer(map[string]file{
		Planeless.Binary:    {src: binary, mode: 0o755},
		Planeless.PodBinary: {src: podBinary, mode: 0o755},
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, base, bin)
	if err != nil {
		return nil, err
	}
	return configure(img, v1.Config{
		User:       Planeless.User,
		Entrypoint: Planeless.Entrypoint,
		Env:        []string{"PATH=" + defaultPath},
	})
}

// EnvoyImage is the Envoy binary at /usr/local/bin/envoy (the injector runs
// `envoy`) and the shared libraries ldd says it loads.
func EnvoyImage(envoy string) (v1.Image, error) {
	envoy, err := filepath.EvalSymlinks(envoy)
	if err != nil {
		return nil, err
	}
	files := map[string]file{"/usr/local/bin/envoy": {src: envoy, mode: 0o755}}
	libs, err := sharedLibraries(envoy)
	if err != nil {
		return nil, err
	}
	for _, lib := range libs {
		real, err := filepath.EvalSymlinks(lib)
		if err != nil {
			return nil, err
		}
		files[lib] = file{src: real, mode: 0o755}
	}
	// Envoy runs as the proxy's UID with a read-only root: it writes
	// nothing but what its volumes hold; /tmp exists for tools that look.
	files["/tmp/"] = file{mode: 0o1777}
	layer, err := fileLayer(files)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	return configure(img, v1.Config{
		Entrypoint: []string{"/usr/local/bin/envoy"},
		Env:        []string{"PATH=" + defaultPath},
	})
}

var lddLine = regexp.MustCompile(`(?m)(?:=>\s*)?(/\S+)\s+\(0x`)

// sharedLibraries lists the absolute paths ldd prints for bin (the loader
// included).
func sharedLibraries(bin string) ([]string, error) {
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w", bin, err)
	}
	var libs []string
	for _, m := range lddLine.FindAllStringSubmatch(string(out), -1) {
		libs = append(libs, m[1])
	}
	if len(libs) == 0 {
		return nil, fmt.Errorf("ldd %s printed no library: %s", bin, out)
	}
	return libs, nil
}

func binaryImage(src, dst string, cfg v1.Config) (v1.Image, error) {
	layer, err := fileLayer(map[string]file{dst: {src: src, mode: 0o755}})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	return configure(img, cfg)
}

func configure(img v1.Image, cfg v1.Config) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created = v1.Time{Time: epoch}
	cf.Config = cfg
	return mutate.ConfigFile(img, cf)
}

type file struct {
	src  string // empty for a directory (the key ends in /)
	mode int64
}

// fileLayer writes a layer holding files (and their parent folders) with
// fixed times and the given modes.
func fileLayer(files map[string]file) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	var addDirs func(string) error
	addDirs = func(dir string) error {
		if dir == "/" || dir == "." || dirs[dir] {
			return nil
		}
		if err := addDirs(path.Dir(dir)); err != nil {
			return err
		}
		dirs[dir] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(dir, "/") + "/", Mode: 0o755, ModTime: epoch})
	}
	for _, dst := range sortedKeys(files) {
		f := files[dst]
		if strings.HasSuffix(dst, "/") {
			dir := strings.TrimSuffix(dst, "/")
			if err := addDirs(path.Dir(dir)); err != nil {
				return nil, err
			}
			dirs[dir] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(dir, "/") + "/", Mode: f.mode, ModTime: epoch}); err != nil {
				return nil, err
			}
			continue
		}
		if err := addDirs(path.Dir(dst)); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(f.src)
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(dst, "/"), Mode: f.mode, Size: int64(len(data)), ModTime: epoch}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
}

func sortedKeys(m map[string]file) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Suite is the Debian suite of a debian:SUITE-slim base.
func (r Recipe) Suite() (string, error) {
	m := regexp.MustCompile(`^debian:([a-z]+)-slim$`).FindStringSubmatch(r.Base)
	if m == nil {
		return "", fmt.Errorf("base %q is not debian:SUITE-slim", r.Base)
	}
	return m[1], nil
}

// mmdebstrapArgs make a root like Debian's slim image (minbase, no
// documentation, man pages or locales) with r.Packages installed without
// recommends, the package lists removed (mmdebstrap's default) and no /dev
// entries (the runtime makes those).
func (r Recipe) mmdebstrapArgs(suite, out string) []string {
	args := []string{
		"--variant=minbase",
		"--include=" + strings.Join(r.Packages, ","),
		"--skip=output/dev",
		`--aptopt=APT::Install-Recommends "false"`,
	}
	for _, p := range []string{"/usr/share/doc/*", "/usr/share/man/*", "/usr/share/info/*", "/usr/share/locale/*", "/usr/share/groff/*", "/usr/share/lintian/*", "/usr/share/linda/*"} {
		args = append(args, "--dpkgopt=path-exclude="+p)
	}
	args = append(args, "--dpkgopt=path-include=/usr/share/doc/*/copyright")
	return append(args, suite, out)
}

// DebianRoot returns a tarball of the recipe's Debian root, made once by
// mmdebstrap (Debian's packages, through apt as set up on this machine) and
// kept in cache under a name that changes with the recipe.
func DebianRoot(ctx context.Context, cache string, r Recipe, logf func(string, ...any)) (string, error) {
	suite, err := r.Suite()
	if err != nil {
		return "", err
	}
	key := sha256.Sum256([]byte(strings.Join(r.mmdebstrapArgs(suite, ""), "\n")))
	out := filepath.Join(cache, "debian-"+suite+"-"+hex.EncodeToString(key[:6])+".tar")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	// One build at a time across processes sharing the cache.
	lock, err := os.OpenFile(out+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return "", fmt.Errorf("mmdebstrap is missing; install it with `make node-deps`")
	}
	logf("building the Debian %s root with %s (once, ~1 min)", suite, strings.Join(r.Packages, ", "))
	start := time.Now()
	// mmdebstrap picks the format from the extension.
	tmp := strings.TrimSuffix(out, ".tar") + ".tmp.tar"
	cmd := exec.CommandContext(ctx, "mmdebstrap", r.mmdebstrapArgs(suite, tmp)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("mmdebstrap: %w\n%s", err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	logf("Debian root built in %s", time.Since(start).Round(time.Second))
	return out, nil
}
