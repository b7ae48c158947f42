// Package llm is the chat-completion client of the LLM rerankers: one Client
// per OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, …) with in-process
// limits (concurrency, requests and tokens per minute), a content-addressed
// answer cache, token accounting, cost, and errors classified for Temporal
// retries (IsPermanent, RetryAfter). Retrying itself belongs to the caller
// (the activity's RetryPolicy): Chat makes exactly one attempt.
//
// The API key is read from the environment variable named by
// Endpoint.APIKeyEnv when the client is built; it never appears in errors,
// IDs or String() output.
package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/clirflow/clirflow/internal/httpx"
	"github.com/clirflow/clirflow/internal/inputerr"
)

// Endpoint describes an OpenAI-compatible chat endpoint. Zero limits mean
// unlimited; prices are per 1000 tokens (any currency, usually USD).
type Endpoint struct {
	Name    string `json:"name,omitempty" yaml:"name,omitempty"`
	BaseURL string `json:"base_url" yaml:"base_url"` // e.g. http://127.0.0.1:8000/v1
	// APIKeyEnv is the NAME of the environment variable holding the API key
	// (empty: no key, for local servers).
	APIKeyEnv            string  `json:"api_key_env,omitempty" yaml:"api_key_env,omitempty"`
	Model                string  `json:"model" yaml:"model"`
	MaxConcurrency       int     `json:"max_concurrency,omitempty" yaml:"max_concurrency,omitempty"`
	RequestsPerMinute    int     `json:"requests_per_minute,omitempty" yaml:"requests_per_minute,omitempty"`
	TokensPerMinute      int     `json:"tokens_per_minute,omitempty" yaml:"tokens_per_minute,omitempty"`
	PricePromptPer1K     float64 `json:"price_prompt_per_1k,omitempty" yaml:"price_prompt_per_1k,omitempty"`
	PriceCompletionPer1K float64 `json:"price_completion_per_1k,omitempty" yaml:"price_completion_per_1k,omitempty"`
}

// Message is one chat message ("system", "user", "assistant").
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is one chat completion request. Temperature 0 is sent as 0 (not
// omitted, which would give the server's default); MaxTokens 0 leaves the
// length to the server; Seed nil sends no seed.
type Request struct {
	Messages    []Message `json:"messages"`
	Temperature float64   `json:"temperature"`
	MaxTokens   int       `json:"max_tokens,omitempty"`
	Seed        *int      `json:"seed,omitempty"`
	Stop        []string  `json:"stop,omitempty"`
}

// Response is a chat answer. Tokens are the server's usage or, when the
// server reports none, the tokenizer's count. Latency is the HTTP round trip
// (rate-limit and concurrency waits excluded). On a cache hit Latency and Cost
// are 0 and the tokens are those recorded when the answer was produced.
type Response struct {
	Content          string        `json:"content"`
	PromptTokens     int           `json:"prompt_tokens"`
	CompletionTokens int           `json:"completion_tokens"`
	Latency          time.Duration `json:"latency_ns"`
	CacheHit         bool          `json:"cache_hit"`
	Model            string        `json:"model"`
	Cost             float64       `json:"cost"`
}

// Options are the process-side settings of a Client.
type Options struct {
	// Cache, when set, is consulted before every call and stores successful answers.
	Cache Cache
	// Tokenizer estimates tokens (TokensPerMinute, missing usage); nil: cl100k_base.
	Tokenizer Tokenizer
	// Timeout bounds one HTTP attempt (limiter waits excluded); 0: none beyond ctx.
	Timeout time.Duration
	// HTTPClient, nil: a client whose transport keeps max(MaxConcurrency, 64)
	// idle connections to the host.
	HTTPClient *http.Client
	// Clock drives the rate limiters; nil: the real clock.
	Clock Clock
	// Gate, when set, bounds requests in flight together with other clients.
	Gate *Gate
}

// Stats are a Client's counters since New.
type Stats struct {
	Calls            int64         // Chat calls
	CacheHits        int64         // answered from the cache
	Requests         int64         // HTTP requests sent
	Errors           int64         // failed requests
	RateLimited      int64         // calls that waited for a rate limiter
	RateLimitDelay   time.Duration // total time waited for the rate limiters
	PromptTokens     int64         // of answers from the server
	CompletionTokens int64
	Cost             float64
	CachePutErrors   int64 // answers that could not be stored (the call still succeeded)
}

// Client calls one endpoint. It is safe for concurrent use.
type Client struct {
	*Conn
	opts  Options
	tok   Tokenizer
	stats *statCounters
}

type statCounters struct {
	mu sync.Mutex
	s  Stats
}

func (s *statCounters) add(f func(*Stats)) {
	s.mu.Lock()
	f(&s.s)
	s.mu.Unlock()
}

// New validates ep, reads the API key from the variable named by
// ep.APIKeyEnv, and builds the client. Config errors are *inputerr.Error
// naming the field (endpoints.NAME.FIELD).
func New(ep Endpoint, opts Options) (*Client, error) {
	if opts.Timeout < 0 {
		return nil, inputerr.Field("timeout", "must be ≥ 0, got %s", opts.Timeout)
	}
	conn, err := Dial(ep, "llm", opts.HTTPClient, opts.Clock)
	if err != nil {
		return nil, err
	}
	conn.UseGate(opts.Gate)
	c := &Client{Conn: conn, opts: opts, tok: opts.Tokenizer, stats: &statCounters{}}
	if c.tok == nil {
		if c.tok, err = DefaultTokenizer(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// String is ID() with the base URL, for logs.
func (c *Client) String() string { return "llm.Client(" + c.ID() + " at " + c.ep.BaseURL + ")" }

// GoString keeps %#v from printing the client's internals.
func (c *Client) GoString() string { return c.String() }

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	c.stats.mu.Lock()
	defer c.stats.mu.Unlock()
	return c.stats.s
}

// CacheKey is the cache key Chat uses for req: RequestKey(c.ID(), req).
func (c *Client) CacheKey(req Request) string { return RequestKey(c.ID(), req) }

// Cost prices token counts with the endpoint's prices.
func (c *Client) Cost(promptTokens, completionTokens int) float64 {
	return float64(promptTokens)/1000*c.ep.PricePromptPer1K + float64(completionTokens)/1000*c.ep.PriceCompletionPer1K
}

// Chat answers req: from the cache when it holds the request's key, else with
// one chat completion call made within the endpoint's limits. Errors:
// *PermanentError for HTTP 4xx but 408/429; *StatusError (RetryAfter) for
// 408/429/5xx; other errors (network, timeout, malformed answer) are transient.
func (c *Client) Chat(ctx context.Context, req Request) (Response, error) {
	c.stats.add(func(s *Stats) { s.Calls++ })
	if err := c.checkRequest(req); err != nil {
		return Response{}, err
	}
	var key string
	if c.opts.Cache != nil {
		key = c.CacheKey(req)
		if v, ok := c.opts.Cache.Get(key); ok {
			var cr cachedResponse
			if json.Unmarshal([]byte(v), &cr) == nil {
				c.stats.add(func(s *Stats) { s.CacheHits++ })
				return Response{Content: cr.Content, PromptTokens: cr.PromptTokens, CompletionTokens: cr.CompletionTokens,
					CacheHit: true, Model: cr.Model}, nil
			}
			// an unreadable entry is a miss; the fresh answer overwrites it
		}
	}
	estPrompt, charged := 0, 0
	if c.Limited() {
		if c.tpm != nil {
			estPrompt = CountMessages(c.tok, req.Messages)
		}
		waited, n, err := c.WaitRate(ctx, estPrompt+req.MaxTokens)
		if err != nil {
			return Response{}, err
		}
		charged = n
		if waited > 0 {
			c.stats.add(func(s *Stats) { s.RateLimited++; s.RateLimitDelay += waited })
		}
	}
	// The request holds a slot (the endpoint's, then the gate's) only while
	// it is sent and answered (httpx.WithSlot): encoding the 20 KB body of a
	// listwise prompt under the slot took 0.2-0.5 ms of its ~103, and the
	// bookkeeping below overlaps the next request.
	resp, err := c.call(httpx.WithSlot(ctx, c.Acquire, c.opts.Timeout), req, estPrompt)
	if err != nil {
		c.stats.add(func(s *Stats) { s.Requests++; s.Errors++ })
		return Response{}, err
	}
	c.CorrectTokens(charged, resp.PromptTokens+resp.CompletionTokens)
	c.stats.add(func(s *Stats) {
		s.Requests++
		s.PromptTokens += int64(resp.PromptTokens)
		s.CompletionTokens += int64(resp.CompletionTokens)
		s.Cost += resp.Cost
	})
	if c.opts.Cache != nil {
		b, _ := json.Marshal(cachedResponse{Content: resp.Content, PromptTokens: resp.PromptTokens,
			CompletionTokens: resp.CompletionTokens, Latency: resp.Latency, Model: resp.Model, Cost: resp.Cost})
		if c.opts.Cache.Put(key, string(b)) != nil {
			c.stats.add(func(s *Stats) { s.CachePutErrors++ })
		}
	}
	return resp, nil
}

func (c *Client) checkRequest(req Request) error {
	perm := func(format string, args ...any) error {
		return &PermanentError{System: c.system, Msg: "invalid request: " + fmt.Sprintf(format, args...)}
	}
	if len(req.Messages) == 0 {
		return perm("no messages")
	}
	if math.IsNaN(req.Temperature) || math.IsInf(req.Temperature, 0) || req.Temperature < 0 {
		return perm("temperature %v", req.Temperature)
	}
	if req.MaxTokens < 0 {
		return perm("max_tokens %d", req.MaxTokens)
	}
	return nil
}

// call makes the HTTP request and maps its outcome.
func (c *Client) call(ctx context.Context, req Request, estPrompt int) (Response, error) {
	msgs := make([]openai.ChatCompletionMessage, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = openai.ChatCompletionMessage{Role: m.Role, Content: m.Content}
	}
	temp := float32(req.Temperature)
	if temp == 0 {
		// go-openai omits a zero temperature (the server's default, often 1,
		// would apply); the smallest float32 is sent instead, which OpenAI and
		// vLLM treat as greedy decoding.
		temp = math.SmallestNonzeroFloat32
	}
	oreq := openai.ChatCompletionRequest{
		Model:       c.ep.Model,
		Messages:    msgs,
		Temperature: temp,
		MaxTokens:   req.MaxTokens,
		Seed:        req.Seed,
		Stop:        req.Stop,
	}
	hctx, holder := httpx.WithHeaderHolder(ctx) // c.opts.Timeout is in ctx's slot
	start := time.Now()
	out, err := c.oc.CreateChatCompletion(hctx, oreq)
	if sent := holder.Sent(); !sent.IsZero() {
		start = sent // the latency of the call, not of the wait for its slot
	}
	latency := time.Since(start)
	if err != nil {
		return Response{}, c.MapError(err, holder)
	}
	if len(out.Choices) == 0 {
		return Response{}, c.Redact(fmt.Errorf("%s: answer without choices", c.system))
	}
	r := Response{Content: out.Choices[0].Message.Content, PromptTokens: out.Usage.PromptTokens,
		CompletionTokens: out.Usage.CompletionTokens, Latency: latency, Model: out.Model}
	if r.Model == "" {
		r.Model = c.ep.Model
	}
	if r.PromptTokens == 0 && r.CompletionTokens == 0 { // no usage reported
		if estPrompt == 0 {
			estPrompt = CountMessages(c.tok, req.Messages)
		}
		r.PromptTokens, r.CompletionTokens = estPrompt, c.tok.Count(r.Content)
	}
	r.Cost = c.Cost(r.PromptTokens, r.CompletionTokens)
	return r, nil
}
