package bootstrap

import (
	"math"

	overloadv3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	downstreamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
)

const downstreamConnectionsMonitor = "envoy.resource_monitors.global_downstream_max_connections"

// overloadManager sets Envoy's global limit of downstream connections
// explicitly, to no practical limit: a sidecar accepts what its pod
// accepts, and Envoy warns on every start when the limit is unset.
func (p *packer) overloadManager() *overloadv3.OverloadManager {
	return &overloadv3.OverloadManager{
		ResourceMonitors: []*overloadv3.ResourceMonitor{{
			Name: downstreamConnectionsMonitor,
			ConfigType: &overloadv3.ResourceMonitor_TypedConfig{TypedConfig: p.pack(&downstreamv3.DownstreamConnectionsConfig{
				MaxActiveDownstreamConnections: math.MaxInt32,
			})},
		}},
	}
}
