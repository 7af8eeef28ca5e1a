package bootstrap

import (
	"strings"
	"testing"

	dnscachev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/dynamic_forward_proxy/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/planeless/planeless/proxy"
	_ "github.com/planeless/planeless/tests/golden"
)

func TestPackRejectsWhatPGVRejects(t *testing.T) {
	tests := map[string]struct {
		msg     validatable
		wantErr string // empty: valid
	}{
		"a tcp_proxy without a stat prefix is rejected": {
			msg:     &tcpproxyv3.TcpProxy{ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: "c"}},
			wantErr: "TcpProxy.StatPrefix",
		},
		"a DNS cache without a name is rejected": {
			msg:     &dnscachev3.DnsCacheConfig{},
			wantErr: "DnsCacheConfig.Name",
		},
		"a connection manager without a route config is rejected": {
			msg:     &hcmv3.HttpConnectionManager{StatPrefix: "x"},
			wantErr: "RouteSpecifier",
		},
		"an empty router is valid": {
			msg: &routerv3.Router{},
		},
	}
	// Render packs lazily: it must refuse all the eager packer refuses.
	packers := map[string]func() *packer{"packing eagerly": func() *packer { return &packer{} }, "packing lazily": newLazyPacker}
	for name, tc := range tests {
		for kind, newPacker := range packers {
			t.Run(name+", "+kind, func(t *testing.T) {
				p := newPacker()
				a := p.pack(tc.msg)
				err := p.err()
				if tc.wantErr == "" {
					if err != nil {
						t.Fatalf("pack: %v", err)
					}
					if !a.MessageIs(tc.msg) {
						t.Errorf("packed %s, want %s", a.GetTypeUrl(), tc.msg.ProtoReflect().Descriptor().FullName())
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("pack error = %v, want one naming %s", err, tc.wantErr)
				}
			})
		}
	}
}

// The lazy packer's Anys hold no bytes, only their type, and the message
// each was packed from is the message the eager packer marshals.
func TestTheLazyPackerKeepsTheMessageInsteadOfItsBytes(t *testing.T) {
	msg := &tcpproxyv3.TcpProxy{StatPrefix: "s", ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: "c"}}
	lazy := newLazyPacker()
	a := lazy.pack(msg)
	eager := (&packer{}).pack(msg)
	if len(a.GetValue()) != 0 || a.GetTypeUrl() != eager.GetTypeUrl() {
		t.Errorf("lazy Any = %s with %d bytes, want %s with none", a.GetTypeUrl(), len(a.GetValue()), eager.GetTypeUrl())
	}
	if lazy.message(a) != proto.Message(msg) {
		t.Errorf("the lazy packer does not know the message it packed")
	}
	if (&packer{}).message(eager) != nil {
		t.Errorf("the eager packer claims to know a message")
	}
	unpacked, err := eager.UnmarshalNew()
	if err != nil || !proto.Equal(unpacked, msg) {
		t.Errorf("the eager Any holds %v (%v), want %v", unpacked, err, msg)
	}
}

// Every Any of the bootstrap Render prints is one the lazy packer packed:
// one it does not know would be printed from its empty value, as an
// empty config.
func TestEveryAnyRenderPrintsIsKnownToThePacker(t *testing.T) {
	s := everyProtocolSpec()
	typed, err := BuildTyped(s)
	if err != nil {
		t.Fatal(err)
	}
	var anys int
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if a, ok := m.Interface().(*anypb.Any); ok {
			anys++
			inner := typed.packer.message(a)
			if inner == nil {
				t.Errorf("an Any of %s the packer did not pack", a.GetTypeUrl())
				return
			}
			walk(inner.ProtoReflect())
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := range v.List().Len() {
					walk(v.List().Get(i).Message())
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message())
					return true
				})
			case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
				walk(v.Message())
			}
			return true
		})
	}
	walk(typed.bootstrap.ProtoReflect())
	if anys < 20 {
		t.Errorf("found only %d Anys; the walk is broken", anys)
	}
}

func TestBuildReportsInvalidSpecsInsteadOfRenderingThem(t *testing.T) {
	tests := map[string]struct {
		spec    *proxy.Spec
		wantErr string
	}{
		"no spec": {spec: nil, wantErr: "no spec"},
		"a line break in the workload's name breaks the header that carries it": {
			spec: &proxy.Spec{
				Workload: proxy.Workload{Namespace: "ns", Name: "p", App: "a\nb", Version: "v"},
				Inbound:  []proxy.Port{{Number: 8080, Protocol: proxy.ProtocolHTTP}},
				Proxy:    proxy.Sidecar{Ports: proxy.DefaultDefaults().Ports},
			},
			wantErr: "HeaderValue.Value",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := Build(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Build error = %v, want one naming %s", err, tc.wantErr)
			}
			if b != nil {
				t.Errorf("Build returned a bootstrap along with its error")
			}
			// Render builds with the lazy packer: the same refusal.
			js, err := Render(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Render error = %v, want one naming %s", err, tc.wantErr)
			}
			if js != nil {
				t.Errorf("Render returned a bootstrap along with its error")
			}
		})
	}
}

// TestEveryPackedConfigIsValid opens every Any of built bootstraps,
// recursively, and validates what is inside: ValidateAll on the bootstrap
// alone never looks there.
func TestEveryPackedConfigIsValid(t *testing.T) {
	s := everyProtocolSpec()
	b, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	var anys int
	walkAnys(t, b, func(m proto.Message) {
		anys++
		if _, ok := m.(*wrapperspb.StringValue); ok {
			return // a filter chain's name, the action of the inbound matcher: nothing to validate
		}
		v, ok := m.(validatable)
		if !ok {
			t.Errorf("%s has no ValidateAll", m.ProtoReflect().Descriptor().FullName())
			return
		}
		if err := v.ValidateAll(); err != nil {
			t.Errorf("packed %s is invalid: %v", m.ProtoReflect().Descriptor().FullName(), err)
		}
	})
	if anys < 20 {
		t.Errorf("found only %d packed configs; the walk is broken", anys)
	}
}

// walkAnys calls f with the content of every Any in m, depth first.
func walkAnys(t *testing.T, m proto.Message, f func(proto.Message)) {
	t.Helper()
	if a, ok := m.(*anypb.Any); ok {
		inner, err := a.UnmarshalNew()
		if err != nil {
			t.Fatalf("unpacking %s: %v", a.GetTypeUrl(), err)
		}
		f(inner)
		walkAnys(t, inner, f)
		return
	}
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				walkAnys(t, v.List().Get(i).Message().Interface(), f)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				walkAnys(t, mv.Message().Interface(), f)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			walkAnys(t, v.Message().Interface(), f)
		}
		return true
	})
}

// everyProtocolSpec is a pod with a port of every protocol, egress and
// IPv6: every kind of listener, chain and cluster the bootstrap has.
func everyProtocolSpec() *proxy.Spec {
	return &proxy.Spec{
		Workload: proxy.Workload{Namespace: "ns", Name: "pod", App: "app", Version: "v1"},
		Inbound: []proxy.Port{
			{Number: 8080, Protocol: proxy.ProtocolHTTP}, {Number: 8081, Protocol: proxy.ProtocolAuto},
			{Number: 9090, Protocol: proxy.ProtocolGRPC}, {Number: 5432, Protocol: proxy.ProtocolTCP},
		},
		Egress: true, IPv6: true,
		Proxy: proxy.Sidecar{Ports: proxy.DefaultDefaults().Ports},
	}
}
