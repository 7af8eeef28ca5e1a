package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// maxWhy bounds the WHY column; the JSON output has every reason whole.
const maxWhy = 72

// WriteTable writes the report for a person, on one screen: the webhook,
// the labelled namespaces, a row per workload and state, and what to do.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	wh := r.Webhook
	if !wh.Installed {
		fmt.Fprintf(&b, "WEBHOOK     not installed: %s\n", wh.Detail)
	} else {
		fmt.Fprintf(&b, "WEBHOOK     %s (MutatingWebhookConfiguration %s), failurePolicy %s\n", wh.Endpoint, wh.Config, wh.FailurePolicy)
		fmt.Fprintf(&b, "  reachable %s: %s\n", wh.Reachable, wh.Detail)
		if c := wh.Certificate; c != nil {
			fmt.Fprintf(&b, "  cert      valid for %s, until %s (%s)\n", humanDuration(time.Duration(c.ValidSeconds)*time.Second), stamp(c.NotAfter), c.Source)
			for _, p := range c.Problems {
				fmt.Fprintf(&b, "            %s\n", p)
			}
		}
		b.WriteString("\n")
		b.WriteString(namespaceLine(r.Namespaces))
	}

	rows := groupRows(r.Pods)
	if len(rows) > 0 {
		b.WriteString("\n")
		var table strings.Builder
		tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAMESPACE\tWORKLOAD\tPODS\tSTATE\tWHY\tFIX")
		for _, row := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", row.namespace, row.workload, row.pods, row.state, shorten(row.why, maxWhy), row.fix)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, line := range strings.SplitAfter(table.String(), "\n") {
			b.WriteString(strings.TrimRight(line, " \n"))
			if strings.HasSuffix(line, "\n") {
				b.WriteString("\n")
			}
		}
	}

	b.WriteString("\n")
	switch n := len(r.Problems); n {
	case 0:
		b.WriteString("All is well.\n")
	default:
		fmt.Fprintf(&b, "%s:\n", plural(n, "problem"))
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  - %s\n", p)
		}
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintf(&b, "%s:\n", plural(len(r.Warnings), "warning"))
		for _, p := range r.Warnings {
			fmt.Fprintf(&b, "  - %s\n", p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func namespaceLine(namespaces []NamespaceReport) string {
	var injected, excluded []string
	for _, ns := range namespaces {
		if !ns.Injected {
			excluded = append(excluded, ns.Name)
			continue
		}
		total := 0
		for _, n := range ns.Pods {
			total += n
		}
		injected = append(injected, fmt.Sprintf("%s (%s)", ns.Name, plural(total, "pod")))
	}
	line := "NAMESPACES  none labelled for injection"
	if len(injected) > 0 {
		line = "NAMESPACES  " + strings.Join(injected, ", ")
	}
	if len(excluded) > 0 {
		line += "; labelled but never injected (excluded by the webhook configuration): " + strings.Join(excluded, ", ")
	}
	return line + "\n"
}

type row struct {
	namespace, workload, state, why, fix string
	pods                                 int
}

// groupRows folds the pods of one workload in one state into a row; a
// pod's own name stays in FIX where the fix names the pod.
func groupRows(pods []PodReport) []row {
	var rows []row
	index := map[string]int{}
	for _, p := range pods {
		why := strings.Join(p.Reasons, "; ")
		key := strings.Join([]string{p.Namespace, p.Workload, p.State, why, p.Fix}, "\x00")
		if i, ok := index[key]; ok {
			rows[i].pods++
			continue
		}
		index[key] = len(rows)
		rows = append(rows, row{namespace: p.Namespace, workload: p.Workload, state: p.State, why: why, fix: p.Fix, pods: 1})
	}
	return rows
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
