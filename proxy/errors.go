package proxy

import (
	"fmt"
	"strings"
)

// InvalidAnnotationError says which annotation was refused, with what value
// (cut to MaxEcho bytes in the message), and what would have been accepted.
type InvalidAnnotationError struct {
	Annotation string
	Value      string
	// Reason says what is wrong with the value.
	Reason string
	// Allowed says what the annotation accepts.
	Allowed string
}

func (e *InvalidAnnotationError) Error() string {
	// A YAML value is shown by its first line, so the reason stays readable.
	value := e.Value
	if first, _, multiline := strings.Cut(value, "\n"); multiline {
		value = first + "…"
	}
	return fmt.Sprintf("invalid value %s for annotation %s: %s (allowed: %s)", Echo(value), e.Annotation, e.Reason, e.Allowed)
}

// PodError is a problem with the pod itself rather than with one annotation,
// such as an application container that runs as the proxy's UID.
type PodError struct {
	Reason string
}

func (e *PodError) Error() string { return e.Reason }
