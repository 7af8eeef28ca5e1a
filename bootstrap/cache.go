package bootstrap

import (
	"container/list"
	"encoding/json"
	"fmt"
	"sync"

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
	budget int

	mu      sync.Mutex
	entries map[string]*list.Element
	// byConfig finds an entry by its bootstrap, for Quoted.
	byConfig map[string]*list.Element
	lru      *list.List // of *cacheEntry, most recently used first
	stats    CacheStats
}

// CacheStats are a Cache's counters, for metrics.
type CacheStats = lru.Stats

type cacheEntry struct {
	key    string
	config string
	// quoted is config as a JSON string, escaped once: the webhook's patch
	// carries the bootstrap as an annotation value, and escaping 25 KB
	// for every pod of a shape would cost more than the rest of its review.
	quoted []byte
}

func (e *cacheEntry) size() int { return len(e.key) + len(e.config) + len(e.quoted) }

// NewCache returns a cache holding at most budget bytes of keys and
// bootstraps.
func NewCache(budget int) *Cache {
	return &Cache{budget: budget, entries: map[string]*list.Element{}, byConfig: map[string]*list.Element{}, lru: list.New()}
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
	if config, ok := c.get(key); ok {
		return config, nil
	}
	rendered, err := Render(s)
	if err != nil {
		return "", err
	}
	config := string(rendered)
	quoted, err := json.Marshal(config)
	if err != nil {
		return "", fmt.Errorf("quoting the bootstrap: %w", err)
	}
	c.put(&cacheEntry{key: key, config: config, quoted: quoted})
	return config, nil
}

// Quoted returns config as a JSON string, when config is a bootstrap the
// cache holds: the same bytes json.Marshal(config) gives, encoded when it
// was rendered. The bytes are shared: callers must not change them.
func (c *Cache) Quoted(config string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byConfig[config]
	if !ok {
		return nil, false
	}
	return e.Value.(*cacheEntry).quoted, true
}

func (c *Cache) get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		c.stats.Misses++
		return "", false
	}
	c.stats.Hits++
	c.lru.MoveToFront(e)
	return e.Value.(*cacheEntry).config, true
}

// put adds e, dropping the least recently used bootstraps until the cache
// is within its budget again. A bootstrap larger than the whole budget is
// not kept.
func (c *Cache) put(e *cacheEntry) {
	if e.size() > c.budget {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[e.key]; ok {
		return // rendered meanwhile by another review of the same shape
	}
	el := c.lru.PushFront(e)
	c.entries[e.key] = el
	if _, ok := c.byConfig[e.config]; !ok {
		c.byConfig[e.config] = el
	}
	c.stats.Entries++
	c.stats.Bytes += e.size()
	for c.stats.Bytes > c.budget {
		oldest := c.lru.Back()
		dropped := c.lru.Remove(oldest).(*cacheEntry)
		delete(c.entries, dropped.key)
		if c.byConfig[dropped.config] == oldest {
			delete(c.byConfig, dropped.config)
		}
		c.stats.Entries--
		c.stats.Bytes -= dropped.size()
		c.stats.Evictions++
	}
}

// Stats returns the cache's counters now.
func (c *Cache) Stats() CacheStats {
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}
