package chart_test

import (
	"os/exec"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/planeless/planeless/tests/harness"
)

// The Deployment's command line parses: every flag the chart passes exists
// in `planeless webhook` and every value has the flag's type (cobra parses
// the flags before it prints --help, and fails on any it cannot take).
func TestTheWebhookAcceptsTheChartsFlags(t *testing.T) {
	bin := harness.Planeless(t)
	tests := map[string]string{
		"default values":     "",
		"non-default values": nonDefault,
		"files mode and url": "tls: {mode: files}\nwebhook: {url: https://127.0.0.1:9443, caBundle: Zm9v}\n",
	}
	for name, values := range tests {
		t.Run(name, func(t *testing.T) {
			c := typed[appsv1.Deployment](t, render(t, values), "Deployment").Spec.Template.Spec.Containers[0]
			args := append(append([]string{}, c.Args...), "--help")
			out, err := exec.CommandContext(t.Context(), bin, args...).CombinedOutput()
			if err != nil {
				t.Errorf("planeless %v: %v\n%s", c.Args, err, out)
			}
		})
	}
}
