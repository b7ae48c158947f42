// Package kvcache holds the string caches shared by the translators
// (internal/translate) and the LLM client (internal/llm): the Cache interface,
// an in-memory MemCache and the persistent, multi-process FileCache.
package kvcache

import "sync"

// Cache stores values by key (translations by translate.CacheKey, LLM answers
// by llm.RequestKey).
type Cache interface {
	Get(key string) (string, bool)
	Put(key, value string) error
}

// MemCache is an in-memory Cache, safe for concurrent use. The zero value is
// an empty cache ready for use.
type MemCache struct {
	mu sync.RWMutex
	m  map[string]string
}

// NewMemCache returns an empty MemCache.
func NewMemCache() *MemCache { return &MemCache{m: map[string]string{}} }

// Get returns the value stored under key.
func (c *MemCache) Get(key string) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[key]
	return v, ok
}

// Put stores value under key (later values win).
func (c *MemCache) Put(key, value string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[key] = value
	return nil
}

// Len is the number of stored entries.
func (c *MemCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
