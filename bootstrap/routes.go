package bootstrap

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	commonfaultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/fault/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	previoushostsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/planeless/planeless/proxy"
)

// The destinations of planeless.dev/routes. Each is a virtual host whose
// domains are the Service's names (proxy.Service.Hosts), ahead of the
// catch-all that sends a request where the application dialled: a request
// whose Host names the Service goes to the rules' target Services, each a
// cluster of its own that Envoy resolves by name (STRICT_DNS), wherever the
// application connected. That is allowed because the pod's own annotation
// names the Service. A Host the annotation does not name never chooses
// where a request goes. (The forward proxy with a host rewrite would reach
// the same targets, but its filter and cluster would disagree on the host,
// the pattern of CVE-2025-54588.)
const (
	faultName = "envoy.filters.http.fault"
	// previousHostsName makes a retry prefer another endpoint of a target
	// with several (a headless Service).
	previousHostsName = "envoy.retry_host_predicates.previous_hosts"
	// hostSelectionAttempts is how often a retry looks for an endpoint it
	// has not tried.
	hostSelectionAttempts = 3
)

// serviceClusterName names the cluster of one Service port:
// outbound|<port>|<name>|<namespace>, without dots, so that Envoy's
// cluster_name tag keeps it whole.
func serviceClusterName(s proxy.Service) string {
	return fmt.Sprintf("outbound|%d|%s|%s", s.Port, s.Name, s.Namespace)
}

// routeTimeout is the pod's planeless.dev/timeout: 0, none, by default.
func routeTimeout(s *proxy.Spec) time.Duration { return s.Policy.Timeout }

// destinationHosts returns a virtual host per destination of
// planeless.dev/routes, in the annotation's (sorted) order.
func (p *packer) destinationHosts(s *proxy.Spec) []*routev3.VirtualHost {
	var hosts []*routev3.VirtualHost
	for _, d := range s.Policy.Destinations {
		timeout := d.Timeout
		if timeout == 0 {
			timeout = routeTimeout(s)
		}
		vh := &routev3.VirtualHost{
			Name:        "routes|" + d.Service.String(),
			Domains:     d.Service.Hosts(s.ClusterDomain, podNamespace(s)),
			RetryPolicy: p.retryPolicy(d.Retries),
		}
		if d.Fault != nil {
			vh.TypedPerFilterConfig = map[string]*anypb.Any{faultName: p.pack(fault(d.Fault))}
		}
		for i, r := range d.Rules {
			vh.Routes = append(vh.Routes, ruleRoutes(fmt.Sprintf("rule%d", i), r, timeout)...)
		}
		hosts = append(hosts, vh)
	}
	return hosts
}

// podNamespace is where the pod's short Service names live.
func podNamespace(s *proxy.Spec) string {
	if s.Workload.Namespace == "" {
		return "default"
	}
	return s.Workload.Namespace
}

// ruleRoutes returns a rule's routes: gRPC first, without an idle timeout
// (a quiet stream is not cut, as on the catch-all), then everything else.
func ruleRoutes(name string, r proxy.Rule, timeout time.Duration) []*routev3.Route {
	match := func(grpc bool) *routev3.RouteMatch {
		m := &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}
		if grpc {
			m.Grpc = &routev3.RouteMatch_GrpcRouteMatchOptions{}
		}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, &routev3.HeaderMatcher{
				Name: h.Name,
				HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
					MatchPattern: &matcherv3.StringMatcher_Exact{Exact: h.Value},
				}},
			})
		}
		return m
	}
	grpc := &routev3.Route{Name: name + "|grpc", Match: match(true), Action: &routev3.Route_Route{Route: targets(r, timeout)}}
	grpc.GetRoute().IdleTimeout = durationpb.New(0)
	grpc.GetRoute().MaxStreamDuration = &routev3.RouteAction_MaxStreamDuration{GrpcTimeoutHeaderMax: durationpb.New(0)}
	rest := &routev3.Route{Name: name + "|http", Match: match(false), Action: &routev3.Route_Route{Route: targets(r, timeout)}}
	return []*routev3.Route{grpc, rest}
}

// targets sends a rule's requests to its one target, or shares them by
// weight.
func targets(r proxy.Rule, timeout time.Duration) *routev3.RouteAction {
	a := &routev3.RouteAction{Timeout: durationpb.New(timeout)}
	if len(r.Targets) == 1 {
		a.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: serviceClusterName(r.Targets[0].Service)}
		return a
	}
	weighted := &routev3.WeightedCluster{}
	for _, t := range r.Targets {
		weighted.Clusters = append(weighted.Clusters, &routev3.WeightedCluster_ClusterWeight{
			Name:   serviceClusterName(t.Service),
			Weight: wrapperspb.UInt32(t.Weight),
		})
	}
	a.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: weighted}
	return a
}

// retryPolicy is Envoy's form of retries: `attempts` retries after the
// first try, each try bounded by perTryTimeout, a retry preferring an
// endpoint not tried yet.
func (p *packer) retryPolicy(r *proxy.Retries) *routev3.RetryPolicy {
	if r == nil {
		return nil
	}
	on := slices.Clone(r.On)
	if len(r.Statuses) > 0 {
		on = append(on, "retriable-status-codes")
	}
	rp := &routev3.RetryPolicy{
		RetryOn:              strings.Join(on, ","),
		NumRetries:           wrapperspb.UInt32(uint32(r.Attempts)),
		RetriableStatusCodes: r.Statuses,
		RetryHostPredicate: []*routev3.RetryPolicy_RetryHostPredicate{{
			Name:       previousHostsName,
			ConfigType: &routev3.RetryPolicy_RetryHostPredicate_TypedConfig{TypedConfig: p.pack(&previoushostsv3.PreviousHostsPredicate{})},
		}},
		HostSelectionRetryMaxAttempts: hostSelectionAttempts,
	}
	if r.PerTryTimeout > 0 {
		rp.PerTryTimeout = durationpb.New(r.PerTryTimeout)
	}
	return rp
}

// fault is a destination's fault as the fault filter's per-route config.
func fault(f *proxy.Fault) *faultv3.HTTPFault {
	out := &faultv3.HTTPFault{}
	if f.Abort != nil {
		out.Abort = &faultv3.FaultAbort{
			ErrorType:  &faultv3.FaultAbort_HttpStatus{HttpStatus: f.Abort.Status},
			Percentage: percentage(f.Abort.Percent),
		}
	}
	if f.Delay != nil {
		out.Delay = &commonfaultv3.FaultDelay{
			FaultDelaySecifier: &commonfaultv3.FaultDelay_FixedDelay{FixedDelay: durationpb.New(f.Delay.Fixed)},
			Percentage:         percentage(f.Delay.Percent),
		}
	}
	return out
}

// percentage is a percent with four decimals, in millionths.
func percentage(percent float64) *typev3.FractionalPercent {
	return &typev3.FractionalPercent{
		Numerator:   uint32(math.Round(percent * 10000)),
		Denominator: typev3.FractionalPercent_MILLION,
	}
}

// faultFilter is the fault filter of the outbound connection managers when
// a destination injects faults: it does nothing but where a destination's
// virtual host configures it.
func (p *packer) faultFilter(s *proxy.Spec) []*hcmv3.HttpFilter {
	if !slices.ContainsFunc(s.Policy.Destinations, func(d proxy.Destination) bool { return d.Fault != nil }) {
		return nil
	}
	return []*hcmv3.HttpFilter{{
		Name:       faultName,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: p.pack(&faultv3.HTTPFault{})},
	}}
}

// serviceClusters returns a cluster per Service the rules send requests
// to, sorted: Envoy resolves the Service's name and connects to its
// addresses, speaking the protocol the application spoke.
func (p *packer) serviceClusters(s *proxy.Spec) []*clusterv3.Cluster {
	seen := map[proxy.Service]bool{}
	var services []proxy.Service
	for _, d := range s.Policy.Destinations {
		for _, r := range d.Rules {
			for _, t := range r.Targets {
				if !seen[t.Service] {
					seen[t.Service] = true
					services = append(services, t.Service)
				}
			}
		}
	}
	slices.SortFunc(services, func(a, b proxy.Service) int { return strings.Compare(serviceClusterName(a), serviceClusterName(b)) })
	var clusters []*clusterv3.Cluster
	for _, svc := range services {
		name := serviceClusterName(svc)
		clusters = append(clusters, &clusterv3.Cluster{
			Name:                 name,
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS},
			LoadAssignment: &endpointv3.ClusterLoadAssignment{
				ClusterName: name,
				Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
					HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
						Address: socketAddress(svc.FQDN(s.ClusterDomain), svc.Port),
					}},
				}}}},
			},
			LbPolicy:                      clusterv3.Cluster_ROUND_ROBIN,
			DnsLookupFamily:               dnsLookupFamily,
			TypedDnsResolverConfig:        p.dnsResolver(),
			ConnectTimeout:                durationpb.New(remoteConnectTimeout),
			CircuitBreakers:               unlimited(),
			TypedExtensionProtocolOptions: p.protocolOptions(upstreamAsDownstream),
		})
	}
	return clusters
}
