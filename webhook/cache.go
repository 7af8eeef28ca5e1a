package webhook

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/internal/lru"
)

// withBootstrapCache returns the injector the webhook serves with: inj,
// rendering each pod shape's bootstrap once (a cache of
// bootstrap.DefaultCacheBytes unless inj has one), and the cache's
// metrics registered with reg.
func withBootstrapCache(inj *inject.Injector, reg prometheus.Registerer) *inject.Injector {
	cached := *inj
	if cached.Bootstraps == nil {
		cached.Bootstraps = bootstrap.NewCache(bootstrap.DefaultCacheBytes)
	}
	registerCacheMetrics(reg, "bootstrap", "Bootstraps", "a pod of a shape rendered before", cached.Bootstraps.Stats)
	return &cached
}

// registerAnswerMetrics exposes a's counters, read when scraped.
func registerAnswerMetrics(reg prometheus.Registerer, a *answers) {
	registerCacheMetrics(reg, "answer", "Answers", "an injected pod whose bytes (but for managedFields) were answered before", a.stats)
}

// registerCacheMetrics exposes the counters of the cache called name,
// read when scraped; what it holds (plural, capitalised) and what a hit
// is say so in the help texts.
func registerCacheMetrics(reg prometheus.Registerer, name, what, hit string, stats func() lru.Stats) {
	stat := func(f func(lru.Stats) float64) func() float64 {
		return func() float64 { return f(stats()) }
	}
	prefix := "planeless_" + name + "_cache_"
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: prefix + "hits_total",
			Help: what + " served from the cache: " + hit + ".",
		}, stat(func(s lru.Stats) float64 { return float64(s.Hits) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: prefix + "misses_total",
			Help: what + " made afresh: the first of its kind since the cache last held it.",
		}, stat(func(s lru.Stats) float64 { return float64(s.Misses) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: prefix + "evictions_total",
			Help: what + " dropped from the cache to stay within its memory budget.",
		}, stat(func(s lru.Stats) float64 { return float64(s.Evictions) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: prefix + "bytes",
			Help: "Memory the cached " + strings.ToLower(what) + " and their keys take, in bytes.",
		}, stat(func(s lru.Stats) float64 { return float64(s.Bytes) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: prefix + "entries",
			Help: what + " in the cache.",
		}, stat(func(s lru.Stats) float64 { return float64(s.Entries) })),
	)
}
