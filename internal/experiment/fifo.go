package experiment

import (
	"slices"
	"sync"
)

// fifoCache is a concurrency-safe map that forgets its oldest entries
// beyond max: the worker's memory of what it wrote or sent (prompts,
// rankings, runs), for the next step in the same process.
type fifoCache[K comparable, V any] struct {
	mu    sync.Mutex
	m     map[K]V
	order []K // insertion order; may still hold keys taken since
	max   int
}

func newFIFOCache[K comparable, V any](max int) *fifoCache[K, V] {
	return &fifoCache[K, V]{max: max}
}

// put sets k's value; a new key may push out the oldest.
func (c *fifoCache[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[K]V{}
	}
	if _, ok := c.m[k]; ok {
		c.m[k] = v
		return
	}
	if len(c.order) >= 2*c.max { // drop the places of keys taken
		c.order = slices.DeleteFunc(c.order, func(k K) bool { _, ok := c.m[k]; return !ok })
	}
	for len(c.m) >= c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[k] = v
	c.order = append(c.order, k)
}

func (c *fifoCache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

// take returns k's value and forgets it.
func (c *fifoCache[K, V]) take(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	delete(c.m, k)
	return v, ok
}
