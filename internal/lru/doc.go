// Package lru owns the webhook's memory-bounded caches: a least recently
// used cache whose budget is in bytes, each entry weighed by the caller,
// safe for concurrent use and counting its hits, misses and evictions for
// metrics.
package lru
