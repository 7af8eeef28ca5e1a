package proxy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// Every annotation example of the traffic policy documentation is accepted
// as written.
func TestPolicyExamplesInTheDocsAreValid(t *testing.T) {
	blocks := 0
	for _, file := range []string{filepath.Join("..", "README.md"), filepath.Join("..", "docs", "traffic-policy.md")} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(data), -1) {
			var doc map[string]any
			if err := yaml.Unmarshal([]byte(m[1]), &doc); err != nil {
				t.Errorf("%s: a yaml block does not parse: %v\n%s", file, err, m[1])
				continue
			}
			if meta, ok := doc["metadata"].(map[string]any); ok {
				if a, ok := meta["annotations"].(map[string]any); ok {
					doc = a
				}
			}
			annotations := map[string]string{}
			for k, v := range doc {
				if s, ok := v.(string); ok && strings.HasPrefix(k, Prefix) {
					annotations[k] = s
				}
			}
			if len(annotations) == 0 || annotations[Prefix+"routes"] == "" && annotations[Prefix+"egress-policy"] == "" && annotations[Prefix+"egress-allow"] == "" {
				continue
			}
			blocks++
			pod := testPod()
			pod.Annotations = annotations
			if _, _, err := FromPod(pod, DefaultDefaults()); err != nil {
				t.Errorf("%s: the example is refused: %v\n%s", file, err, m[1])
			}
		}
	}
	if blocks < 8 {
		t.Errorf("found %d policy examples in the docs, want at least 8", blocks)
	}
}
