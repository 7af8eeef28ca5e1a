package inject

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// editYAML returns doc changed so that it holds updated, touching only the
// lines that differ: the user's comments, key order, quoting and
// indentation survive, and what is added is written as sigs.k8s.io/yaml
// writes it, indented to fit. Injection and uninjection go through it, so
// that `planeless inject | planeless uninject` gives back its input byte for
// byte: the one removes exactly the lines the other inserted.
//
// A part that cannot be edited line by line (flow style such as
// `labels: {app: web}` where something must be added, two nodes on one
// line) is rewritten whole, from its nearest enclosing line-sized entry; a
// document using aliases or merge keys is re-encoded whole. The result is
// parsed again and compared with updated, and re-encoded whole if it
// differs, so an edit can cost formatting, never correctness.
func editYAML(doc []byte, updated any) ([]byte, error) {
	want, err := normalize(updated)
	if err != nil {
		return nil, err
	}
	canonical := func() ([]byte, error) { return yaml.Marshal(want) }

	text := string(withNewline(doc))
	var root yamlv3.Node
	if err := yamlv3.Unmarshal([]byte(text), &root); err != nil || root.Kind != yamlv3.DocumentNode || len(root.Content) != 1 {
		return canonical()
	}
	js, err := yaml.YAMLToJSON([]byte(text))
	if err != nil {
		return canonical()
	}
	var old any
	if err := json.Unmarshal(js, &old); err != nil {
		return canonical()
	}
	e := newLineEditor(text, root.Content[0])
	edits, err := e.diff(root.Content[0], old, want)
	if err != nil {
		return canonical()
	}
	out, err := e.apply(edits)
	if err != nil || !holds(out, want) {
		return canonical()
	}
	return out, nil
}

// normalize turns v into what encoding/json decodes its JSON into, so that
// values from YAML and from Go compare equal when they mean the same.
func normalize(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding object: %w", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decoding object: %w", err)
	}
	return out, nil
}

// holds reports whether the YAML doc decodes to want.
func holds(doc []byte, want any) bool {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return false
	}
	var got any
	if err := json.Unmarshal(js, &got); err != nil {
		return false
	}
	return reflect.DeepEqual(got, want)
}

// errRewrite says a node cannot be edited in place: its parent rewrites the
// entry or item holding it.
var errRewrite = errors.New("node cannot be edited line by line")

// lineEdit replaces the lines [from, to) of the document with lines; an
// insertion has from == to.
type lineEdit struct {
	from, to int
	lines    []string
}

// lineEditor edits a document's text through the positions of its nodes.
type lineEditor struct {
	lines []string // the document, without its final newline
	// next maps a node to the line (0-based) of the first node after its
	// subtree in document order, len(lines) for the last ones.
	next map[*yamlv3.Node]int
	// last maps a node to the last line holding part of its subtree.
	last map[*yamlv3.Node]int
}

func newLineEditor(text string, root *yamlv3.Node) *lineEditor {
	e := &lineEditor{
		lines: strings.Split(strings.TrimSuffix(text, "\n"), "\n"),
		next:  map[*yamlv3.Node]int{},
		last:  map[*yamlv3.Node]int{},
	}
	// Pre-order is document order, and a subtree is contiguous in it: the
	// first node after a subtree is at the subtree's index plus its size.
	var order []*yamlv3.Node
	size := map[*yamlv3.Node]int{}
	var walk func(n *yamlv3.Node) int
	walk = func(n *yamlv3.Node) int {
		start := len(order)
		order = append(order, n)
		last := n.Line - 1 + scalarLines(n)
		for _, c := range n.Content {
			last = max(last, walk(c))
		}
		e.last[n], size[n] = last, len(order)-start
		return last
	}
	walk(root)
	for i, n := range order {
		if j := i + size[n]; j < len(order) {
			e.next[n] = order[j].Line - 1
		} else {
			e.next[n] = len(e.lines)
		}
	}
	return e
}

// scalarLines is how many lines a block scalar's content takes below its
// indicator line, 0 for other nodes. A folded scalar (>) may take more than
// its value shows; the edited document is verified in any case.
func scalarLines(n *yamlv3.Node) int {
	if n.Kind != yamlv3.ScalarNode || n.Style&(yamlv3.LiteralStyle|yamlv3.FoldedStyle) == 0 || n.Value == "" {
		return 0
	}
	return strings.Count(strings.TrimRight(n.Value, "\n"), "\n") + 1
}

// end returns the line after the last one of n's subtree: up to the next
// node, less trailing blank and comment lines, but never less than n's own
// content (a multi-line plain scalar runs to the next node).
func (e *lineEditor) end(n *yamlv3.Node) int {
	end := e.next[n]
	for end-1 > e.last[n] && isBlankOrComment(e.lines[end-1]) {
		end--
	}
	return max(end, e.last[n]+1)
}

func isBlankOrComment(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || strings.HasPrefix(t, "#")
}

// ownsLines reports whether an entry or item can be cut out as whole lines:
// it starts its line (start's column col is preceded by indentation only)
// and no other node starts on the last line of subtree.
func (e *lineEditor) ownsLines(start *yamlv3.Node, col int, subtree *yamlv3.Node) bool {
	line := e.lines[start.Line-1]
	if len(line) < col || strings.TrimSpace(line[:col]) != "" {
		return false
	}
	return e.next[subtree] > e.last[subtree]
}

// diff returns the edits that turn node (holding old) into want.
func (e *lineEditor) diff(node *yamlv3.Node, old, want any) ([]lineEdit, error) {
	if reflect.DeepEqual(old, want) {
		return nil, nil
	}
	if node.Kind == yamlv3.AliasNode || node.Anchor != "" || node.Style&yamlv3.FlowStyle != 0 {
		return nil, errRewrite
	}
	switch o := old.(type) {
	case map[string]any:
		w, ok := want.(map[string]any)
		if !ok || len(w) == 0 || node.Kind != yamlv3.MappingNode {
			return nil, errRewrite
		}
		return e.diffMapping(node, o, w)
	case []any:
		w, ok := want.([]any)
		if !ok || len(w) == 0 || node.Kind != yamlv3.SequenceNode {
			return nil, errRewrite
		}
		return e.diffSequence(node, o, w)
	}
	return nil, errRewrite
}

func (e *lineEditor) diffMapping(node *yamlv3.Node, old, want map[string]any) ([]lineEdit, error) {
	if len(node.Content) != 2*len(old) || len(node.Content) == 0 {
		return nil, errRewrite
	}
	entries := map[string][2]*yamlv3.Node{}
	for i := 0; i < len(node.Content); i += 2 {
		k := node.Content[i]
		if k.Kind != yamlv3.ScalarNode || k.Value == "<<" {
			return nil, errRewrite
		}
		entries[k.Value] = [2]*yamlv3.Node{k, node.Content[i+1]}
	}
	var edits []lineEdit
	for _, key := range sortedKeys(old) {
		entry, ok := entries[key]
		if !ok {
			return nil, errRewrite
		}
		k, v := entry[0], entry[1]
		w, kept := want[key]
		if !kept {
			if !e.ownsLines(k, k.Column-1, v) {
				return nil, errRewrite
			}
			edits = append(edits, lineEdit{from: k.Line - 1, to: e.end(v)})
			continue
		}
		sub, err := e.diff(v, old[key], w)
		if errors.Is(err, errRewrite) {
			if !e.ownsLines(k, k.Column-1, v) {
				return nil, errRewrite
			}
			text, err := entryLines(key, w, k.Column-1)
			if err != nil {
				return nil, err
			}
			sub = []lineEdit{{from: k.Line - 1, to: e.end(v), lines: text}}
		} else if err != nil {
			return nil, err
		}
		edits = append(edits, sub...)
	}
	var added []string
	for key := range want {
		if _, ok := old[key]; !ok {
			added = append(added, key)
		}
	}
	if len(added) > 0 {
		sort.Strings(added)
		indent := node.Content[0].Column - 1
		var text []string
		for _, key := range added {
			lines, err := entryLines(key, want[key], indent)
			if err != nil {
				return nil, err
			}
			text = append(text, lines...)
		}
		at := e.end(node.Content[len(node.Content)-1])
		edits = append(edits, lineEdit{from: at, to: at, lines: text})
	}
	return edits, nil
}

func (e *lineEditor) diffSequence(node *yamlv3.Node, old, want []any) ([]lineEdit, error) {
	if len(node.Content) != len(old) || len(old) == 0 || len(old)*len(want) > 1<<20 {
		return nil, errRewrite
	}
	dash := make([]int, len(old))
	for i, item := range node.Content {
		line := e.lines[item.Line-1]
		col := len(line) - len(strings.TrimLeft(line, " "))
		if col >= item.Column-1 || line[col] != '-' {
			return nil, errRewrite
		}
		dash[i] = col
	}
	var edits []lineEdit
	insert := func(before int, items []any) error {
		var text []string
		for _, item := range items {
			lines, err := itemLines(item, dash[0])
			if err != nil {
				return err
			}
			text = append(text, lines...)
		}
		var at int
		if before < len(old) {
			at = node.Content[before].Line - 1
			// Above the comment that introduces the item, not between them.
			floor := 0
			if before > 0 {
				floor = e.last[node.Content[before-1]] + 1
			}
			for at > floor && strings.HasPrefix(strings.TrimSpace(e.lines[at-1]), "#") {
				at--
			}
		} else {
			at = e.end(node.Content[len(old)-1])
		}
		edits = append(edits, lineEdit{from: at, to: at, lines: text})
		return nil
	}
	var pending []any
	for _, step := range align(old, want) {
		switch {
		case step.old < 0:
			pending = append(pending, want[step.want])
			continue
		case len(pending) > 0:
			if err := insert(step.old, pending); err != nil {
				return nil, err
			}
			pending = nil
		}
		item := node.Content[step.old]
		if step.want < 0 {
			if !e.ownsLines(item, dash[step.old], item) {
				return nil, errRewrite
			}
			edits = append(edits, lineEdit{from: item.Line - 1, to: e.end(item)})
			continue
		}
		sub, err := e.diff(item, old[step.old], want[step.want])
		if errors.Is(err, errRewrite) {
			if !e.ownsLines(item, dash[step.old], item) {
				return nil, errRewrite
			}
			text, err := itemLines(want[step.want], dash[step.old])
			if err != nil {
				return nil, err
			}
			sub = []lineEdit{{from: item.Line - 1, to: e.end(item), lines: text}}
		} else if err != nil {
			return nil, err
		}
		edits = append(edits, sub...)
	}
	if len(pending) > 0 {
		if err := insert(len(old), pending); err != nil {
			return nil, err
		}
	}
	return edits, nil
}

// step pairs an item of the old list with one of the new list; -1 on one
// side is an item only the other list has.
type step struct{ old, want int }

// align pairs the items of two lists in order, as a longest common
// subsequence of items that are the same thing: the same name (containers,
// volumes, env), the same object (List items), or else equal.
func align(old, want []any) []step {
	n, m := len(old), len(want)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if sameThing(old[i], want[j]) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var steps []step
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && sameThing(old[i], want[j]):
			steps = append(steps, step{i, j})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			steps = append(steps, step{-1, j})
			j++
		default:
			steps = append(steps, step{i, -1})
			i++
		}
	}
	return steps
}

func sameThing(a, b any) bool {
	ia, oka := identity(a)
	ib, okb := identity(b)
	if oka || okb {
		return oka && okb && ia == ib
	}
	return reflect.DeepEqual(a, b)
}

func identity(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	if name, ok := m["name"].(string); ok {
		return "name " + name, true
	}
	meta, _ := m["metadata"].(map[string]any)
	if name, ok := meta["name"].(string); ok {
		kind, _ := m["kind"].(string)
		namespace, _ := meta["namespace"].(string)
		return "object " + kind + " " + namespace + " " + name, true
	}
	return "", false
}

// entryLines writes `key: value` as sigs.k8s.io/yaml does, indented.
func entryLines(key string, value any, indent int) ([]string, error) {
	b, err := yaml.Marshal(map[string]any{key: value})
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", key, err)
	}
	return indented(b, indent), nil
}

// itemLines writes `- value` as sigs.k8s.io/yaml does, indented.
func itemLines(value any, indent int) ([]string, error) {
	b, err := yaml.Marshal([]any{value})
	if err != nil {
		return nil, fmt.Errorf("encoding list item: %w", err)
	}
	return indented(b, indent), nil
}

func indented(b []byte, indent int) []string {
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	pad := strings.Repeat(" ", indent)
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return lines
}

// apply returns the document with the edits made. Edits never overlap:
// each is about a different node, and line-sized nodes do not share lines.
func (e *lineEditor) apply(edits []lineEdit) ([]byte, error) {
	slices.SortStableFunc(edits, func(a, b lineEdit) int {
		if a.from != b.from {
			return a.from - b.from
		}
		// An insertion before a replacement starting on the same line.
		return (a.to - a.from) - (b.to - b.from)
	})
	var out strings.Builder
	cursor := 0
	for _, ed := range edits {
		if ed.from < cursor {
			return nil, fmt.Errorf("overlapping edits at line %d", ed.from+1)
		}
		for _, l := range e.lines[cursor:ed.from] {
			out.WriteString(l + "\n")
		}
		for _, l := range ed.lines {
			out.WriteString(l + "\n")
		}
		cursor = ed.to
	}
	for _, l := range e.lines[cursor:] {
		out.WriteString(l + "\n")
	}
	return []byte(out.String()), nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
