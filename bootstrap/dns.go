package bootstrap

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	getaddrinfov3 "github.com/envoyproxy/go-control-plane/envoy/extensions/network/dns_resolver/getaddrinfo/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Envoy resolves the names a pod's annotations give (target Services,
// allowed egress names) with the system's getaddrinfo, as the application
// does: /etc/hosts, hostAliases and the pod's resolv.conf apply, and a
// name with several addresses (a headless Service) yields them all.
// Envoy's default c-ares resolver reads /etc/hosts too, but keeps only
// the first address of a name listed twice (tried on Envoy 1.40; the
// data-plane test of a hanging upstream needs both).
const (
	getaddrinfoName = "envoy.network.dns_resolver.getaddrinfo"
	// dnsRetries bounds the retries of a failing lookup; getaddrinfo's
	// default is to retry forever.
	dnsRetries = 2
)

func (p *packer) dnsResolver() *corev3.TypedExtensionConfig {
	return &corev3.TypedExtensionConfig{
		Name:        getaddrinfoName,
		TypedConfig: p.pack(&getaddrinfov3.GetAddrInfoDnsResolverConfig{NumRetries: wrapperspb.UInt32(dnsRetries)}),
	}
}
