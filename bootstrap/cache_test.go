package bootstrap_test

import (
	"encoding"
	"encoding/json"
	"reflect"
	"sync"
	"testing"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/proxy"
)

func cacheSpec(port uint16, protocol proxy.Protocol) *proxy.Spec {
	return &proxy.Spec{
		Workload: proxy.Workload{Namespace: "shop", Name: "cart", App: "cart", Version: "v1"},
		Inbound:  []proxy.Port{{Number: port, Protocol: protocol}},
		Egress:   true,
		Proxy:    proxy.Sidecar{Ports: proxy.DefaultDefaults().Ports},
	}
}

func TestCacheRendersEachSpecOnce(t *testing.T) {
	c := bootstrap.NewCache(bootstrap.DefaultCacheBytes)
	specs := []*proxy.Spec{cacheSpec(8080, proxy.ProtocolHTTP), cacheSpec(8080, proxy.ProtocolGRPC), cacheSpec(9090, proxy.ProtocolHTTP)}
	held := 0 // what the cache must count: keys and bootstraps
	for round := range 3 {
		for i, s := range specs {
			got, err := c.Render(s)
			if err != nil {
				t.Fatal(err)
			}
			want, err := bootstrap.Render(s)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("round %d, spec %d: the cached bootstrap differs from a fresh render", round, i)
			}
			if round == 0 {
				key, _ := json.Marshal(s)
				held += len(key) + len(want)
			}
		}
	}
	st := c.Stats()
	if st.Misses != 3 || st.Hits != 6 || st.Entries != 3 || st.Evictions != 0 {
		t.Errorf("stats %+v, want 3 misses, 6 hits, 3 entries, no evictions", st)
	}
	if st.Bytes != held {
		t.Errorf("the cache counts %d bytes, holds %d", st.Bytes, held)
	}
}

// The cache holds no more than its budget, dropping the least recently
// used bootstrap first.
func TestCacheStaysWithinItsBudget(t *testing.T) {
	big := bootstrap.NewCache(bootstrap.DefaultCacheBytes)
	one, err := big.Render(cacheSpec(8080, proxy.ProtocolHTTP))
	if err != nil {
		t.Fatal(err)
	}
	budget := 2*len(one) + 4<<10 // two bootstraps and their keys, not three
	c := bootstrap.NewCache(budget)
	a, b, d := cacheSpec(8080, proxy.ProtocolHTTP), cacheSpec(8081, proxy.ProtocolHTTP), cacheSpec(8082, proxy.ProtocolHTTP)
	b.Workload.Name = "checkout"                  // a bootstrap of its own, not only a key
	for _, s := range []*proxy.Spec{a, b, a, d} { // b is the least recently used when d comes
		if _, err := c.Render(s); err != nil {
			t.Fatal(err)
		}
	}
	st := c.Stats()
	if st.Bytes > budget || st.Entries != 2 || st.Evictions != 1 {
		t.Fatalf("stats %+v with a budget of %d bytes, want 2 entries and 1 eviction within it", st, budget)
	}
	for s, wantHit := range map[*proxy.Spec]bool{a: true, d: true} {
		before := c.Stats().Hits
		if _, err := c.Render(s); err != nil {
			t.Fatal(err)
		}
		if hit := c.Stats().Hits > before; hit != wantHit {
			t.Errorf("port %d: hit %v, want %v", s.Inbound[0].Number, hit, wantHit)
		}
	}
	if before := c.Stats().Misses; func() bool { _, _ = c.Render(b); return c.Stats().Misses == before }() {
		t.Errorf("the evicted bootstrap was still cached")
	}

	tiny := bootstrap.NewCache(100)
	for range 2 {
		if _, err := tiny.Render(a); err != nil {
			t.Fatal(err)
		}
	}
	if st := tiny.Stats(); st.Entries != 0 || st.Bytes != 0 || st.Hits != 0 {
		t.Errorf("a bootstrap larger than the budget was kept: %+v", st)
	}
}

func TestCacheIsSafeForConcurrentReviews(t *testing.T) {
	c := bootstrap.NewCache(bootstrap.DefaultCacheBytes)
	specs := []*proxy.Spec{cacheSpec(8080, proxy.ProtocolHTTP), cacheSpec(8080, proxy.ProtocolTCP)}
	want := make([][]byte, len(specs))
	for i, s := range specs {
		var err error
		if want[i], err = bootstrap.Render(s); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				n := (g + i) % len(specs)
				got, err := c.Render(specs[n])
				if err != nil || got != string(want[n]) {
					t.Errorf("spec %d: wrong bootstrap (%v)", n, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if st := c.Stats(); st.Hits+st.Misses != 160 || st.Entries != 2 {
		t.Errorf("stats %+v, want 160 renders of 2 entries", st)
	}
}

// The cache's key is the Spec encoded as JSON, which sees exported fields
// only: a field JSON cannot see would let two Specs that render
// differently share a bootstrap. Every field of the Spec, all the way
// down, must be exported and of a kind JSON encodes whole.
func TestCacheKeyHoldsTheWholeSpec(t *testing.T) {
	textMarshaler := reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshaler := reflect.TypeFor[json.Marshaler]()
	seen := map[reflect.Type]bool{}
	var walk func(path string, typ reflect.Type)
	walk = func(path string, typ reflect.Type) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		if typ.Implements(textMarshaler) || typ.Implements(jsonMarshaler) ||
			reflect.PointerTo(typ).Implements(jsonMarshaler) {
			return // netip.Prefix, resource.Quantity: encoded whole by their own methods
		}
		switch typ.Kind() {
		case reflect.Struct:
			for i := range typ.NumField() {
				f := typ.Field(i)
				if !f.IsExported() || f.Tag.Get("json") == "-" {
					t.Errorf("%s.%s is not in the cache key", path, f.Name)
					continue
				}
				walk(path+"."+f.Name, f.Type)
			}
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(path+"[]", typ.Elem())
		case reflect.Map:
			walk(path+"{key}", typ.Key())
			walk(path+"{}", typ.Elem())
		case reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
			t.Errorf("%s is a %s, which JSON does not encode whole", path, typ.Kind())
		}
	}
	walk("Spec", reflect.TypeFor[proxy.Spec]())
}
