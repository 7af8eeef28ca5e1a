package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/planeless/planeless/tap"
)

func TestDisplayNameIsKubectlPlanelessAsAPlugin(t *testing.T) {
	tests := map[string]string{
		"planeless":                             "planeless",
		"/usr/local/bin/planeless":              "planeless",
		"/home/me/.local/bin/kubectl-planeless": "kubectl planeless",
		"kubectl-planeless.exe":                 "kubectl planeless",
		"kubectl-planeless-old":                 "planeless",
	}
	for argv0, want := range tests {
		if got := displayName(argv0); got != want {
			t.Errorf("displayName(%q) = %q, want %q", argv0, got, want)
		}
	}
}

func TestTapFlagsMakeTheFilter(t *testing.T) {
	f := tapFlags{method: "get,post", status: "404,5xx", authority: "a:80, b", dir: "Inbound", path: "~^/api/"}
	got, err := f.filter()
	if err != nil {
		t.Fatal(err)
	}
	want := tap.Filter{
		Methods:     []string{"GET", "POST"},
		Status:      []tap.StatusRange{{Lo: 404, Hi: 404}, {Lo: 500, Hi: 599}},
		Authorities: []string{"a:80", "b"},
		Direction:   tap.Inbound,
	}
	if got.Path == nil || got.Path.String() != "~^/api/" {
		t.Errorf("path filter %v, want ~^/api/", got.Path)
	}
	got.Path = nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("filter (-want +got):\n%s", diff)
	}

	for name, bad := range map[string]tapFlags{
		"a status that is no code":    {status: "oops"},
		"a broken regular expression": {path: "~("},
		"a direction that is not one": {dir: "both"},
	} {
		if _, err := bad.filter(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
