// Package proxy owns the one typed model of what a pod's proxy must do.
//
// Every planeless.dev/ annotation is declared once, in the table in
// annotations.go, with its default, its parser and the line of documentation
// the README shows. FromPod reads a pod through that table and returns a
// validated Spec; the bootstrap renderer, the iptables planner and the pod
// patcher all read the Spec and never the raw annotations.
package proxy
