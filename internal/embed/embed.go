// Package embed is the embeddings client of the dense first stages: one
// Client per OpenAI-compatible endpoint (OpenAI, vLLM, TEI, Infinity,
// Ollama, …) that formats texts for the encoder (presets.json: prefixes,
// instructions, input limits), truncates them, batches them, checks every
// answer (count, indices, dimension, finite values), optionally
// L2-normalises, and caches each vector by its content address, so a re-run
// sends nothing. Like internal/llm it makes exactly one attempt per request
// and classifies errors for Temporal retries: httpx.IsPermanent is true for
// HTTP 4xx but 408/429, for answers that cannot be right (wrong count,
// dimension, NaN) and for bad input (empty texts, config); everything else
// (408/429/5xx, network, timeouts, unreadable bodies) is transient.
//
// The API key is read from the environment variable named by
// llm.Endpoint.APIKeyEnv when the client is built; it never appears in
// errors, IDs or String() output.
package embed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/clirflow/clirflow/internal/httpx"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/kvcache"
	"github.com/clirflow/clirflow/internal/llm"
)

// Role says whether a text is a query or a passage: asymmetric encoders
// format them differently.
type Role string

const (
	Query   Role = "query"
	Passage Role = "passage"
)

// Embedder turns texts into vectors, one per text, in order.
type Embedder interface {
	Embed(ctx context.Context, texts []string, role Role) ([][]float32, error)
	// ID names the model (for cache keys and index metadata); never a secret.
	ID() string
	// Dim is the vector dimension, 0 while unknown (no Dim configured and no
	// vector seen yet).
	Dim() int
}

// DefaultBatchSize is the number of texts per request when Options.BatchSize is 0.
const DefaultBatchSize = 32

// Options are the process-side settings of a Client.
type Options struct {
	Format Format
	// BatchSize is the number of texts per request (0: DefaultBatchSize).
	BatchSize int
	// Parallel is the number of requests one Embed call keeps in flight
	// (0: the endpoint's MaxConcurrency, or 4 when that is unlimited). The
	// endpoint's MaxConcurrency still caps all calls together.
	Parallel int
	// Dimensions is sent as the request's "dimensions" (OpenAI
	// text-embedding-3, Matryoshka models) and then is the expected
	// dimension, overriding Format.Dim; 0: not sent.
	Dimensions int
	// Base64 asks for base64-encoded vectors: exact float32s in a third of the bytes.
	Base64 bool
	// Cache, when set, is consulted for every text and stores every vector received.
	Cache kvcache.Cache
	// Tokenizer counts and truncates (Format.MaxInputTokens, TokensPerMinute);
	// nil: cl100k_base.
	Tokenizer Tokenizer
	// Timeout bounds one HTTP attempt (limiter waits excluded); 0: none beyond ctx.
	Timeout time.Duration
	// HTTPClient, nil: a client keeping MaxConcurrency idle connections to the host.
	HTTPClient *http.Client
	// Clock drives the rate limiters; nil: the real clock.
	Clock llm.Clock
	// Gate, when set, bounds requests in flight together with other clients.
	Gate *llm.Gate
}

// Stats are a Client's counters since New.
type Stats struct {
	Calls          int64         // Embed calls
	Texts          int64         // texts asked for, duplicates included
	CacheHits      int64         // texts answered from the cache
	CacheMisses    int64         // distinct texts sent to the server while a cache is set
	Truncated      int64         // texts cut to fit MaxInputTokens (cache hits included)
	Requests       int64         // HTTP requests sent
	Errors         int64         // failed requests (HTTP, transport or a rejected answer)
	Tokens         int64         // input tokens: the server's usage, else the tokenizer's count
	RateLimited    int64         // requests that waited for a rate limiter
	RateLimitDelay time.Duration // total time waited for the rate limiters
	Cost           float64       // Tokens priced at the endpoint's PricePromptPer1K
	CachePutErrors int64         // vectors that could not be stored (the call still succeeded)
}

// Client embeds with one endpoint. It is safe for concurrent use.
type Client struct {
	*llm.Conn
	opts   Options
	tok    Tokenizer
	dim    atomic.Int64 // learned dimension when none is configured
	budget [2]int       // tokens left for the text: [query, passage]

	mu    sync.Mutex
	stats Stats
}

var _ Embedder = (*Client)(nil)

// New validates ep and opts, reads the API key from the variable named by
// ep.APIKeyEnv, and builds the client. Config errors are *inputerr.Error
// naming the field (endpoints.NAME.FIELD).
func New(ep llm.Endpoint, opts Options) (*Client, error) {
	field := func(f string) string { return llm.EndpointField(ep, f) }
	for _, c := range []struct {
		name string
		v    int
	}{{"batch_size", opts.BatchSize}, {"parallel", opts.Parallel}, {"dimensions", opts.Dimensions},
		{"max_input_tokens", opts.Format.MaxInputTokens}, {"reserved_tokens", opts.Format.ReservedTokens}, {"dim", opts.Format.Dim}} {
		if c.v < 0 {
			return nil, inputerr.Field(field(c.name), "must be ≥ 0, got %d", c.v)
		}
	}
	if opts.Timeout < 0 {
		return nil, inputerr.Field("timeout", "must be ≥ 0, got %s", opts.Timeout)
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Parallel == 0 {
		opts.Parallel = ep.MaxConcurrency
		if opts.Parallel == 0 {
			opts.Parallel = 4
		}
	}
	if opts.Dimensions > 0 {
		opts.Format.Dim = opts.Dimensions
	}
	conn, err := llm.Dial(ep, "embed", opts.HTTPClient, opts.Clock)
	if err != nil {
		return nil, err
	}
	conn.UseGate(opts.Gate)
	c := &Client{Conn: conn, opts: opts, tok: opts.Tokenizer}
	if c.tok == nil {
		if c.tok, err = DefaultTokenizer(); err != nil {
			return nil, err
		}
	}
	if f := opts.Format; f.MaxInputTokens > 0 {
		for k, r := range []Role{Query, Passage} {
			p, s := f.affixes(r)
			c.budget[k] = f.MaxInputTokens - f.ReservedTokens - c.tok.Count(p) - c.tok.Count(s)
			if c.budget[k] < 1 {
				return nil, inputerr.Field(field("max_input_tokens"), "%d tokens leave no room for a %s after %d reserved tokens, prefix %q and suffix %q",
					f.MaxInputTokens, r, f.ReservedTokens, p, s)
			}
		}
	}
	return c, nil
}

// String is ID() with the base URL, for logs.
func (c *Client) String() string {
	return "embed.Client(" + c.ID() + " at " + c.Endpoint().BaseURL + ")"
}

// GoString keeps %#v from printing the client's internals.
func (c *Client) GoString() string { return c.String() }

// Dim is the configured dimension, else the one of the first vector seen, else 0.
func (c *Client) Dim() int {
	if c.opts.Format.Dim > 0 {
		return c.opts.Format.Dim
	}
	return int(c.dim.Load())
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *Client) count(f func(*Stats)) {
	c.mu.Lock()
	f(&c.stats)
	c.mu.Unlock()
}

// Input is the exact string sent for text: prefix, text truncated to the
// model's limit, suffix. It is what the cache key addresses.
func (c *Client) Input(text string, role Role) (input string, truncated bool) {
	p, s := c.opts.Format.affixes(role)
	if c.opts.Format.MaxInputTokens > 0 {
		var kept string
		b := c.budget[0]
		if role == Passage {
			b = c.budget[1]
		}
		kept, _ = c.tok.Truncate(text, b)
		truncated = len(kept) < len(text)
		text = kept
	}
	return p + text + s, truncated
}

// Embed returns one vector per text, in order: cached ones from the cache,
// the others from batched requests (identical inputs are sent once). A text
// that is empty or only whitespace is rejected before any request, naming its
// index (texts[i]). Vectors that arrived before a failing request stay
// cached, so a retry resumes.
func (c *Client) Embed(ctx context.Context, texts []string, role Role) ([][]float32, error) {
	c.count(func(s *Stats) { s.Calls++; s.Texts += int64(len(texts)) })
	if role != Query && role != Passage {
		return nil, &httpx.PermanentError{System: c.System(), Msg: fmt.Sprintf("invalid role %q (want %q or %q)", role, Query, Passage)}
	}
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			return nil, inputerr.Field(fmt.Sprintf("texts[%d]", i), "empty %s text: an encoder cannot embed it", role)
		}
	}
	inputs := make([]string, len(texts))
	out := make([][]float32, len(texts))
	first := make(map[string]int, len(texts)) // input → index of its first occurrence
	var miss []int                            // first occurrences not in the cache
	var truncated, hits int64
	for i, t := range texts {
		in, cut := c.Input(t, role)
		inputs[i] = in
		if cut {
			truncated++
		}
		if _, dup := first[in]; dup {
			continue
		}
		first[in] = i
		if v, ok := c.cached(in); ok {
			out[i] = v
			hits++
			continue
		}
		miss = append(miss, i)
	}
	c.count(func(s *Stats) {
		s.Truncated += truncated
		s.CacheHits += hits
		if c.opts.Cache != nil {
			s.CacheMisses += int64(len(miss))
		}
	})
	if err := c.fetch(ctx, inputs, miss, out); err != nil {
		return nil, err
	}
	for i, in := range inputs {
		if j := first[in]; j != i {
			out[i] = slices.Clone(out[j])
		} else if c.opts.Format.Normalize {
			if err := normalize(out[i]); err != nil {
				return nil, &httpx.PermanentError{System: c.System(), Msg: fmt.Sprintf("texts[%d]: %v", i, err)}
			}
		}
	}
	return out, nil
}

// cached returns the cached vector of input when it has the expected dimension.
func (c *Client) cached(input string) ([]float32, bool) {
	if c.opts.Cache == nil {
		return nil, false
	}
	s, ok := c.opts.Cache.Get(Key(c.ID(), c.opts.Dimensions, input))
	if !ok {
		return nil, false
	}
	v, ok := decodeVector(s)
	if !ok || c.learnDim(len(v)) != nil {
		return nil, false // unreadable or stale: embed again, the fresh vector overwrites it
	}
	return v, true
}

// learnDim checks n against the configured or learned dimension, learning it
// from the first vector when none is configured.
func (c *Client) learnDim(n int) error {
	want := c.opts.Format.Dim
	if want == 0 && !c.dim.CompareAndSwap(0, int64(n)) {
		want = int(c.dim.Load())
	}
	if want > 0 && n != want {
		return fmt.Errorf("dimension %d, expected %d", n, want)
	}
	return nil
}

// fetch embeds inputs[i] for i in miss, in batches with at most
// opts.Parallel requests in flight, and stores the vectors in out. On
// failure it stops sending, waits for the requests in flight and returns a
// permanent error if one occurred, else the first error.
func (c *Client) fetch(ctx context.Context, inputs []string, miss []int, out [][]float32) error {
	if len(miss) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	slots := make(chan struct{}, c.opts.Parallel)
send:
	for b := 0; b < len(miss); b += c.opts.BatchSize {
		idx := miss[b:min(b+c.opts.BatchSize, len(miss))]
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break send
		}
		wg.Go(func() {
			defer func() { <-slots }()
			vecs, err := c.request(ctx, inputs, idx)
			if err != nil {
				mu.Lock()
				if firstErr == nil || (httpx.IsPermanent(err) && !httpx.IsPermanent(firstErr)) {
					firstErr = err
				}
				mu.Unlock()
				cancel()
				return
			}
			for k, i := range idx {
				out[i] = vecs[k]
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// request sends one batch within the endpoint's limits, checks the answer and
// caches its vectors. The vectors are in the order of idx.
func (c *Client) request(ctx context.Context, inputs []string, idx []int) ([][]float32, error) {
	batch := make([]string, len(idx))
	for k, i := range idx {
		batch[k] = inputs[i]
	}
	release, err := c.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	est, charged := 0, 0
	if c.Limited() {
		for _, in := range batch {
			est += c.tok.Count(in)
		}
		waited, n, err := c.WaitRate(ctx, est)
		if err != nil {
			return nil, err
		}
		charged = n
		if waited > 0 {
			c.count(func(s *Stats) { s.RateLimited++; s.RateLimitDelay += waited })
		}
	}
	vecs, tokens, err := c.call(ctx, batch, idx)
	if err != nil {
		c.count(func(s *Stats) { s.Requests++; s.Errors++ })
		return nil, err
	}
	if tokens == 0 { // no usage reported
		if est == 0 {
			for _, in := range batch {
				est += c.tok.Count(in)
			}
		}
		tokens = est
	}
	c.CorrectTokens(charged, tokens)
	var putErrs int64
	if c.opts.Cache != nil {
		for k, v := range vecs {
			if c.opts.Cache.Put(Key(c.ID(), c.opts.Dimensions, batch[k]), encodeVector(v)) != nil {
				putErrs++
			}
		}
	}
	c.count(func(s *Stats) {
		s.Requests++
		s.Tokens += int64(tokens)
		s.Cost += float64(tokens) / 1000 * c.Endpoint().PricePromptPer1K
		s.CachePutErrors += putErrs
	})
	return vecs, nil
}

// call makes the HTTP request and checks the answer: one vector per input,
// each index once, non-empty, one dimension (the expected one), finite values. idx maps
// batch positions to the caller's text indices, for messages.
func (c *Client) call(ctx context.Context, batch []string, idx []int) ([][]float32, int, error) {
	req := openai.EmbeddingRequest{Input: batch, Model: openai.EmbeddingModel(c.Endpoint().Model), Dimensions: c.opts.Dimensions}
	if c.opts.Base64 {
		req.EncodingFormat = openai.EmbeddingEncodingFormatBase64
	}
	if c.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.Timeout)
		defer cancel()
	}
	hctx, holder := httpx.WithHeaderHolder(ctx)
	resp, err := c.OpenAI().CreateEmbeddings(hctx, req)
	if err != nil {
		return nil, 0, c.MapError(err, holder)
	}
	bad := func(format string, args ...any) error {
		return &httpx.PermanentError{System: c.System(), Msg: "invalid answer: " + fmt.Sprintf(format, args...)}
	}
	if len(resp.Data) != len(batch) || len(batch) == 0 {
		return nil, 0, bad("%d vectors for %d inputs", len(resp.Data), len(batch))
	}
	vecs := make([][]float32, len(batch))
	dim := len(resp.Data[0].Embedding)
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= len(batch) {
			return nil, 0, bad("vector index %d out of range [0, %d)", d.Index, len(batch))
		}
		if vecs[d.Index] != nil {
			return nil, 0, bad("vector index %d given twice", d.Index)
		}
		text := fmt.Sprintf("texts[%d]", idx[d.Index])
		if len(d.Embedding) == 0 {
			return nil, 0, bad("%s: empty vector", text)
		}
		if len(d.Embedding) != dim {
			return nil, 0, bad("%s: dimension %d, others %d", text, len(d.Embedding), dim)
		}
		for j, x := range d.Embedding {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, 0, bad("%s: value %v at position %d", text, x, j)
			}
		}
		vecs[d.Index] = d.Embedding
	}
	// Only a consistent answer may teach the client its dimension.
	if err := c.learnDim(dim); err != nil {
		return nil, 0, bad("%v", err)
	}
	return vecs, resp.Usage.PromptTokens, nil
}

// normalize scales v to unit L2 norm in place (in float64, then rounded).
func normalize(v []float32) error {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return errors.New("zero vector: cannot normalise")
	}
	n := math.Sqrt(ss)
	for i, x := range v {
		v[i] = float32(float64(x) / n)
	}
	return nil
}
