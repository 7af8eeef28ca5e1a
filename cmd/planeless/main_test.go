package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/inject"
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

// Every flag is checked before the webhook starts: a bad value stops it at
// once with a message naming the flag, the value and what is allowed.
func TestWebhookRefusesBadFlagsBeforeStarting(t *testing.T) {
	files := []string{"--tls-cert-file=/nonexistent/tls.crt", "--tls-key-file=/nonexistent/tls.key"}
	tests := map[string]struct {
		args []string
		want []string
	}{
		"an unknown log level": {[]string{"--proxy-log-level=bogus"},
			[]string{`"bogus"`, "--proxy-log-level", "unknown log level (allowed: trace, debug, info, warning, error, critical, off)"}},
		"the inbound port on the stats port": {[]string{"--proxy-inbound-port=15090"},
			[]string{"--proxy-inbound-port and --proxy-stats-port are both 15090: the proxy's ports must differ"}},
		"the stats port on the outbound port": {[]string{"--proxy-stats-port=15001"},
			[]string{"--proxy-outbound-port and --proxy-stats-port are both 15001"}},
		"no worker thread": {[]string{"--proxy-concurrency=0"},
			[]string{`"0"`, "--proxy-concurrency", "(allowed: an integer from 1 to 64)"}},
		"a negative drain time": {[]string{"--drain-seconds=-3"},
			[]string{`"-3"`, "--drain-seconds", "(allowed: an integer from 0 to 300)"}},
		"an unknown access log format": {[]string{"--access-log=bogus"},
			[]string{`"bogus"`, "--access-log", "(allowed: json, text, off)"}},
		"the proxy as root": {[]string{"--proxy-uid=0"},
			[]string{`"0"`, "--proxy-uid", "(allowed: an integer from 1 to 2147483647)"}},
		"tracing without a collector": {[]string{"--tracing=otlp"},
			[]string{"--tracing=otlp needs --tracing-endpoint"}},
		"a port range past the bound": {[]string{"--exclude-outbound-ports=1-1000"},
			[]string{"--exclude-outbound-ports", "more than 256 ports"}},
		"a missing templates folder": {[]string{"--templates=/nonexistent"},
			[]string{"--templates=/nonexistent", "no such file or directory"}},
		"a listen address without a port": {[]string{"--listen=localhost"},
			[]string{`invalid value "localhost" for --listen: allowed: [HOST]:PORT`}},
		"an unknown certificate mode": {[]string{"--cert-mode=magic"},
			[]string{`invalid value "magic" for --cert-mode: allowed: files, self`}},
		"self certificates without a Secret": {[]string{"--cert-mode=self", "--cert-dir=/tmp/x"},
			[]string{"--cert-mode=self needs --secret-name"}},
		"no review slot": {[]string{"--max-concurrent-reviews=0"},
			[]string{"invalid value 0 for --max-concurrent-reviews"}},
		"an unknown log format": {[]string{"--log-format=xml"},
			[]string{`invalid value "xml" for --log-format: allowed: json, text`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, err := run(t, "", append(append([]string{"webhook", "--listen=127.0.0.1:0", "--metrics-listen="}, files...), tc.args...)...)
			if err == nil {
				t.Fatal("the webhook accepted the flags")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

// render goes through the injector, as the webhook: the same skip rules,
// the same validation of its flags, the same templates.
func TestRenderGoesThroughTheInjector(t *testing.T) {
	hostNetwork := "apiVersion: v1\nkind: Pod\nmetadata: {name: agent}\nspec: {hostNetwork: true, containers: [{name: a, image: a}]}\n"
	tests := map[string]struct {
		stdin string
		args  []string
		want  string
	}{
		"a host-network pod has no bootstrap": {hostNetwork, nil,
			"Pod agent: not injected, so it has no bootstrap: pod uses the host network"},
		"a bad access log flag is refused": {deployment, []string{"--access-log=bogus"},
			`invalid argument "bogus" for "--access-log" flag: unknown access log format (allowed: json, text, off)`},
		"a missing templates folder is refused": {deployment, []string{"--templates=/nonexistent"}, "--templates=/nonexistent"},
		"an invalid annotation is refused as at admission": {strings.Replace(deployment, "9090:grpc", "9090:quic", 1), nil,
			`invalid value "8080:http,9090:quic" for annotation planeless.dev/ports`},
		"an unknown output is refused": {deployment, []string{"-o", "xml"}, `invalid value "xml" for --output: allowed: yaml, json`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, err := run(t, tc.stdin, append([]string{"render", "-f", "-"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// render prints exactly the bootstrap inject writes into the pod, for every
// pod-bearing object of the corpus.
func TestRenderAndInjectAgreeOnTheCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(need.RepoRoot(), "tests", "corpus", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(data), "\n---\n") {
			var obj struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil || !inject.PodBearing(obj.Kind) {
				continue
			}
			n++
			t.Run(filepath.Base(file)+"/"+obj.Kind+"/"+obj.Metadata.Name, func(t *testing.T) {
				rendered, _, err := run(t, doc, "render", "-f", "-", "-o", "json", "-n", "corpus")
				if err != nil {
					t.Fatal(err)
				}
				injected, _, err := run(t, doc, "inject", "-f", "-", "-n", "corpus")
				if err != nil {
					t.Fatal(err)
				}
				if got := bootstrapOf(t, injected); got != rendered {
					t.Errorf("render and inject differ:\n%.200s\n%.200s", rendered, got)
				}
			})
		}
	}
	if n < 4 {
		t.Fatalf("only %d pod-bearing objects in the corpus", n)
	}
}

// bootstrapOf reads the bootstrap annotation of an injected Pod or
// workload.
func bootstrapOf(t *testing.T, manifest string) string {
	t.Helper()
	var obj unstructured.Unstructured
	if err := yaml.Unmarshal([]byte(manifest), &obj.Object); err != nil {
		t.Fatal(err)
	}
	pod, err := inject.PodOf(&obj)
	if err != nil {
		t.Fatal(err)
	}
	return pod.Annotations["planeless.dev/bootstrap"]
}
