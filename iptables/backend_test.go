package iptables

import (
	"errors"
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

func TestChoose(t *testing.T) {
	const (
		none  = "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
		rules = "*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p udp -j ACCEPT\nCOMMIT\n"
	)
	broken := errors.New("iptables-nft-save: exit status 1")
	tests := map[string]struct {
		nft, legacy probe
		want        Backend
		wantErr     string
	}{
		"legacy is chosen when only legacy has rules":             {nft: probe{save: none}, legacy: probe{save: rules}, want: BackendLegacy},
		"nft is chosen when both have rules":                      {nft: probe{save: rules}, legacy: probe{save: rules}, want: BackendNFT},
		"nft is chosen when neither has rules":                    {nft: probe{save: none}, legacy: probe{save: none}, want: BackendNFT},
		"nft is chosen when only nft has rules":                   {nft: probe{save: rules}, legacy: probe{save: none}, want: BackendNFT},
		"nft is chosen when legacy does not work":                 {nft: probe{save: none}, legacy: probe{err: broken}, want: BackendNFT},
		"legacy is chosen when nft does not work":                 {nft: probe{err: broken}, legacy: probe{save: none}, want: BackendLegacy},
		"legacy is chosen when nft does not work, even with none": {nft: probe{err: broken}, legacy: probe{save: ""}, want: BackendLegacy},
		"neither working is an error":                             {nft: probe{err: broken}, legacy: probe{err: broken}, wantErr: "neither iptables variant works"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := choose(tc.nft, tc.legacy)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("choose = %q, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("choose = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
