package proxy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planeless/planeless/tests/golden"
)

const (
	referenceBegin = "<!-- annotations:begin (generated from proxy/annotations.go by `go test ./proxy -update`) -->\n"
	referenceEnd   = "<!-- annotations:end -->\n"
)

// referenceMarkdown renders the annotation table as the README shows it.
func referenceMarkdown() string {
	var b strings.Builder
	b.WriteString("| Annotation | Allowed values | Default | What it does |\n| --- | --- | --- | --- |\n")
	for _, a := range Annotations {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", a.Name, cell(a.Allowed), cell(a.Default), cell(a.Doc))
	}
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// The README's annotation reference is the table in annotations.go: it
// cannot drift, -update rewrites it.
func TestReadmeAnnotationReference(t *testing.T) {
	path := filepath.Join("..", "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	begin, end := strings.Index(text, referenceBegin), strings.Index(text, referenceEnd)
	if begin < 0 || end < begin {
		t.Fatalf("README.md lacks the annotation reference markers %q … %q", referenceBegin, referenceEnd)
	}
	want := text[:begin+len(referenceBegin)] + referenceMarkdown() + text[end:]
	if golden.Updating() {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != text {
		t.Errorf("README.md's annotation reference is out of date with proxy/annotations.go; run `go test ./proxy -update`")
	}
}
