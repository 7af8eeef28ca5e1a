package webhook

import (
	"fmt"
	"strings"
)

// Bounds on what an answer says: kubectl prints it, the API server keeps
// it in events and audit logs, and what a pod author writes must not make
// it long. The injector already bounds each line (values are cut to
// proxy.MaxEcho); these bound the whole.
const (
	// maxMessageBytes bounds a refusal's message.
	maxMessageBytes = 3 << 10
	// maxLineBytes bounds one problem or one warning.
	maxLineBytes = 1 << 10
	// maxWarnings bounds the warnings of one answer.
	maxWarnings = 10
)

// message puts the problems of err on one line, "; "-separated, at most
// maxMessageBytes, saying how many were left out.
func message(err error) string {
	lines := strings.Split(err.Error(), "\n")
	var b strings.Builder
	for i, line := range lines {
		line = cut(line, maxLineBytes)
		if b.Len()+len(line)+2 > maxMessageBytes {
			fmt.Fprintf(&b, "; and %d more problems", len(lines)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(line)
	}
	return b.String()
}

// warnings bounds the warnings of an answer.
func warnings(ws []string) []string {
	if len(ws) == 0 {
		return nil
	}
	out := make([]string, 0, min(len(ws), maxWarnings))
	for i, w := range ws {
		if i == maxWarnings-1 && len(ws) > maxWarnings {
			out = append(out, fmt.Sprintf("and %d more warnings", len(ws)-i))
			break
		}
		out = append(out, cut(w, maxLineBytes))
	}
	return out
}

// cut shortens s to at most n bytes, saying so.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const more = "… (cut)"
	end := n - len(more)
	for end > 0 && s[end]&0xC0 == 0x80 {
		end--
	}
	return s[:end] + more
}
