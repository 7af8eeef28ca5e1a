package inject

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

func TestEditYAML(t *testing.T) {
	tests := map[string]struct {
		in, want string
		edit     func(map[string]any)
	}{
		"adds a key at the end of its mapping and keeps comments, order and quoting": {
			in: `# a pod
kind: Pod
metadata:
  name: 'web'   # quoted
  labels: {app: web}
spec: {}
`,
			edit: func(o map[string]any) {
				meta := o["metadata"].(map[string]any)
				meta["annotations"] = map[string]any{"b": "2", "a": "1"}
			},
			want: `# a pod
kind: Pod
metadata:
  name: 'web'   # quoted
  labels: {app: web}
  annotations:
    a: "1"
    b: "2"
spec: {}
`,
		},
		"inserts an item above the comment introducing the next one": {
			in: `containers:
# the application
- name: app
  image: app
`,
			edit: func(o map[string]any) {
				o["containers"] = append([]any{map[string]any{"name": "proxy"}}, o["containers"].([]any)...)
			},
			want: `containers:
- name: proxy
# the application
- name: app
  image: app
`,
		},
		"appends after a block scalar, not inside it": {
			in: `args:
- |
  echo one
  # not a YAML comment
volumes: []
`,
			edit: func(o map[string]any) { o["args"] = append(o["args"].([]any), "two") },
			want: `args:
- |
  echo one
  # not a YAML comment
- two
volumes: []
`,
		},
		"follows an indented list's indentation": {
			in: `spec:
  volumes:
    - name: data
      emptyDir: {}
  nodeName: n
`,
			edit: func(o map[string]any) {
				spec := o["spec"].(map[string]any)
				spec["volumes"] = append(spec["volumes"].([]any), map[string]any{"name": "more"})
			},
			want: `spec:
  volumes:
    - name: data
      emptyDir: {}
    - name: more
  nodeName: n
`,
		},
		"rewrites only the flow entry it must add to": {
			in: `metadata:
  labels: {app: web}   # kept
  annotations: {a: "1"}
`,
			edit: func(o map[string]any) {
				o["metadata"].(map[string]any)["annotations"].(map[string]any)["b"] = "2"
			},
			want: `metadata:
  labels: {app: web}   # kept
  annotations:
    a: "1"
    b: "2"
`,
		},
		"removes an entry with its nested lines": {
			in: `metadata:
  annotations:
    x: |
      multi
      line
  name: web
`,
			edit: func(o map[string]any) { delete(o["metadata"].(map[string]any), "annotations") },
			want: `metadata:
  name: web
`,
		},
		"re-encodes a document that uses an alias": {
			in: `a: &shared {x: 1}
b: *shared
`,
			edit: func(o map[string]any) { o["a"] = map[string]any{"x": 2} },
			want: `a:
  x: 2
b:
  x: 1
`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(tc.in), &obj); err != nil {
				t.Fatal(err)
			}
			tc.edit(obj)
			got, err := editYAML([]byte(tc.in), obj)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("edited document (-want +got):\n%s", diff)
			}
		})
	}
}

// Editing back to the original gives the original bytes: what an edit
// inserts, the reverse edit removes, line for line.
func TestEditYAMLUndoesItsOwnEdits(t *testing.T) {
	in := `apiVersion: apps/v1
kind: Deployment   # a comment
metadata:
  name: web
spec:
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        # the app
        - name: web
          image: "web:1"
`
	var orig, obj map[string]any
	if err := yaml.Unmarshal([]byte(in), &orig); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(in), &obj); err != nil {
		t.Fatal(err)
	}
	tmpl := obj["spec"].(map[string]any)["template"].(map[string]any)
	tmpl["metadata"].(map[string]any)["annotations"] = map[string]any{"k": "v"}
	spec := tmpl["spec"].(map[string]any)
	spec["containers"] = append([]any{map[string]any{"name": "proxy"}}, spec["containers"].([]any)...)
	spec["initContainers"] = []any{map[string]any{"name": "init"}}
	spec["volumes"] = []any{map[string]any{"name": "v", "emptyDir": map[string]any{}}}

	edited, err := editYAML([]byte(in), obj)
	if err != nil {
		t.Fatal(err)
	}
	back, err := editYAML(edited, orig)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, string(back)); diff != "" {
		t.Errorf("editing back differs from the original (-orig +back):\n%s\nedited:\n%s", diff, edited)
	}
}
