package webhook

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/inject"
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
	registerCacheMetrics(reg, cached.Bootstraps)
	return &cached
}

// registerCacheMetrics exposes c's counters, read when scraped.
func registerCacheMetrics(reg prometheus.Registerer, c *bootstrap.Cache) {
	stat := func(f func(bootstrap.CacheStats) float64) func() float64 {
		return func() float64 { return f(c.Stats()) }
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "planeless_bootstrap_cache_hits_total",
			Help: "Bootstraps served from the cache: a pod of a shape rendered before.",
		}, stat(func(s bootstrap.CacheStats) float64 { return float64(s.Hits) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "planeless_bootstrap_cache_misses_total",
			Help: "Bootstraps rendered: the first pod of its shape since the cache last held it.",
		}, stat(func(s bootstrap.CacheStats) float64 { return float64(s.Misses) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "planeless_bootstrap_cache_evictions_total",
			Help: "Bootstraps dropped from the cache to stay within its memory budget.",
		}, stat(func(s bootstrap.CacheStats) float64 { return float64(s.Evictions) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "planeless_bootstrap_cache_bytes",
			Help: "Memory the cached bootstraps and their keys take, in bytes.",
		}, stat(func(s bootstrap.CacheStats) float64 { return float64(s.Bytes) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "planeless_bootstrap_cache_entries",
			Help: "Bootstraps in the cache.",
		}, stat(func(s bootstrap.CacheStats) float64 { return float64(s.Entries) })),
	)
}
