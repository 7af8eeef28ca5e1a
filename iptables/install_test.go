package iptables

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeTools puts shell scripts named like the iptables tools first on
// PATH: each logs its name and arguments (and a restore its input) and
// prints outputs[name], or fails when outputs[name] is "FAIL". It returns
// the log's path.
func fakeTools(t *testing.T, outputs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "calls.log")
	for _, f := range []Family{IPv4, IPv6} {
		for _, b := range []Backend{BackendNFT, BackendLegacy} {
			for _, tool := range []string{"save", "restore"} {
				name := commandFor(f) + "-" + string(b) + "-" + tool
				script := "#!/bin/sh\necho \"" + name + " $*\" >> " + log + "\n"
				if tool == "restore" {
					script += "sed 's/^/  /' >> " + log + "\n"
				}
				switch out := outputs[name]; out {
				case "FAIL":
					script += "echo " + name + " does not work >&2\nexit 1\n"
				default:
					script += "cat <<'END'\n" + out + "END\n"
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return log
}

// calls reads fakeTools' log: the commands, sorted (they run at once), and
// each restore's input.
func calls(t *testing.T, log string) (commands []string, inputs map[string]string) {
	t.Helper()
	data, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	inputs = map[string]string{}
	for line := range strings.Lines(string(data)) {
		if input, ok := strings.CutPrefix(line, "  "); ok {
			// Inputs of concurrent restores may interleave; only one
			// family at a time has an input in these tests.
			for cmd := range inputs {
				inputs[cmd] += input
			}
			continue
		}
		line = strings.TrimSpace(line)
		commands = append(commands, line)
		if strings.Contains(line, "-restore") {
			inputs[strings.Fields(line)[0]] = ""
		}
	}
	slices.Sort(commands)
	return commands, inputs
}

// The processes Install and Uninstall run, with fake tools: which saves,
// which restores, and from which table each restore starts.
func TestInstallProcesses(t *testing.T) {
	const (
		empty  = "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
		legacy = "*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p udp -j ACCEPT\nCOMMIT\n"
		// An older version's jump in nat, and a chain of the same name in
		// filter that is not planeless's.
		older = "*filter\n:PLANELESS_OUTPUT - [0:0]\n-A OUTPUT -j PLANELESS_OUTPUT\nCOMMIT\n" +
			"*nat\n:OUTPUT ACCEPT [0:0]\n:PLANELESS_OUTPUT - [0:0]\n-A OUTPUT -p tcp -m comment --comment old -j PLANELESS_OUTPUT\nCOMMIT\n"
		leftover = "*nat\n:PLANELESS_OUTPUT - [0:0]\n-A OUTPUT -p tcp -j PLANELESS_OUTPUT\nCOMMIT\n"
	)
	v4only := DefaultConfig()
	v4only.InboundPorts = []uint16{8080}
	v4only.IPv6 = false
	tests := map[string]struct {
		backend   Backend
		uninstall bool
		outputs   map[string]string
		want      []string
		// wantInput holds a line each restore's input must have.
		wantInput map[string]string
		notInput  map[string]string
	}{
		"auto reads IPv4's nat table from the chosen variant's save instead of saving it again": {
			backend: BackendAuto,
			outputs: map[string]string{"iptables-nft-save": empty, "iptables-legacy-save": empty, "ip6tables-nft-save": empty},
			want: []string{
				"ip6tables-nft-save -t nat",
				"iptables-legacy-save",
				"iptables-nft-restore --noflush --wait",
				"iptables-nft-save",
			},
			wantInput: map[string]string{"iptables-nft-restore": "-A OUTPUT -p tcp -m comment --comment planeless/outbound -j PLANELESS_OUTPUT"},
		},
		"auto with rules in legacy only installs through legacy": {
			backend: BackendAuto,
			outputs: map[string]string{"iptables-nft-save": empty, "iptables-legacy-save": legacy, "ip6tables-legacy-save": empty},
			want: []string{
				"ip6tables-legacy-save -t nat",
				"iptables-legacy-restore --noflush --wait",
				"iptables-legacy-save",
				"iptables-nft-save",
			},
		},
		"auto where nft does not work installs through legacy": {
			backend: BackendAuto,
			outputs: map[string]string{"iptables-nft-save": "FAIL", "iptables-legacy-save": "", "ip6tables-legacy-save": ""},
			want: []string{
				"ip6tables-legacy-save -t nat",
				"iptables-legacy-restore --noflush --wait",
				"iptables-legacy-save",
				"iptables-nft-save",
			},
		},
		"the IPv4 transaction starts from the nat table of the choice's save, not the filter table": {
			backend:   BackendAuto,
			outputs:   map[string]string{"iptables-nft-save": older, "iptables-legacy-save": "", "ip6tables-nft-save": empty},
			want:      []string{"ip6tables-nft-save -t nat", "iptables-legacy-save", "iptables-nft-restore --noflush --wait", "iptables-nft-save"},
			wantInput: map[string]string{"iptables-nft-restore": "-D OUTPUT -p tcp -m comment --comment old -j PLANELESS_OUTPUT"},
			notInput:  map[string]string{"iptables-nft-restore": "-D OUTPUT -j PLANELESS_OUTPUT"},
		},
		"a given backend saves each family's nat table itself": {
			backend: BackendNFT,
			outputs: map[string]string{"iptables-nft-save": empty, "ip6tables-nft-save": empty},
			want:    []string{"ip6tables-nft-save -t nat", "iptables-nft-restore --noflush --wait", "iptables-nft-save -t nat"},
		},
		"IPv6 rules of an earlier run are removed when IPv6 is off": {
			backend:   BackendNFT,
			outputs:   map[string]string{"iptables-nft-save": empty, "ip6tables-nft-save": leftover},
			want:      []string{"ip6tables-nft-restore --noflush --wait", "ip6tables-nft-save -t nat", "iptables-nft-restore --noflush --wait", "iptables-nft-save -t nat"},
			wantInput: map[string]string{"ip6tables-nft-restore": "-X PLANELESS_OUTPUT"},
		},
		"cleanup with nothing installed runs no iptables-restore": {
			backend:   BackendNFT,
			uninstall: true,
			outputs:   map[string]string{"iptables-nft-save": empty},
			want:      []string{"iptables-nft-save -t nat"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			log := fakeTools(t, tc.outputs)
			var err error
			if tc.uninstall {
				_, err = Uninstall(t.Context(), tc.backend, false)
			} else {
				_, err = Install(t.Context(), tc.backend, v4only)
			}
			if err != nil {
				t.Fatal(err)
			}
			got, inputs := calls(t, log)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("processes run (-want +got):\n%s", diff)
			}
			for cmd, line := range tc.wantInput {
				if !slices.Contains(lines(inputs[cmd]), line) {
					t.Errorf("%s's input lacks %q:\n%s", cmd, line, inputs[cmd])
				}
			}
			for cmd, line := range tc.notInput {
				if slices.Contains(lines(inputs[cmd]), line) {
					t.Errorf("%s's input has %q:\n%s", cmd, line, inputs[cmd])
				}
			}
		})
	}
}

// TestInstallFailures: a failing family fails Install, with every process
// it started waited for, and a failing optional IPv6 cleanup does not.
func TestInstallFailures(t *testing.T) {
	c := DefaultConfig()
	c.IPv6 = false
	t.Run("a failing IPv4 restore fails the install and names the family", func(t *testing.T) {
		fakeTools(t, map[string]string{"iptables-nft-save": "", "ip6tables-nft-save": "", "iptables-nft-restore": "FAIL"})
		_, err := Install(context.Background(), BackendNFT, c)
		if err == nil || !strings.Contains(err.Error(), "installing ipv4 rules") || !strings.Contains(err.Error(), "iptables-nft-restore does not work") {
			t.Errorf("Install = %v, want an error about the IPv4 restore", err)
		}
	})
	t.Run("a failing IPv6 save does not fail an install without IPv6", func(t *testing.T) {
		fakeTools(t, map[string]string{"iptables-nft-save": "", "ip6tables-nft-save": "FAIL"})
		if _, err := Install(t.Context(), BackendNFT, c); err != nil {
			t.Errorf("Install = %v, want no error", err)
		}
	})
	t.Run("a failing IPv6 save fails an uninstall with IPv6", func(t *testing.T) {
		fakeTools(t, map[string]string{"iptables-nft-save": "", "ip6tables-nft-save": "FAIL"})
		if _, err := Uninstall(t.Context(), BackendNFT, true); err == nil || !strings.Contains(err.Error(), "removing ipv6 rules") {
			t.Errorf("Uninstall = %v, want an error about IPv6", err)
		}
	})
}

// TestVerifyWithFakeTools: Verify reads the tables the way Install does,
// and a tool that cannot even start fails it with its name, every other
// process waited for.
func TestVerifyWithFakeTools(t *testing.T) {
	c := DefaultConfig()
	c.InboundPorts = []uint16{8080}
	installed := func(f Family) string {
		return "*nat\n" + strings.Join(inSaveOrder(Plan(c), f), "\n") + "\nCOMMIT\n"
	}
	t.Run("rules in place through nft pass, IPv4's table read from the auto choice's save", func(t *testing.T) {
		log := fakeTools(t, map[string]string{"iptables-nft-save": installed(IPv4), "iptables-legacy-save": "", "ip6tables-nft-save": installed(IPv6)})
		if err := Verify(t.Context(), BackendAuto, c); err != nil {
			t.Fatalf("Verify = %v, want nil", err)
		}
		got, _ := calls(t, log)
		if want := []string{"ip6tables-nft-save -t nat", "iptables-legacy-save", "iptables-nft-save"}; !slices.Equal(got, want) {
			t.Errorf("processes run = %q, want %q", got, want)
		}
	})
	t.Run("a missing IPv6 rule fails", func(t *testing.T) {
		fakeTools(t, map[string]string{"iptables-nft-save": installed(IPv4), "ip6tables-nft-save": "*nat\nCOMMIT\n"})
		if err := Verify(t.Context(), BackendNFT, c); err == nil || !strings.Contains(err.Error(), "are missing (nft)") {
			t.Errorf("Verify = %v, want an error listing the missing rules", err)
		}
	})
	t.Run("a save that cannot start fails with its name", func(t *testing.T) {
		log := fakeTools(t, map[string]string{"iptables-nft-save": installed(IPv4)})
		dir := filepath.Dir(log)
		if err := os.Remove(filepath.Join(dir, "ip6tables-nft-save")); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PATH", dir)
		if err := Verify(t.Context(), BackendNFT, c); err == nil || !strings.Contains(err.Error(), "running ip6tables-nft-save") {
			t.Errorf("Verify = %v, want an error naming ip6tables-nft-save", err)
		}
	})
}
