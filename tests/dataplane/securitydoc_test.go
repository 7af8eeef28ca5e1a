package dataplane

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/planeless/planeless/tests/need"
)

// TestSecurityDocNamesRealTests checks that every test docs/security.md
// cites as the proof of a property exists.
func TestSecurityDocNamesRealTests(t *testing.T) {
	root := need.RepoRoot()
	doc, err := os.ReadFile(filepath.Join(root, "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	cited := regexp.MustCompile("`(Test[A-Za-z0-9]+)`").FindAllStringSubmatch(string(doc), -1)
	if len(cited) < 10 {
		t.Fatalf("docs/security.md cites %d tests, want the proof of each property", len(cited))
	}
	var sources strings.Builder
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() && (d.Name() == ".tools" || d.Name() == ".git") {
			if err == nil {
				err = filepath.SkipDir
			}
			return err
		}
		if strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			sources.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cited {
		if !strings.Contains(sources.String(), "func "+m[1]+"(") {
			t.Errorf("docs/security.md cites %s, which no test file defines", m[1])
		}
	}
}
