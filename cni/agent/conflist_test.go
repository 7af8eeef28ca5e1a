package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planeless/planeless/cni"
	"github.com/planeless/planeless/tests/golden"
)

var testEntry = Entry("/etc/cni/net.d/planeless-cni/kubeconfig", []string{"kube-system"})

// Each configuration gets the plugin as its last plugin (testdata/*.chained
// are the results), and loses it again.
func TestInsertChainsThePluginLast(t *testing.T) {
	tests := map[string]struct {
		file, wantName string
	}{
		"a configuration list gets the plugin appended":               {file: "bridge.conflist", wantName: "bridge.conflist"},
		"a single plugin's .conf becomes a list of it and the plugin": {file: "flannel.conf", wantName: "flannel.conflist"},
		"an older entry of the plugin is replaced, at the end":        {file: "chained-before.conflist", wantName: "chained-before.conflist"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			written, out, err := Insert(tc.file, data, testEntry)
			if err != nil {
				t.Fatal(err)
			}
			if written != tc.wantName {
				t.Errorf("written as %s, want %s", written, tc.wantName)
			}
			golden.Assert(t, filepath.Join("testdata", tc.file+".chained"), out)
			if !Has(written, out) {
				t.Error("Has does not see the entry Insert wrote")
			}
			if again, twice, _ := Insert(written, out, testEntry); again != written || string(twice) != string(out) {
				t.Error("inserting into the result changes it")
			}
			removed, had, err := Remove(written, out)
			if err != nil || !had {
				t.Fatalf("Remove: %v, had %v", err, had)
			}
			if Has(written, removed) || strings.Contains(string(removed), cni.PluginType) {
				t.Errorf("the entry is still there:\n%s", removed)
			}
		})
	}
}

func TestBadConfigurationsAreRefusedNamingTheFile(t *testing.T) {
	tests := map[string]struct{ data, want string }{
		"not JSON":                    {data: "{", want: "parsing 10-x.conflist"},
		"neither a list nor a plugin": {data: `{"name": "x"}`, want: "10-x.conflist is neither a configuration list"},
		"plugins not a list":          {data: `{"plugins": {}}`, want: "parsing the plugins of 10-x.conflist"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, err := Insert("10-x.conflist", []byte(tc.data), testEntry)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Insert = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
