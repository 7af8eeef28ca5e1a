package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/tests/golden"
	"github.com/planeless/planeless/tests/need"
)

func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, version: v2}
      annotations: {planeless.dev/ports: "8080:http,9090:grpc"}
    spec:
      containers:
      - name: web
        image: example.com/web:2
`

func TestInjectReadsStandardInputAndIsIdempotent(t *testing.T) {
	once, stderr, err := run(t, deployment, "inject", "-f", "-")
	if err != nil {
		t.Fatalf("inject: %v (%s)", err, stderr)
	}
	if !strings.Contains(once, "name: planeless-proxy") || !strings.Contains(once, "planeless.dev/bootstrap:") {
		t.Fatalf("output is not injected:\n%s", once)
	}
	twice, _, err := run(t, once, "inject", "-f", "-")
	if err != nil {
		t.Fatal(err)
	}
	if twice != once {
		t.Error("injecting the output again changed it")
	}
}

func TestInjectRefusesInvalidAnnotations(t *testing.T) {
	bad := strings.Replace(deployment, "9090:grpc", "9090:quic", 1)
	stdout, _, err := run(t, bad, "inject", "-f", "-")
	if err == nil {
		t.Fatal("inject accepted an invalid protocol")
	}
	for _, want := range []string{"Deployment web", "planeless.dev/ports", `"8080:http,9090:quic"`, `protocol "quic" of port 9090 is unknown`, "auto, http, grpc, tcp"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if stdout != "" {
		t.Errorf("wrote output despite the error:\n%s", stdout)
	}
}

func TestInjectHonoursOperatorDefaults(t *testing.T) {
	out, _, err := run(t, deployment, "inject", "-f", "-", "--proxy-uid=2102", "--native-sidecar=false")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "runAsUser: 2102") || !strings.Contains(out, "--proxy-uid=2102") {
		t.Error("--proxy-uid did not reach the proxy and the rules")
	}
	if strings.Contains(out, "restartPolicy: Always") {
		t.Error("--native-sidecar=false still made a native sidecar")
	}
}

func TestRenderPrintsTheBootstrapEnvoyAccepts(t *testing.T) {
	out, _, err := run(t, deployment, "render", "-f", "-")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "testdata/render-deployment.yaml", []byte(out))

	envoy := need.Envoy(t)
	path := filepath.Join(t.TempDir(), "bootstrap.yaml")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.CommandContext(t.Context(), envoy, "--mode", "validate", "-c", path).CombinedOutput(); err != nil {
		t.Fatalf("envoy refused the rendered bootstrap: %v\n%s", err, msg)
	}
}

// render -o json prints exactly what the injected pod's annotation carries.
func TestRenderJSONIsTheAnnotation(t *testing.T) {
	js, _, err := run(t, deployment, "render", "-f", "-", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	injected, _, err := run(t, deployment, "inject", "-f", "-")
	if err != nil {
		t.Fatal(err)
	}
	var obj struct {
		Spec struct {
			Template struct {
				Metadata struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(injected), &obj); err != nil {
		t.Fatal(err)
	}
	if got := obj.Spec.Template.Metadata.Annotations["planeless.dev/bootstrap"]; got != js {
		t.Errorf("render -o json differs from the annotation:\n%.200s\n%.200s", js, got)
	}
}

func TestRenderWithoutAPod(t *testing.T) {
	_, _, err := run(t, "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n", "render", "-f", "-")
	if err == nil || !strings.Contains(err.Error(), "no Pod or workload in the input (found: Service)") {
		t.Fatalf("error = %v", err)
	}
}

func TestVersion(t *testing.T) {
	out, _, err := run(t, "", "version")
	if err != nil || !strings.Contains(out, "envoy 1.40.0") {
		t.Fatalf("version: %q %v", out, err)
	}
}
