package check

import "time"

// Report is what check found, for people (WriteTable) and machines (JSON).
type Report struct {
	// OK is true when nothing needs doing: Problems is empty.
	OK bool `json:"ok"`
	// Problems are what needs doing: each makes check exit non-zero.
	Problems []string `json:"problems"`
	// Warnings are what check could not find out.
	Warnings   []string          `json:"warnings"`
	Webhook    WebhookReport     `json:"webhook"`
	Namespaces []NamespaceReport `json:"namespaces"`
	Pods       []PodReport       `json:"pods"`
}

// WebhookReport says whether the API server can use the webhook.
type WebhookReport struct {
	Installed     bool   `json:"installed"`
	Config        string `json:"config,omitempty"`
	Endpoint      string `json:"endpoint,omitempty"`
	FailurePolicy string `json:"failurePolicy,omitempty"`
	// Reachable is yes, no, or unknown (not tried, or the try failed for a
	// reason of its own).
	Reachable string `json:"reachable"`
	// Detail says what was tried and what happened.
	Detail string `json:"detail"`
	// Version is the planeless version that injects pods today.
	Version     string      `json:"version,omitempty"`
	Certificate *CertReport `json:"certificate,omitempty"`
}

// Reachability of the webhook.
const (
	Yes     = "yes"
	No      = "no"
	Unknown = "unknown"
)

// NamespaceReport is a labelled namespace.
type NamespaceReport struct {
	Name string `json:"name"`
	// Injected says the webhook injects its pods; false for a namespace
	// the webhook's configuration excludes (kube-system, its own).
	Injected   bool       `json:"injected"`
	LabelledAt *time.Time `json:"labelledAt,omitempty"`
	// Pods counts its pods by state.
	Pods map[string]int `json:"pods"`
}

// PodReport is one pod: injected, or in a namespace the webhook selects.
type PodReport struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Workload is what owns it, as kubectl names it (deployment/web).
	Workload string `json:"workload"`
	State    string `json:"state"`
	// InjectedBy is the planeless version of the pod's injection.
	InjectedBy string `json:"injectedBy,omitempty"`
	// Reasons explain a state other than current.
	Reasons []string `json:"reasons,omitempty"`
	// Fix is what to run.
	Fix string `json:"fix,omitempty"`
}

// States of a pod.
const (
	// Current: injected as the webhook would inject it today.
	Current = "current"
	// Stale: injected differently from today; restart to update.
	Stale = "stale"
	// Escaped: in a selected namespace, not injected, not by its choice.
	Escaped = "escaped"
	// Skipped: not injected by its own choice (opted out, host network).
	Skipped = "skipped"
	// Outside: injected, in a namespace the webhook does not select (with
	// planeless inject, or unlabelled since); not compared with today's.
	Outside = "outside"
	// Undetermined: injected, but today's injection could not be learnt.
	Undetermined = "unknown"
)
