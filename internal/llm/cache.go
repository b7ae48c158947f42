package llm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
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
	sum, _ := SumJSON(cr) // cannot fail: strings, ints and slices of them
	return hex.EncodeToString(sum[:])
}

// SumJSON is the SHA-256 of json.Marshal(v), computed without that copy of
// the encoding: an encoder writes into the hash, its trailing newline held
// back. Requests are hashed twice per LLM call (cache key, audit record),
// and each copy of a 20 KB prompt's JSON was garbage.
func SumJSON(v any) ([32]byte, error) {
	h := sha256.New()
	w := &withoutLastByte{w: h}
	if err := json.NewEncoder(w).Encode(v); err != nil { // escapes HTML, as Marshal does
		return [32]byte{}, err
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, nil
}

// withoutLastByte writes all it is given but the last byte.
type withoutLastByte struct {
	w    io.Writer
	last [1]byte
	held bool
}

func (w *withoutLastByte) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if w.held {
		if _, err := w.w.Write(w.last[:]); err != nil {
			return 0, err
		}
	}
	if _, err := w.w.Write(p[:len(p)-1]); err != nil {
		return 0, err
	}
	w.last[0], w.held = p[len(p)-1], true
	return len(p), nil
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
