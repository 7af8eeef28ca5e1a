package lru

import (
	"container/list"
	"sync"
)

// Cache keeps the most recently used values within a budget of bytes. A
// nil *Cache keeps nothing.
type Cache[K comparable, V any] struct {
	budget int
	weigh  func(K, V) int

	mu      sync.Mutex
	entries map[K]*list.Element
	order   *list.List // of *entry[K, V], most recently used first
	stats   Stats
}

// Stats are a Cache's counters.
type Stats struct {
	// Hits and Misses count the lookups that found a value and those
	// that did not.
	Hits, Misses uint64
	// Evictions counts the values dropped to stay within the budget.
	Evictions uint64
	// Entries and Bytes are what the cache holds now.
	Entries, Bytes int
}

type entry[K comparable, V any] struct {
	key    K
	value  V
	weight int
}

// New returns a cache holding at most budget bytes, weigh(k, v) being the
// bytes of one entry, its key included.
func New[K comparable, V any](budget int, weigh func(K, V) int) *Cache[K, V] {
	return &Cache[K, V]{budget: budget, weigh: weigh, entries: map[K]*list.Element{}, order: list.New()}
}

// Get returns the value kept for k, counting a hit or a miss.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		c.stats.Misses++
		return zero, false
	}
	c.stats.Hits++
	c.order.MoveToFront(e)
	return e.Value.(*entry[K, V]).value, true
}

// Add keeps v for k, unless k has a value already (added meanwhile by
// another caller), dropping the least recently used values until the
// cache is within its budget again. A value heavier than the whole budget
// is not kept.
func (c *Cache[K, V]) Add(k K, v V) {
	if c == nil {
		return
	}
	w := c.weigh(k, v)
	if w > c.budget {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; ok {
		return
	}
	c.entries[k] = c.order.PushFront(&entry[K, V]{key: k, value: v, weight: w})
	c.stats.Entries++
	c.stats.Bytes += w
	for c.stats.Bytes > c.budget {
		dropped := c.order.Remove(c.order.Back()).(*entry[K, V])
		delete(c.entries, dropped.key)
		c.stats.Entries--
		c.stats.Bytes -= dropped.weight
		c.stats.Evictions++
	}
}

// Stats returns the cache's counters now.
func (c *Cache[K, V]) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}
