package check

import (
	"fmt"
	"sort"
	"strings"

	"github.com/planeless/planeless/inject"
)

// Judge turns what Gather found into a Report. It is pure: the same State
// gives the same Report.
func Judge(s *State) *Report {
	r := &Report{Problems: []string{}, Warnings: []string{}, Namespaces: []NamespaceReport{}, Pods: []PodReport{}}
	judgeWebhook(s, r)
	if !r.Webhook.Installed {
		r.OK = false
		return r
	}

	namespaces := map[string]Namespace{}
	counts := map[string]map[string]int{}
	for _, ns := range s.Namespaces {
		namespaces[ns.Name] = ns
		if ns.Labelled {
			counts[ns.Name] = map[string]int{}
			nr := NamespaceReport{Name: ns.Name, Injected: ns.Selected, Pods: counts[ns.Name]}
			if !ns.LabelledAt.IsZero() {
				at := ns.LabelledAt.UTC()
				nr.LabelledAt = &at
			}
			r.Namespaces = append(r.Namespaces, nr)
		}
	}

	for _, p := range s.Pods {
		pr := judgePod(p, namespaces[p.Pod.Namespace], s.Webhook, s.planeless())
		r.Pods = append(r.Pods, pr)
		if c := counts[pr.Namespace]; c != nil {
			c[pr.State]++
		}
	}
	sort.SliceStable(r.Pods, func(i, j int) bool {
		a, b := r.Pods[i], r.Pods[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Workload != b.Workload {
			return a.Workload < b.Workload
		}
		return a.Name < b.Name
	})
	podProblems(r)
	r.OK = len(r.Problems) == 0
	return r
}

func judgeWebhook(s *State, r *Report) {
	w := s.Webhook
	if w.Config == "" {
		r.Webhook = WebhookReport{Reachable: Unknown, Detail: "no MutatingWebhookConfiguration holds planeless' webhook " + WebhookName}
		r.Problems = append(r.Problems, "planeless' webhook is not installed: no MutatingWebhookConfiguration holds "+WebhookName)
		return
	}
	r.Webhook = WebhookReport{
		Installed:     true,
		Config:        w.Config,
		Endpoint:      w.Endpoint,
		FailurePolicy: w.FailurePolicy,
		Certificate:   judgeCert(w, s.Now, s.ExpiryMargin),
	}
	wr := &r.Webhook
	switch {
	case w.ProbeNamespace == "":
		wr.Reachable = Unknown
		wr.Detail = "not tried: no namespace is labelled for injection"
	case w.Probe != nil && inject.Injected(w.Probe):
		status, _, _ := inject.ReadStatus(w.Probe)
		wr.Reachable, wr.Version = Yes, status.Version
		wr.Detail = fmt.Sprintf("a dry-run pod in %s was injected by planeless %s", w.ProbeNamespace, status.Version)
	case w.Probe != nil:
		wr.Reachable = No
		wr.Detail = fmt.Sprintf("a dry-run pod in %s was admitted uninjected: the webhook did not answer and failurePolicy %s let the pod through", w.ProbeNamespace, w.FailurePolicy)
		r.Problems = append(r.Problems, "the webhook does not answer: pods are created without planeless ("+wr.Detail+")")
	case strings.Contains(w.ProbeError, "failed calling webhook"):
		wr.Reachable = No
		wr.Detail = fmt.Sprintf("the API server could not call it for a dry-run pod in %s: %s", w.ProbeNamespace, w.ProbeError)
		r.Problems = append(r.Problems, "the webhook does not answer: pods of labelled namespaces are refused ("+w.ProbeError+")")
	default:
		wr.Reachable = Unknown
		wr.Detail = fmt.Sprintf("a dry-run pod in %s failed for a reason of its own: %s", w.ProbeNamespace, w.ProbeError)
		r.Warnings = append(r.Warnings, "could not try the webhook: "+wr.Detail)
	}
	switch c := wr.Certificate; {
	case c != nil:
		for _, p := range c.Problems {
			r.Problems = append(r.Problems, "the webhook's certificate ("+c.Source+") "+p)
		}
	case w.CertError != "":
		r.Warnings = append(r.Warnings, "could not read the webhook's certificate: "+w.CertError)
	}
}

func judgePod(p Pod, ns Namespace, w Webhook, planeless string) PodReport {
	pod := p.Pod
	pr := PodReport{Namespace: pod.Namespace, Name: pod.Name, Workload: p.Workload.String()}
	status, injected, err := inject.ReadStatus(pod)
	switch {
	case err != nil:
		pr.State, pr.Reasons = Undetermined, []string{err.Error()}
		return pr
	case !injected && inject.Injected(pod):
		pr.State = Undetermined
		pr.Reasons = []string{"carries planeless' containers without planeless.dev/status: not injected by planeless, or its record was removed"}
		return pr
	case !injected:
		reason, chosen := escapeReason(p, ns, w)
		pr.Reasons = []string{reason}
		pr.State = Skipped
		if !chosen {
			pr.State = Escaped
			pr.Fix = restart(planeless, pod.Namespace, pod.Name, p.Workload)
		}
		return pr
	}
	pr.InjectedBy = orUnknown(status.Version)
	switch {
	case !ns.Selected:
		pr.State = Outside
		pr.Reasons = []string{"the webhook does not select its namespace (injected with planeless inject, or unlabelled since); not compared"}
		return pr
	case p.Today == nil:
		pr.State = Undetermined
		pr.Reasons = []string{"could not learn today's injection: " + p.TodayError}
		return pr
	}
	diffs, err := differences(pod, p.Today)
	switch {
	case err != nil:
		pr.State, pr.Reasons = Undetermined, []string{"could not learn today's injection: " + err.Error()}
	case len(diffs) > 0:
		pr.State, pr.Reasons = Stale, diffs
		pr.Fix = restart(planeless, pod.Namespace, pod.Name, p.Workload)
	default:
		pr.State = Current
	}
	return pr
}

func (s *State) planeless() string {
	if s.Planeless == "" {
		return "planeless"
	}
	return s.Planeless
}

// podProblems sums the pods up into problems and warnings, a line per kind.
func podProblems(r *Report) {
	count := map[string]int{}
	workloads := map[string]map[string]bool{}
	for _, p := range r.Pods {
		count[p.State]++
		if workloads[p.State] == nil {
			workloads[p.State] = map[string]bool{}
		}
		workloads[p.State][p.Namespace+"/"+p.Workload] = true
	}
	if n := count[Stale]; n > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%s of %s run an injection that differs from today's: restart to update (see FIX)",
			plural(n, "pod"), plural(len(workloads[Stale]), "workload")))
	}
	if n := count[Escaped]; n > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%s of labelled namespaces escaped injection: restart to inject (see FIX)", plural(n, "pod")))
	}
	if n := count[Undetermined]; n > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("could not compare %s with today's injection", plural(n, "injected pod")))
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
