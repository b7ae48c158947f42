package llm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"sync"
	"time"
)

// Cache stores answers by RequestKey. The repository's translate.FileCache
// satisfies it (persistent, shared by processes); MemCache is the in-memory one.
type Cache interface {
	Get(key string) (string, bool)
	Put(key, value string) error
}

// MemCache is an in-memory Cache, safe for concurrent use.
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

// keyV is the version of the RequestKey layout; bump it when the layout changes.
const keyV = 1

// canonicalRequest is the hashed form of a request: fixed field order,
// the temperature as its shortest decimal text (-0 as 0), empty stop lists as null.
type canonicalRequest struct {
	V           int       `json:"v"`
	Model       string    `json:"model"`
	Messages    []Message `json:"messages"`
	Temperature string    `json:"temperature"`
	MaxTokens   int       `json:"max_tokens"`
	Seed        *int      `json:"seed"`
	Stop        []string  `json:"stop"`
}

// RequestKey is the content address of a request: the hex sha256 of a
// canonical JSON of the model (Chat passes Client.ID(): endpoint name and
// model), the full messages (roles and contents, in order) and the sampling
// parameters (temperature, max tokens, seed, stop sequences). Any change to
// one of them gives another key.
func RequestKey(model string, req Request) string {
	t := req.Temperature
	if t == 0 { // -0 → 0
		t = 0
	}
	cr := canonicalRequest{V: keyV, Model: model, Messages: req.Messages,
		Temperature: strconv.FormatFloat(t, 'g', -1, 64), MaxTokens: req.MaxTokens, Seed: req.Seed, Stop: req.Stop}
	if cr.Messages == nil {
		cr.Messages = []Message{}
	}
	if len(cr.Stop) == 0 {
		cr.Stop = nil
	}
	b, _ := json.Marshal(cr) // cannot fail: strings, ints and slices of them
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// cachedResponse is the stored form of a Response (no CacheHit).
type cachedResponse struct {
	Content          string        `json:"content"`
	PromptTokens     int           `json:"prompt_tokens"`
	CompletionTokens int           `json:"completion_tokens"`
	Latency          time.Duration `json:"latency_ns"`
	Model            string        `json:"model"`
	Cost             float64       `json:"cost"`
}
