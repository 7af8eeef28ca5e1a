package bootstrap

import (
	"encoding/json"
	"fmt"

	"github.com/planeless/planeless/internal/lru"
	"github.com/planeless/planeless/proxy"
)

// DefaultCacheBytes is the memory a webhook's Cache may hold: some 600
// bootstraps of 25 KiB, more shapes than a cluster has workloads.
const DefaultCacheBytes = 16 << 20

// Cache renders each bootstrap once: the pods of one Deployment (one
// ReplicaSet, one pod template) share their Spec, so every pod after the
// first gets the bytes rendered for it. It keeps the most recently used
// bootstraps within a budget of bytes, keys and bootstraps counted, and is
// safe for concurrent use. A nil *Cache renders every time.
//
// The key is the Spec itself, encoded: everything Render reads is in the
// Spec (TestCacheKeyHoldsTheWholeSpec keeps every field of it exported, so
// the encoding sees it), and the rest is this binary's code.
type Cache struct {
	rendered *lru.Cache[string, string]
}

// CacheStats are a Cache's counters, for metrics.
type CacheStats = lru.Stats

// NewCache returns a cache holding at most budget bytes of keys and
// bootstraps.
func NewCache(budget int) *Cache {
	return &Cache{rendered: lru.New(budget, func(key, config string) int { return len(key) + len(config) })}
}

// Render returns Render(s) as a string, from the cache when a Spec equal
// to s was rendered before.
func (c *Cache) Render(s *proxy.Spec) (string, error) {
	if c == nil || s == nil {
		config, err := Render(s)
		return string(config), err
	}
	k, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("encoding the spec as a cache key: %w", err)
	}
	key := string(k)
	if config, ok := c.rendered.Get(key); ok {
		return config, nil
	}
	rendered, err := Render(s)
	if err != nil {
		return "", err
	}
	config := string(rendered)
	c.rendered.Add(key, config)
	return config, nil
}

// Stats returns the cache's counters now.
func (c *Cache) Stats() CacheStats {
	if c == nil {
		return CacheStats{}
	}
	return c.rendered.Stats()
}
