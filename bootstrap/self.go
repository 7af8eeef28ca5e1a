package bootstrap

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/planeless/planeless/proxy"
)

// Connections the application dials at the proxy's own outbound listener
// arrive there without a redirect: iptables never redirects loopback
// traffic, so their "original" destination is the listener itself. The
// forward proxy would connect to it again, and again: a loop. They are
// refused instead, an HTTP request with a status that says why, anything
// else by closing the connection.
const (
	selfChainName = "self"
	// blackHoleCluster has no endpoints: a TCP proxy to it closes the
	// connection at once.
	blackHoleClusterName = "blackhole"
	// SelfStatus answers an HTTP request dialled at the proxy itself.
	SelfStatus = 403
)

// SelfBody is the body of SelfStatus.
func SelfBody(port uint16) string {
	return fmt.Sprintf("planeless: refused a request addressed to the proxy's own outbound port %d\n", port)
}

var loopbackRanges = []*corev3.CidrRange{
	{AddressPrefix: "127.0.0.0", PrefixLen: wrapperspb.UInt32(8)},
	{AddressPrefix: "::1", PrefixLen: wrapperspb.UInt32(128)},
}

// selfChains match connections whose destination is a loopback address:
// only a connection dialled at the listener itself arrives with one.
func (p *packer) selfChains(s *proxy.Spec) []*listenerv3.FilterChain {
	refuse := &hcmv3.HttpConnectionManager{
		StatPrefix: string(outbound) + "_" + selfChainName,
		CodecType:  hcmv3.HttpConnectionManager_AUTO,
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			Name: selfChainName,
			VirtualHosts: []*routev3.VirtualHost{anyHost(selfChainName, &routev3.Route{
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
					Status: SelfStatus,
					Body:   &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: SelfBody(s.Proxy.Ports.Outbound)}},
				}},
			})},
		}},
		GenerateRequestId: wrapperspb.Bool(false),
		HttpFilters: []*hcmv3.HttpFilter{{
			Name:       routerName,
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: p.pack(&routerv3.Router{SuppressEnvoyHeaders: true})},
		}},
	}
	return []*listenerv3.FilterChain{
		{
			Name:             selfChainName + "|http",
			FilterChainMatch: &listenerv3.FilterChainMatch{PrefixRanges: loopbackRanges, ApplicationProtocols: httpProtocols},
			Filters:          []*listenerv3.Filter{p.networkFilter(hcmName, refuse)},
		},
		{
			Name:             selfChainName,
			FilterChainMatch: &listenerv3.FilterChainMatch{PrefixRanges: loopbackRanges},
			Filters:          []*listenerv3.Filter{p.tcpProxy(string(outbound)+"_"+selfChainName, blackHoleClusterName)},
		},
	}
}

func blackHoleCluster() *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 blackHoleClusterName,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		ConnectTimeout:       durationpb.New(localConnectTimeout),
	}
}
