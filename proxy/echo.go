package proxy

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxEcho is how much of a value a message repeats back: messages travel
// in admission responses, logs and kubectl output, and a pod author
// controls the values.
const MaxEcho = 128

// Echo quotes v for a message, cut to MaxEcho bytes (on a character
// boundary) with a note of its full length when longer.
func Echo(v string) string {
	if len(v) <= MaxEcho {
		return strconv.Quote(v)
	}
	cut := MaxEcho
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes, truncated)", strconv.Quote(v[:cut]), len(v))
}
