package bootstrap

import (
	"bytes"
	"encoding/json"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/planeless/planeless/proxy"
)

// compact writes what json.Compact writes, on the whitespace protojson
// varies and on strings holding whitespace, quotes and backslashes.
func TestCompactWritesWhatJSONCompactWrites(t *testing.T) {
	spec := &proxy.Spec{
		Workload: proxy.Workload{Namespace: "shop", Name: "cart", App: "cart", Version: "v1"},
		Inbound:  []proxy.Port{{Number: 8080, Protocol: proxy.ProtocolHTTP}},
		Egress:   true,
		Proxy:    proxy.Sidecar{Ports: proxy.DefaultDefaults().Ports},
	}
	b, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := protojson.MarshalOptions{UseProtoNames: true, Multiline: true}.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{
		"a bootstrap, printed on many lines": string(rendered),
		"blanks between tokens":              " { \"a\" :\t[ 1 , 2 ] ,\r\n \"b\" : { } } ",
		"blanks inside strings":              `{"a b": " c\td "}`,
		"escaped quotes and backslashes":     `{"q": "say \"hi\" ", "bs": "ends with \\", "x" : "\\\" still a string "}`,
		"unicode escapes":                    `{"u": "\u0022 \u005c" , "v" : 1}`,
	} {
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(in)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := compact([]byte(in)); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want.Bytes())
		}
	}
}
