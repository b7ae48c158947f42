package llm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/clirflow/clirflow/internal/kvcache"
)

// Cache stores answers by RequestKey. The repository's translate.FileCache
// satisfies it (persistent, shared by processes); MemCache is the in-memory one.
type Cache = kvcache.Cache

// MemCache is an in-memory Cache, safe for concurrent use.
type MemCache = kvcache.MemCache

// NewMemCache returns an empty MemCache.
func NewMemCache() *MemCache { return kvcache.NewMemCache() }

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
