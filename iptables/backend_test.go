package iptables

import (
	"strings"
	"testing"
)

func TestParseBackend(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    Backend
		wantErr string
	}{
		"auto":                 {in: "auto", want: BackendAuto},
		"nft":                  {in: "nft", want: BackendNFT},
		"legacy":               {in: "legacy", want: BackendLegacy},
		"an unknown variant":   {in: "ebpf", wantErr: `unknown iptables backend "ebpf"`},
		"a different spelling": {in: "NFT", wantErr: `unknown iptables backend "NFT"`},
		"nothing":              {in: "", wantErr: `unknown iptables backend ""`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseBackend(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("ParseBackend(%q) = %v, want an error containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseBackend(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestRestoreNeedsAResolvedBackend(t *testing.T) {
	if err := Restore(t.Context(), BackendAuto, IPv4, nil); err == nil || !strings.Contains(err.Error(), "not resolved") {
		t.Errorf("Restore(auto) = %v, want an error saying the backend is not resolved", err)
	}
}
