package embed_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/embed"
	"github.com/clirflow/clirflow/internal/httpx"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/kvcache"
	"github.com/clirflow/clirflow/internal/llm"
	"github.com/clirflow/clirflow/internal/llmtest"
)

const model = "enc"

// recorder keeps the inputs of every embeddings request the server answers.
type recorder struct {
	mu      sync.Mutex
	batches [][]string
	rewrite func(items []llmtest.EmbeddingItem) []llmtest.EmbeddingItem
}

func (r *recorder) hook(_ string, inputs []string, items []llmtest.EmbeddingItem) []llmtest.EmbeddingItem {
	r.mu.Lock()
	r.batches = append(r.batches, slices.Clone(inputs))
	r.mu.Unlock()
	if r.rewrite != nil {
		return r.rewrite(items)
	}
	return items
}

func (r *recorder) inputs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []string
	for _, b := range r.batches {
		all = append(all, b...)
	}
	return all
}

func newServer(t *testing.T, opts llmtest.ServerOptions) (*llmtest.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	if opts.EmbeddingItems == nil {
		opts.EmbeddingItems = rec.hook
	}
	s := llmtest.NewServer(opts)
	t.Cleanup(s.Close)
	return s, rec
}

func newClient(t *testing.T, s *llmtest.Server, ep llm.Endpoint, opts embed.Options) *embed.Client {
	t.Helper()
	ep.BaseURL = s.URL()
	if ep.Model == "" {
		ep.Model = model
	}
	if opts.Tokenizer == nil {
		opts.Tokenizer = embed.WordTokenizer
	}
	c, err := embed.New(ep, opts)
	require.NoError(t, err)
	return c
}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("document number %d", i)
	}
	return out
}

func preset(t *testing.T, name string) embed.Format {
	t.Helper()
	p, err := embed.LookupPreset(name)
	require.NoError(t, err)
	return p.Format
}

func TestBatchingKeepsOrder(t *testing.T) {
	rec := &recorder{rewrite: func(items []llmtest.EmbeddingItem) []llmtest.EmbeddingItem {
		slices.Reverse(items) // the answer lists the vectors backwards; "index" says whose they are
		return items
	}}
	s, _ := newServer(t, llmtest.ServerOptions{EmbeddingItems: rec.hook})
	c := newClient(t, s, llm.Endpoint{}, embed.Options{Format: embed.Format{PassagePrefix: "passage: "}})
	in := texts(70)
	vecs, err := c.Embed(context.Background(), in, embed.Passage)
	require.NoError(t, err)
	require.Len(t, vecs, 70)
	for i, v := range vecs {
		assert.Equal(t, llmtest.Embedding(model, "passage: "+in[i], 8), v, "text %d", i)
	}
	var sizes []int
	for _, b := range rec.batches {
		sizes = append(sizes, len(b))
	}
	slices.Sort(sizes)
	assert.Equal(t, []int{6, 32, 32}, sizes) // default batch size 32
	assert.Equal(t, 3, s.Stats().Embeddings)
	st := c.Stats()
	assert.Equal(t, int64(3), st.Requests)
	assert.Equal(t, int64(70), st.Texts)
	assert.Equal(t, int64(70*4), st.Tokens) // the server's usage: 4 words per input
	assert.Equal(t, 8, c.Dim())

	c5 := newClient(t, s, llm.Endpoint{}, embed.Options{BatchSize: 5, Parallel: 1})
	rec.batches = nil
	_, err = c5.Embed(context.Background(), in[:12], embed.Query)
	require.NoError(t, err)
	require.Len(t, rec.batches, 3)
	assert.Equal(t, in[:5], rec.batches[0]) // Parallel 1: batches in order
	assert.Equal(t, in[10:12], rec.batches[2])
}

func TestPresetPrefixesReachTheServer(t *testing.T) {
	for _, tc := range []struct {
		preset         string
		query, passage string
	}{
		{"multilingual-e5-large", "query: what is x", "passage: x is y"},
		{"bge-m3", "what is x", "x is y"},
		{"mgte", "what is x", "x is y"},
		{"nv-embed-v2", "Instruct: Given a question, retrieve passages that answer the question\nQuery: what is x", "x is y"},
		{"repllama", "query: what is x</s>", "passage: x is y</s>"},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			s, rec := newServer(t, llmtest.ServerOptions{})
			c := newClient(t, s, llm.Endpoint{}, embed.Options{Format: preset(t, tc.preset), Dimensions: 8})
			_, err := c.Embed(context.Background(), []string{"what is x"}, embed.Query)
			require.NoError(t, err)
			_, err = c.Embed(context.Background(), []string{"x is y"}, embed.Passage)
			require.NoError(t, err)
			assert.Equal(t, []string{tc.query, tc.passage}, rec.inputs())
		})
	}
}

func TestTruncationToTheInputLimit(t *testing.T) {
	s, rec := newServer(t, llmtest.ServerOptions{})
	// 6 tokens: 1 reserved, 1 for "query:", leaves 4 words of text
	f := embed.Format{QueryPrefix: "query: ", PassageSuffix: " </s>", MaxInputTokens: 6, ReservedTokens: 1}
	c := newClient(t, s, llm.Endpoint{}, embed.Options{Format: f})
	_, err := c.Embed(context.Background(), []string{"one two  three four five six", "short text"}, embed.Query)
	require.NoError(t, err)
	_, err = c.Embed(context.Background(), []string{"one two three four five six"}, embed.Passage)
	require.NoError(t, err)
	assert.Equal(t, []string{"query: one two  three four", "query: short text", "one two three four </s>"}, rec.inputs())
	assert.Equal(t, int64(2), c.Stats().Truncated)

	// no room for the text at all: a config error naming the field
	_, err = embed.New(llm.Endpoint{Name: "e", BaseURL: s.URL(), Model: model},
		embed.Options{Format: embed.Format{QueryPrefix: "a b c", MaxInputTokens: 4, ReservedTokens: 1}, Tokenizer: embed.WordTokenizer})
	require.Error(t, err)
	assert.True(t, inputerr.Is(err))
	assert.Contains(t, err.Error(), "endpoints.e.max_input_tokens")
}

func TestTiktokenTruncation(t *testing.T) {
	tok, err := embed.DefaultTokenizer()
	require.NoError(t, err)
	text := strings.Repeat("Ünïcödé 日本語のテキスト and some English words. ", 50)
	n := tok.Count(text)
	require.Greater(t, n, 100)
	for _, limit := range []int{1, 7, 50, 99} {
		kept, k := tok.Truncate(text, limit)
		assert.True(t, utf8.ValidString(kept), "limit %d", limit)
		assert.True(t, strings.HasPrefix(text, kept))
		assert.LessOrEqual(t, tok.Count(kept), limit)
		assert.LessOrEqual(t, k, limit)
		assert.Greater(t, len(kept), 0)
	}
	kept, k := tok.Truncate(text, n)
	assert.Equal(t, text, kept)
	assert.Equal(t, n, k)
	kept, k = tok.Truncate("short", 100)
	assert.Equal(t, "short", kept)
	assert.Equal(t, 1, k)
}

func TestNormalisation(t *testing.T) {
	raw := map[string][]float32{"a": {3, 4}, "b": {0, -2}, "zero": {0, 0}}
	s, _ := newServer(t, llmtest.ServerOptions{Embedder: func(_, text string) []float32 { return slices.Clone(raw[text]) }})
	plain := newClient(t, s, llm.Endpoint{}, embed.Options{})
	v, err := plain.Embed(context.Background(), []string{"a", "b"}, embed.Query)
	require.NoError(t, err)
	assert.Equal(t, [][]float32{{3, 4}, {0, -2}}, v)

	cache := kvcache.NewMemCache()
	norm := newClient(t, s, llm.Endpoint{}, embed.Options{Format: embed.Format{Normalize: true}, Cache: cache})
	for range 2 { // fresh, then from the cache (which keeps the raw vectors)
		v, err = norm.Embed(context.Background(), []string{"a", "b", "a"}, embed.Query)
		require.NoError(t, err)
		assert.Equal(t, [][]float32{{0.6, 0.8}, {0, -1}, {0.6, 0.8}}, v)
	}
	v[0][0] = 42 // duplicates are copies
	assert.Equal(t, float32(0.6), v[2][0])
	assert.Equal(t, int64(2), norm.Stats().CacheMisses) // "a" was sent once
	assert.Equal(t, int64(2), norm.Stats().CacheHits)   // second call: "a" and "b"

	_, err = norm.Embed(context.Background(), []string{"zero"}, embed.Query)
	require.Error(t, err)
	assert.True(t, httpx.IsPermanent(err))
	assert.Contains(t, err.Error(), "zero vector")
}

func TestCacheMakesReRunsFree(t *testing.T) {
	for _, name := range []string{"mem", "file"} {
		t.Run(name, func(t *testing.T) {
			var cache kvcache.Cache = kvcache.NewMemCache()
			if name == "file" {
				fc, err := kvcache.NewFileCache(t.TempDir())
				require.NoError(t, err)
				t.Cleanup(func() { fc.Close() })
				cache = fc
			}
			s, _ := newServer(t, llmtest.ServerOptions{})
			opts := embed.Options{Format: preset(t, "multilingual-e5-large"), Dimensions: 8, Cache: cache, BatchSize: 10}
			in := texts(25)
			first, err := newClient(t, s, llm.Endpoint{}, opts).Embed(context.Background(), in, embed.Passage)
			require.NoError(t, err)
			require.Equal(t, 3, s.Requests())

			s.Reset()
			c := newClient(t, s, llm.Endpoint{}, opts) // a new process: only the cache is shared
			again, err := c.Embed(context.Background(), in, embed.Passage)
			require.NoError(t, err)
			assert.Equal(t, first, again)
			assert.Equal(t, 0, s.Requests())
			st := c.Stats()
			assert.Equal(t, int64(25), st.CacheHits)
			assert.Equal(t, int64(0), st.CacheMisses)
			assert.Equal(t, int64(0), st.Requests)

			// the same texts as queries are other inputs ("query: " prefix): misses
			_, err = c.Embed(context.Background(), in[:3], embed.Query)
			require.NoError(t, err)
			assert.Equal(t, 1, s.Requests())
			assert.Equal(t, int64(3), c.Stats().CacheMisses)
		})
	}
	// the key addresses model, dimensions and the exact input
	k := embed.Key("m", 0, "query: x")
	assert.NotEqual(t, k, embed.Key("m2", 0, "query: x"))
	assert.NotEqual(t, k, embed.Key("m", 8, "query: x"))
	assert.NotEqual(t, k, embed.Key("m", 0, "passage: x"))
	assert.Equal(t, k, embed.Key("m", 0, "query: x"))
}

func TestRetryResumesAfterAFailedBatch(t *testing.T) {
	s, _ := newServer(t, llmtest.ServerOptions{Schedule: map[int]llmtest.Fault{2: {Kind: llmtest.FaultHTTP500}}})
	c := newClient(t, s, llm.Endpoint{}, embed.Options{BatchSize: 4, Parallel: 1, Cache: kvcache.NewMemCache()})
	in := texts(10)
	_, err := c.Embed(context.Background(), in, embed.Passage)
	require.Error(t, err)
	assert.False(t, httpx.IsPermanent(err))
	assert.Equal(t, 2, s.Requests()) // the third batch is not sent after the failure
	out, err := c.Embed(context.Background(), in, embed.Passage)
	require.NoError(t, err)
	assert.Equal(t, 4, s.Requests()) // batches 2 and 3 again; batch 1 came from the cache
	assert.Equal(t, llmtest.Embedding(model, in[9], 8), out[9])
}

func TestHTTPFaults(t *testing.T) {
	s, _ := newServer(t, llmtest.ServerOptions{Schedule: map[int]llmtest.Fault{
		1: {Kind: llmtest.FaultHTTP500},
		2: {Kind: llmtest.FaultRateLimit, RetryAfter: 3 * time.Second},
		3: {Kind: llmtest.FaultStatus, Status: http.StatusBadRequest, Message: "input too long"},
		4: {Kind: llmtest.FaultTruncated},
		5: {Kind: llmtest.FaultTimeout},
	}})
	c := newClient(t, s, llm.Endpoint{}, embed.Options{Timeout: 100 * time.Millisecond})
	call := func() error {
		_, err := c.Embed(context.Background(), []string{"x"}, embed.Query)
		return err
	}

	err := call()
	var se *httpx.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 500, se.Status)
	assert.False(t, httpx.IsPermanent(err))

	err = call()
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 429, se.Status)
	d, ok := httpx.RetryAfter(err)
	assert.True(t, ok)
	assert.Equal(t, 3*time.Second, d)

	err = call()
	var pe *httpx.PermanentError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 400, pe.Status)
	assert.Contains(t, pe.Msg, "input too long")
	assert.True(t, httpx.IsPermanent(err))

	err = call() // half a JSON body
	require.Error(t, err)
	assert.False(t, httpx.IsPermanent(err))

	err = call() // no answer within the timeout
	require.Error(t, err)
	assert.False(t, httpx.IsPermanent(err))
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	require.NoError(t, call())
	st := c.Stats()
	assert.Equal(t, int64(6), st.Requests)
	assert.Equal(t, int64(5), st.Errors)
}

func TestInvalidAnswersArePermanent(t *testing.T) {
	drop := func(items []llmtest.EmbeddingItem) []llmtest.EmbeddingItem { return items[1:] }
	extra := func(items []llmtest.EmbeddingItem) []llmtest.EmbeddingItem {
		return append(items, llmtest.EmbeddingItem{Index: len(items), Embedding: items[0].Embedding})
	}
	twice := func(items []llmtest.EmbeddingItem) []llmtest.EmbeddingItem { items[1].Index = 0; return items }
	outside := func(items []llmtest.EmbeddingItem) []llmtest.EmbeddingItem { items[1].Index = 7; return items }
	empty := func(items []llmtest.EmbeddingItem) []llmtest.EmbeddingItem { items[1].Embedding = nil; return items }
	vec := func(v ...float32) func(string, string) []float32 {
		return func(_, text string) []float32 {
			if text == "b" {
				return v
			}
			return []float32{1, 2, 3}
		}
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tc := range []struct {
		name  string
		items func([]llmtest.EmbeddingItem) []llmtest.EmbeddingItem
		emb   func(string, string) []float32
		dim   int
		want  string
	}{
		{name: "fewer vectors", items: drop, want: "2 vectors for 3 inputs"},
		{name: "more vectors", items: extra, want: "4 vectors for 3 inputs"},
		{name: "index twice", items: twice, want: "index 0 given twice"},
		{name: "index out of range", items: outside, want: "index 7 out of range"},
		{name: "empty vector", items: empty, want: "texts[1]: empty vector"},
		{name: "differing dimensions", emb: vec(1, 2), want: "texts[1]: dimension 2, others 3"},
		{name: "unexpected dimension", dim: 4, want: "dimension 8, expected 4"},
		{name: "NaN", emb: vec(1, nan, 3), want: "texts[1]: value NaN at position 1"},
		{name: "Inf", emb: vec(inf, 2, 3), want: "texts[1]: value +Inf at position 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{rewrite: tc.items}
			// NaN and Inf cannot be written as JSON numbers: the vectors travel as base64
			s, _ := newServer(t, llmtest.ServerOptions{EmbeddingItems: rec.hook, Embedder: tc.emb})
			c := newClient(t, s, llm.Endpoint{Name: "e"}, embed.Options{Base64: true, Format: embed.Format{Dim: tc.dim}, Cache: kvcache.NewMemCache()})
			_, err := c.Embed(context.Background(), []string{"a", "b", "c"}, embed.Passage)
			require.Error(t, err)
			assert.True(t, httpx.IsPermanent(err), "%v", err)
			assert.Contains(t, err.Error(), "embed e/enc: invalid answer: ")
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, int64(1), c.Stats().Errors)
			if tc.dim == 0 {
				assert.Zero(t, c.Dim(), "a rejected answer must not set the dimension")
			}
		})
	}
}

func TestBase64AnswersAreExact(t *testing.T) {
	s, _ := newServer(t, llmtest.ServerOptions{EmbeddingDim: 16})
	c := newClient(t, s, llm.Endpoint{}, embed.Options{Base64: true})
	v, err := c.Embed(context.Background(), []string{"hola"}, embed.Query)
	require.NoError(t, err)
	assert.Equal(t, llmtest.Embedding(model, "hola", 16), v[0])
}

func TestInputIsCheckedBeforeAnyRequest(t *testing.T) {
	s, _ := newServer(t, llmtest.ServerOptions{})
	c := newClient(t, s, llm.Endpoint{}, embed.Options{})
	_, err := c.Embed(context.Background(), []string{"fine", " \n\t"}, embed.Passage)
	require.Error(t, err)
	assert.True(t, inputerr.Is(err))
	assert.True(t, httpx.IsPermanent(err))
	assert.Contains(t, err.Error(), "texts[1]: empty passage text")

	_, err = c.Embed(context.Background(), []string{"x"}, embed.Role("document"))
	require.Error(t, err)
	assert.True(t, httpx.IsPermanent(err))
	assert.Contains(t, err.Error(), `invalid role "document"`)
	assert.Equal(t, 0, s.Requests())

	v, err := c.Embed(context.Background(), nil, embed.Query)
	require.NoError(t, err)
	assert.Empty(t, v)
	assert.Equal(t, 0, s.Requests())
}

const fakeKey = "sk-embed-test-0123456789abcdef"

func TestAPIKeyNeverLeaks(t *testing.T) {
	t.Setenv("EMBED_TEST_KEY", fakeKey)
	// a server that rejects the key and quotes it back in its message
	s, _ := newServer(t, llmtest.ServerOptions{APIKey: "another-key"})
	c := newClient(t, s, llm.Endpoint{Name: "e", APIKeyEnv: "EMBED_TEST_KEY"}, embed.Options{})
	_, err := c.Embed(context.Background(), []string{"x"}, embed.Query)
	require.Error(t, err)
	assert.True(t, httpx.IsPermanent(err))
	assert.NotContains(t, err.Error(), fakeKey)
	assert.Contains(t, err.Error(), "[REDACTED]")
	var pe *httpx.PermanentError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, http.StatusUnauthorized, pe.Status)
	for _, s := range []string{c.ID(), c.String(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprint(c.Endpoint())} {
		assert.NotContains(t, s, fakeKey)
	}

	// the right key is sent, and no other error kind leaks it either
	ok, _ := newServer(t, llmtest.ServerOptions{APIKey: fakeKey, Schedule: map[int]llmtest.Fault{
		1: {Kind: llmtest.FaultHTTP500}, 2: {Kind: llmtest.FaultRateLimit}, 3: {Kind: llmtest.FaultTruncated},
		4: {Kind: llmtest.FaultTimeout}, 5: {Kind: llmtest.FaultStatus, Status: 400},
	}})
	c = newClient(t, ok, llm.Endpoint{APIKeyEnv: "EMBED_TEST_KEY"}, embed.Options{Timeout: 100 * time.Millisecond})
	for range 5 {
		_, err := c.Embed(context.Background(), []string{"x"}, embed.Query)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), fakeKey)
	}
	_, err = c.Embed(context.Background(), []string{"x"}, embed.Query)
	require.NoError(t, err)

	t.Setenv("EMBED_TEST_UNSET", "")
	_, err = embed.New(llm.Endpoint{Name: "e", BaseURL: ok.URL(), Model: "m", APIKeyEnv: "EMBED_TEST_UNSET"}, embed.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "endpoints.e.api_key_env: environment variable EMBED_TEST_UNSET is not set")
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		ep   llm.Endpoint
		opts embed.Options
		want string
	}{
		{llm.Endpoint{Name: "e", Model: "m"}, embed.Options{}, "endpoints.e.base_url: is required"},
		{llm.Endpoint{BaseURL: "ftp://x", Model: "m"}, embed.Options{}, "base_url: \"ftp://x\" is not an http(s) URL"},
		{llm.Endpoint{BaseURL: "http://u:p@h/v1", Model: "m"}, embed.Options{}, "must not contain credentials"},
		{llm.Endpoint{BaseURL: "http://h/v1"}, embed.Options{}, "model: is required"},
		{llm.Endpoint{BaseURL: "http://h/v1", Model: "m"}, embed.Options{BatchSize: -1}, "batch_size: must be ≥ 0"},
		{llm.Endpoint{BaseURL: "http://h/v1", Model: "m", MaxConcurrency: -2}, embed.Options{}, "max_concurrency: must be ≥ 0"},
		{llm.Endpoint{BaseURL: "http://h/v1", Model: "m"}, embed.Options{Format: embed.Format{Dim: -1}}, "dim: must be ≥ 0"},
	} {
		_, err := embed.New(tc.ep, tc.opts)
		require.Error(t, err, tc.want)
		assert.True(t, inputerr.Is(err))
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestEndpointConcurrencyLimit(t *testing.T) {
	s, _ := newServer(t, llmtest.ServerOptions{Latency: 20 * time.Millisecond})
	c := newClient(t, s, llm.Endpoint{MaxConcurrency: 2}, embed.Options{BatchSize: 1, Parallel: 8})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			_, err := c.Embed(context.Background(), texts(6+i), embed.Passage)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, 13, s.Requests())
	assert.LessOrEqual(t, s.Stats().MaxConcurrent, 2)
}

// fakeClock advances when slept on.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
	return ctx.Err()
}

func TestRateLimits(t *testing.T) {
	s, _ := newServer(t, llmtest.ServerOptions{})
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	// 60 requests a minute: one a second, the first at once
	c := newClient(t, s, llm.Endpoint{RequestsPerMinute: 60}, embed.Options{BatchSize: 1, Parallel: 1, Clock: clk})
	_, err := c.Embed(context.Background(), texts(3), embed.Query)
	require.NoError(t, err)
	st := c.Stats()
	assert.Equal(t, int64(2), st.RateLimited)
	assert.InDelta(t, 2*time.Second, st.RateLimitDelay, float64(10*time.Millisecond))

	// 60 tokens a minute, 3 tokens per input: a first batch of 20 empties the
	// bucket, then tokens come back at 1 a second
	clk2 := &fakeClock{now: time.Unix(1e9, 0)}
	c = newClient(t, s, llm.Endpoint{TokensPerMinute: 60}, embed.Options{BatchSize: 20, Clock: clk2})
	_, err = c.Embed(context.Background(), texts(20), embed.Query)
	require.NoError(t, err)
	st = c.Stats()
	assert.Equal(t, int64(0), st.RateLimited)
	_, err = c.Embed(context.Background(), texts(1), embed.Passage)
	require.NoError(t, err)
	st = c.Stats()
	assert.Equal(t, int64(1), st.RateLimited)
	assert.InDelta(t, 3*time.Second, st.RateLimitDelay, float64(10*time.Millisecond))
}

func TestContextCancelled(t *testing.T) {
	s, _ := newServer(t, llmtest.ServerOptions{Latency: time.Second})
	c := newClient(t, s, llm.Endpoint{}, embed.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Embed(ctx, []string{"x"}, embed.Query)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	assert.False(t, httpx.IsPermanent(err))
}
