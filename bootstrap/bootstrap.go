package bootstrap

import (
	"errors"
	"fmt"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/planeless/planeless/proxy"
)

// statsEvictionInterval is how often Envoy drops the request metrics no
// request updated since the last sweep; a multiple of Envoy's default stats
// flush interval (5s), as Envoy requires.
const statsEvictionInterval = DestinationTTL

// Build returns the validated typed bootstrap for the pod's proxy, every
// typed config packed into its Any.
func Build(s *proxy.Spec) (*bootstrapv3.Bootstrap, error) {
	return build(s, &packer{})
}

// Typed is a validated bootstrap whose typed configs are kept beside their
// Anys instead of marshalled into them: what Render prints. Its Anys hold
// only their type URL, so it is for printing with JSON, never for
// proto.Marshal (Build is).
type Typed struct {
	bootstrap *bootstrapv3.Bootstrap
	packer    *packer
}

// BuildTyped is Build without marshalling the typed configs: Render's
// first step, validating all Build validates.
func BuildTyped(s *proxy.Spec) (*Typed, error) {
	p := newLazyPacker()
	b, err := build(s, p)
	if err != nil {
		return nil, err
	}
	return &Typed{bootstrap: b, packer: p}, nil
}

// JSON prints t as compact, deterministic JSON: Render's second step.
func (t *Typed) JSON() ([]byte, error) {
	return toJSON(t.bootstrap, t.packer)
}

func build(s *proxy.Spec, p *packer) (*bootstrapv3.Bootstrap, error) {
	if s == nil {
		return nil, errors.New("building bootstrap: no spec")
	}
	listeners := nonNil(
		p.statsListener(s),
		p.inboundListener(s),
		p.outboundListener(s),
	)
	clusters := append([]*clusterv3.Cluster{p.adminCluster()}, p.inboundClusters(s)...)
	clusters = append(clusters, p.outboundClusters(s)...)
	clusters = append(clusters, p.tracingClusters(s)...)

	b := &bootstrapv3.Bootstrap{
		Node: &corev3.Node{
			Id: s.Workload.Name + "." + s.Workload.Namespace,
			// The workload: Zipkin spans take their service name from it.
			Cluster: workloadOf(s),
		},
		Admin: admin(),
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{
			Listeners: listeners,
			Clusters:  clusters,
		},
		StatsConfig: statsConfig(s),
		// Request metrics unused for this long are dropped (their scopes
		// allow eviction), so the bounded series make room again.
		StatsEviction:   &bootstrapv3.Bootstrap_StatsEvictionInterval{StatsEvictionInterval: durationpb.New(statsEvictionInterval)},
		OverloadManager: p.overloadManager(),
	}
	if err := p.err(); err != nil {
		return nil, fmt.Errorf("building bootstrap: %w", err)
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("validating bootstrap: %w", err)
	}
	return b, nil
}

// Render returns Build's result as compact, deterministic JSON: what the
// injector hands to Envoy, the JSON protojson would print for Build's
// bootstrap. JSON because the conversion to YAML costs many times the
// rest of rendering (make bench). It never marshals the typed configs:
// printing them from the messages themselves is most of what makes a
// render cheap (internal/pbjson).
func Render(s *proxy.Spec) ([]byte, error) {
	t, err := BuildTyped(s)
	if err != nil {
		return nil, err
	}
	return t.JSON()
}

// RenderYAML returns the same bootstrap as Render as YAML with sorted keys,
// for people: `planeless render` and the golden files.
func RenderYAML(s *proxy.Spec) ([]byte, error) {
	b, err := Build(s)
	if err != nil {
		return nil, err
	}
	return toYAML(b)
}

func nonNil(ls ...*listenerv3.Listener) []*listenerv3.Listener {
	var out []*listenerv3.Listener
	for _, l := range ls {
		if l != nil {
			out = append(out, l)
		}
	}
	return out
}
