package agent

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// folder is a CNI conf folder holding files, and the path of the agent's
// record of the original.
func folder(t *testing.T, files map[string]string) (dir, originalPath string) {
	t.Helper()
	dir = t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	state := filepath.Join(dir, StateDirName)
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Join(state, originalFile)
}

func contents(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Chaining then unchaining gives the folder back byte for byte, whatever
// the primary CNI wrote, and chaining twice writes once.
func TestUnchainGivesTheFolderBackByteForByte(t *testing.T) {
	tests := map[string]map[string]string{
		"a configuration list":                      {"10-bridge.conflist": testdata(t, "bridge.conflist")},
		"a .conf, turned into a .conflist and back": {"10-flannel.conf": testdata(t, "flannel.conf")},
		"the first of several files, the others untouched": {
			"05-first.conflist": testdata(t, "bridge.conflist"), "10-flannel.conf": testdata(t, "flannel.conf"), "README": "not a configuration"},
	}
	for name, files := range tests {
		t.Run(name, func(t *testing.T) {
			dir, orig := folder(t, files)
			file, wrote, err := chain(dir, "", orig, testEntry)
			if err != nil || !wrote {
				t.Fatalf("chain: %q %v %v", file, wrote, err)
			}
			data, _ := os.ReadFile(filepath.Join(dir, file))
			if !Has(file, data) {
				t.Fatalf("%s does not chain the plugin:\n%s", file, data)
			}
			if again, wroteAgain, err := chain(dir, "", orig, testEntry); err != nil || wroteAgain || again != file {
				t.Errorf("chaining again: %q wrote %v, %v", again, wroteAgain, err)
			}
			if err := unchain(dir, orig, testEntry); err != nil {
				t.Fatal(err)
			}
			if got := contents(t, dir); !maps.Equal(got, files) {
				t.Errorf("the folder is not as it was:\n got %q\nwant %q", got, files)
			}
			if _, err := os.Stat(orig); !os.IsNotExist(err) {
				t.Errorf("the record of the original is left behind: %v", err)
			}
		})
	}
}

// The primary CNI rewriting its file drops the plugin: chaining again puts
// it back, and unchaining then gives back the rewritten file.
func TestARewrittenFileIsChainedAgainAndGivenBackAsRewritten(t *testing.T) {
	first := testdata(t, "bridge.conflist")
	dir, orig := folder(t, map[string]string{"10-bridge.conflist": first})
	if _, _, err := chain(dir, "", orig, testEntry); err != nil {
		t.Fatal(err)
	}
	rewritten := first + "\n" // the primary CNI's new version
	if err := os.WriteFile(filepath.Join(dir, "10-bridge.conflist"), []byte(rewritten), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, wrote, err := chain(dir, "", orig, testEntry); err != nil || !wrote {
		t.Fatalf("chaining the rewritten file: wrote %v, %v", wrote, err)
	}
	if err := unchain(dir, orig, testEntry); err != nil {
		t.Fatal(err)
	}
	if got := contents(t, dir)["10-bridge.conflist"]; got != rewritten {
		t.Errorf("given back:\n%s\nwant the rewritten file:\n%s", got, rewritten)
	}
}

// A file changed by someone else since the plugin was chained loses only
// the plugin's entry: the change stays.
func TestAFileChangedSinceLosesOnlyThePlugin(t *testing.T) {
	dir, orig := folder(t, map[string]string{"10-bridge.conflist": testdata(t, "bridge.conflist")})
	file, _, err := chain(dir, "", orig, testEntry)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, file)
	data, _ := os.ReadFile(path)
	changed := []byte(string(data[:len(data)-2]) + `,"comment":"added by hand"}` + "\n")
	if err := os.WriteFile(path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unchain(dir, orig, testEntry); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if Has(file, got) || !strings.Contains(string(got), "added by hand") {
		t.Errorf("want the hand-made change kept and the plugin gone:\n%s", got)
	}
}

// A file named in the configuration is found again once it is a .conflist.
func TestANamedConfIsFoundAsItsConflist(t *testing.T) {
	dir, orig := folder(t, map[string]string{"05-other.conflist": testdata(t, "bridge.conflist"), "10-flannel.conf": testdata(t, "flannel.conf")})
	file, wrote, err := chain(dir, "10-flannel.conf", orig, testEntry)
	if err != nil || !wrote || file != "10-flannel.conflist" {
		t.Fatalf("chain: %q %v %v", file, wrote, err)
	}
	if again, wroteAgain, err := chain(dir, "10-flannel.conf", orig, testEntry); err != nil || wroteAgain || again != file {
		t.Errorf("chaining again: %q wrote %v, %v", again, wroteAgain, err)
	}
	if got := contents(t, dir)["05-other.conflist"]; got != testdata(t, "bridge.conflist") {
		t.Error("another file than the named one was changed")
	}
}

// No configuration yet (the primary CNI has not started): nothing is
// written, the agent waits.
func TestNoConfigurationYetWritesNothing(t *testing.T) {
	dir, orig := folder(t, map[string]string{"README": "x"})
	file, wrote, err := chain(dir, "", orig, testEntry)
	if err != nil || wrote || file != "" {
		t.Errorf("chain into an empty folder: %q %v %v", file, wrote, err)
	}
}
