// Package proxy owns the one typed model of what a pod's proxy must do.
//
// Every planeless.dev/ annotation is declared once, in the table in
// annotations.go, with its default, its parser and the line of documentation
// the README shows. FromPod reads a pod through that table and returns a
// validated Spec; the bootstrap renderer, the iptables planner and the pod
// patcher all read the Spec and never the raw annotations.
//
// The injection defaults an operator sets (the webhook's flags, the chart's
// values) are declared in settings.go and parse with the same parsers
// (lists.go holds the one parser of ports, port ranges and CIDRs). Every
// bound (limits.go) is checked before the work it bounds, and every value a
// message repeats is cut (Echo): whatever a pod says, reading it is cheap
// and the answer short.
package proxy
