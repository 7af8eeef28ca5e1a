package tap

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFilterSelectsRealEntries(t *testing.T) {
	all := shopEntries(t)
	mustPath := func(s string) *PathMatch {
		m, err := ParsePath(s)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	mustStatus := func(s string) []StatusRange {
		r, err := ParseStatus(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := map[string]struct {
		filter Filter
		want   []string // direction method status path
	}{
		"server errors by range": {Filter{Status: mustStatus("500-599")}, []string{
			"outbound GET 503 /api/fail?status=503",
			"outbound GET 503 /closed",
			"inbound GET 503 /api/fail?status=503",
		}},
		"a list of a code and a class": {Filter{Status: mustStatus("404, 5xx"), Direction: Inbound}, []string{
			"inbound GET 503 /api/fail?status=503",
			"inbound GET 404 /healthz?status=404",
		}},
		"methods, case-insensitively": {Filter{Methods: ParseMethods("delete,Post"), Direction: Outbound}, []string{
			"outbound POST 200 /grpc.testing.TestService/UnaryCall",
			"outbound POST 200 /grpc.testing.TestService/UnaryCall",
			"outbound POST 200 /api/orders",
			"outbound DELETE 200 /api/orders/7",
		}},
		"a path prefix": {Filter{Path: mustPath("/api/orders"), Direction: Inbound}, []string{
			"inbound POST 200 /api/orders",
			"inbound DELETE 200 /api/orders/7",
		}},
		"a path regular expression after ~": {Filter{Path: mustPath(`~^/api/orders/\d+$`)}, []string{
			"outbound DELETE 200 /api/orders/7",
			"inbound DELETE 200 /api/orders/7",
		}},
		"a path prefix is not a regular expression": {Filter{Path: mustPath("/api/.*")}, nil},
		"an authority with its port": {Filter{Authorities: ParseAuthorities("server.shop:8081")}, []string{
			"outbound GET 503 /closed",
		}},
		"an authority without a port matches every port": {Filter{Authorities: ParseAuthorities("SERVER.shop"), Methods: []string{"POST"}, Direction: Inbound}, []string{
			"inbound POST 200 /grpc.testing.TestService/UnaryCall",
			"inbound POST 200 /grpc.testing.TestService/UnaryCall",
			"inbound POST 200 /api/orders",
		}},
		"an unknown authority": {Filter{Authorities: []string{"catalog"}}, nil},
		"the inbound direction with a status": {Filter{Direction: Inbound, Status: mustStatus("200"), Path: mustPath("/from")}, []string{
			"inbound GET 200 /from-outside",
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, e := range all {
				if tc.filter.Match(e) {
					got = append(got, fmt.Sprintf("%s %s %d %s", e.Direction, e.Method, e.ResponseCode, e.Path))
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("matching entries (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("an empty filter matches every entry", func(t *testing.T) {
		for _, e := range all {
			if !(Filter{}).Match(e) {
				t.Errorf("the empty filter rejects %s", e.Raw)
			}
		}
	})
}

func TestParseStatus(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    []StatusRange
		wantErr bool
	}{
		"one code":                    {in: "404", want: []StatusRange{{404, 404}}},
		"a range":                     {in: "500-599", want: []StatusRange{{500, 599}}},
		"a class":                     {in: "4xx", want: []StatusRange{{400, 499}}},
		"a list with spaces":          {in: "200, 500-504 ,5XX", want: []StatusRange{{200, 200}, {500, 504}, {500, 599}}},
		"0, Envoy's no-response code": {in: "0", want: []StatusRange{{0, 0}}},
		"a backwards range":           {in: "599-500", wantErr: true},
		"a word":                      {in: "error", wantErr: true},
		"an open range":               {in: "500-", wantErr: true},
		"a class that does not exist": {in: "9xx", wantErr: true},
		"a code out of range":         {in: "1000", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseStatus(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseStatus(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseStatus(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestParseDirectionAndPath(t *testing.T) {
	for in, want := range map[string]Direction{"": "", "inbound": Inbound, "OUTBOUND": Outbound} {
		if got, err := ParseDirection(in); err != nil || got != want {
			t.Errorf("ParseDirection(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseDirection("both"); err == nil {
		t.Error("ParseDirection(both) succeeded")
	}
	if _, err := ParsePath("~(unclosed"); err == nil {
		t.Error("ParsePath accepted a broken regular expression")
	}
}
