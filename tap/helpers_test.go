package tap

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The testdata logs are real: the sidecar logs (stdout, then two lines of
// Envoy's own log in client.log) of the client and server pods of
// tests/dataplane, run by tests/harness, after the client called the
// server (REST 200/503/404, gRPC OK/NotFound, POST, DELETE, a closed port)
// and a pod without a sidecar called the server.

// readLog returns the lines of testdata/name.
func readLog(t *testing.T, name string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	return lines
}

// entries parses the access-log lines of testdata/name as the pod's.
func entries(t *testing.T, name string, pod PodRef) []Entry {
	t.Helper()
	var es []Entry
	for _, l := range readLog(t, name) {
		e, err := Parse(l)
		if errors.Is(err, ErrNotAccessLog) {
			continue
		}
		if err != nil {
			t.Fatalf("parsing %s: %v", l, err)
		}
		e.Source = pod
		es = append(es, e)
	}
	return es
}

var (
	clientPod = PodRef{Namespace: "shop", Name: "client-6f7d9c8b4-x2x7k"}
	serverPod = PodRef{Namespace: "shop", Name: "server-5d8f7b6c9-m4q2z"}
)

// shopEntries are the client's entries then the server's.
func shopEntries(t *testing.T) []Entry {
	t.Helper()
	return append(entries(t, "client.log", clientPod), entries(t, "server.log", serverPod)...)
}
