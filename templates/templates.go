package templates

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// File names of the templates, embedded and in an override folder.
const (
	ProxyFile = "proxy.yaml"
	InitFile  = "init.yaml"
)

//go:embed proxy.yaml init.yaml
var embedded embed.FS

// Set is the pair of container templates the injector starts from.
type Set struct {
	Proxy corev1.Container
	Init  corev1.Container
}

// Default returns the templates built into the binary.
func Default() Set {
	s, err := load(embedded)
	if err != nil {
		panic(fmt.Sprintf("embedded templates are invalid: %v", err))
	}
	return s
}

// Load reads the templates from dir; a file missing there keeps its
// embedded default. dir itself must exist: a mistyped folder is an error,
// not the defaults.
func Load(dir string) (Set, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return Set{}, fmt.Errorf("reading the templates folder: %w", err)
	}
	if !info.IsDir() {
		return Set{}, fmt.Errorf("reading the templates folder: %s is not a folder", dir)
	}
	return load(overlay{dir: dir})
}

type overlay struct{ dir string }

func (o overlay) Open(name string) (fs.File, error) {
	f, err := os.Open(filepath.Join(o.dir, name))
	if os.IsNotExist(err) {
		return embedded.Open(name)
	}
	return f, err
}

func load(fsys fs.FS) (Set, error) {
	var s Set
	for name, c := range map[string]*corev1.Container{ProxyFile: &s.Proxy, InitFile: &s.Init} {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return Set{}, fmt.Errorf("reading template %s: %w", name, err)
		}
		if err := yaml.UnmarshalStrict(data, c); err != nil {
			return Set{}, fmt.Errorf("parsing template %s: %w", name, err)
		}
		if strings.TrimSpace(c.Image) == "" {
			return Set{}, fmt.Errorf("template %s has no image", name)
		}
	}
	return s, nil
}
