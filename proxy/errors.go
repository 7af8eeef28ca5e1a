package proxy

import (
	"fmt"
	"strings"
)

// InvalidAnnotationError says which annotation was refused, with what value,
// and what would have been accepted.
type InvalidAnnotationError struct {
	Annotation string
	Value      string
	// Reason says what is wrong with the value.
	Reason string
	// Allowed says what the annotation accepts.
	Allowed string
}

func (e *InvalidAnnotationError) Error() string {
	return fmt.Sprintf("invalid value %q for annotation %s: %s (allowed: %s)", abbreviate(e.Value), e.Annotation, e.Reason, e.Allowed)
}

// abbreviate keeps a long or multi-line value (a YAML annotation) from
// burying the reason: its first line, cut at 60 characters.
func abbreviate(v string) string {
	first, _, multiline := strings.Cut(v, "\n")
	if len(first) > 60 {
		first, multiline = first[:60], true
	}
	if multiline {
		return first + "…"
	}
	return first
}

// PodError is a problem with the pod itself rather than with one annotation,
// such as an application container that runs as the proxy's UID.
type PodError struct {
	Reason string
}

func (e *PodError) Error() string { return e.Reason }
