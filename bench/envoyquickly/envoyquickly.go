// Package envoyquickly holds the original envoy-quickly sidecar (Envoy
// configuration and proxy-init rules), translated to Envoy's v3 API with
// admin on loopback: the baseline the data-plane benchmark compares
// planeless with, on the same Envoy binary.
package envoyquickly

import _ "embed"

// Config is envoy.yaml: the v3 translation of envoy-quickly's Envoy
// configuration.
//
//go:embed envoy.yaml
var Config string

// Rules is iptables.sh: envoy-quickly's proxy-init script.
//
//go:embed iptables.sh
var Rules string

// Ports and identity of the envoy-quickly sidecar.
const (
	IngressPort = 9211
	EgressPort  = 9001
	AdminPort   = 8001
	ServicePort = 8080
	ProxyUID    = 1337
)
