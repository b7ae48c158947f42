package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/llm"
	"github.com/clirflow/clirflow/internal/llmtest"
)

const fakeKey = "sk-FAKE-KEY-0123456789-do-not-leak"

func newClient(t testing.TB, s *llmtest.Server, ep llm.Endpoint, opts llm.Options) *llm.Client {
	t.Helper()
	ep.BaseURL = s.URL()
	if ep.Model == "" {
		ep.Model = "test-model"
	}
	if ep.Name == "" {
		ep.Name = "stub"
	}
	if opts.Tokenizer == nil {
		opts.Tokenizer = llm.WordTokenizer
	}
	c, err := llm.New(ep, opts)
	require.NoError(t, err)
	return c
}

func userReq(text string) llm.Request {
	return llm.Request{Messages: []llm.Message{{Role: "user", Content: text}}}
}

func TestChatSuccess(t *testing.T) {
	var mu sync.Mutex
	var seen llmtest.ChatRequest
	s := llmtest.NewServer(llmtest.ServerOptions{Answerer: func(r llmtest.ChatRequest) (string, error) {
		mu.Lock()
		seen = r
		mu.Unlock()
		return "[2] > [1] > [3]", nil
	}})
	defer s.Close()
	c := newClient(t, s, llm.Endpoint{PricePromptPer1K: 1, PriceCompletionPer1K: 2}, llm.Options{})
	seed := 7
	resp, err := c.Chat(context.Background(), llm.Request{
		Messages:  []llm.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "rank these three"}},
		MaxTokens: 50, Seed: &seed, Stop: []string{"\n\n"},
	})
	require.NoError(t, err)
	assert.Equal(t, "[2] > [1] > [3]", resp.Content)
	assert.Equal(t, 5, resp.PromptTokens) // the server counts words
	assert.Equal(t, 5, resp.CompletionTokens)
	assert.InDelta(t, 5.0/1000*1+5.0/1000*2, resp.Cost, 1e-12)
	assert.Equal(t, "test-model", resp.Model)
	assert.False(t, resp.CacheHit)
	assert.Greater(t, resp.Latency, time.Duration(0))

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, "test-model", seen.Model)
	require.NotNil(t, seen.Temperature, "temperature 0 must be sent, not omitted")
	assert.Less(t, *seen.Temperature, 1e-5)
	assert.Equal(t, 50, seen.MaxTokens)
	require.NotNil(t, seen.Seed)
	assert.Equal(t, 7, *seen.Seed)
	assert.Equal(t, []string{"\n\n"}, seen.Stop)
	assert.Equal(t, []llmtest.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "rank these three"}}, seen.Messages)

	st := c.Stats()
	assert.Equal(t, int64(1), st.Requests)
	assert.Equal(t, int64(5), st.PromptTokens)
}

func TestTemperatureSent(t *testing.T) {
	var got *float64
	s := llmtest.NewServer(llmtest.ServerOptions{Answerer: func(r llmtest.ChatRequest) (string, error) { got = r.Temperature; return "ok", nil }})
	defer s.Close()
	c := newClient(t, s, llm.Endpoint{}, llm.Options{})
	req := userReq("x")
	req.Temperature = 0.7
	_, err := c.Chat(context.Background(), req)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.InDelta(t, 0.7, *got, 1e-6)
}

func TestCache(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{})
	defer s.Close()
	cache := llm.NewMemCache()
	c := newClient(t, s, llm.Endpoint{PricePromptPer1K: 1}, llm.Options{Cache: cache})
	ctx := context.Background()
	first, err := c.Chat(ctx, userReq("hello cache"))
	require.NoError(t, err)
	require.Equal(t, 1, s.ChatRequests())

	second, err := c.Chat(ctx, userReq("hello cache"))
	require.NoError(t, err)
	assert.Equal(t, 1, s.ChatRequests(), "a cache hit makes no request")
	assert.True(t, second.CacheHit)
	assert.Zero(t, second.Latency)
	assert.Zero(t, second.Cost)
	assert.Equal(t, first.Content, second.Content)
	assert.Equal(t, first.PromptTokens, second.PromptTokens)
	assert.Equal(t, first.CompletionTokens, second.CompletionTokens)
	assert.Equal(t, first.Model, second.Model)

	warm := userReq("hello cache")
	warm.Temperature = 0.5
	third, err := c.Chat(ctx, warm)
	require.NoError(t, err)
	assert.False(t, third.CacheHit)
	assert.Equal(t, 2, s.ChatRequests(), "another temperature is another request")

	// the stored value is the Response without CacheHit
	v, ok := cache.Get(c.CacheKey(userReq("hello cache")))
	require.True(t, ok)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(v), &m))
	assert.NotContains(t, m, "cache_hit")
	assert.Equal(t, "hello cache", m["content"])

	// a second client on the same endpoint shares the cache; another endpoint name does not
	c2 := newClient(t, s, llm.Endpoint{}, llm.Options{Cache: cache})
	r, err := c2.Chat(ctx, userReq("hello cache"))
	require.NoError(t, err)
	assert.True(t, r.CacheHit)
	c3 := newClient(t, s, llm.Endpoint{Name: "other"}, llm.Options{Cache: cache})
	r, err = c3.Chat(ctx, userReq("hello cache"))
	require.NoError(t, err)
	assert.False(t, r.CacheHit)
	assert.Equal(t, int64(2), c.Stats().Calls-c.Stats().CacheHits)

	// errors are not cached
	f := llmtest.NewServer(llmtest.ServerOptions{Schedule: map[int]llmtest.Fault{1: {Kind: llmtest.FaultHTTP500}}})
	defer f.Close()
	cf := newClient(t, f, llm.Endpoint{}, llm.Options{Cache: llm.NewMemCache()})
	_, err = cf.Chat(ctx, userReq("x"))
	require.Error(t, err)
	r, err = cf.Chat(ctx, userReq("x"))
	require.NoError(t, err)
	assert.False(t, r.CacheHit)
}

func TestRequestKey(t *testing.T) {
	seed1, seed2 := 1, 2
	base := llm.Request{Messages: []llm.Message{{Role: "user", Content: "q"}}, Temperature: 0, MaxTokens: 10}
	k := llm.RequestKey("m", base)
	assert.Len(t, k, 64)
	assert.Equal(t, k, llm.RequestKey("m", base))
	withEmptyStop := base
	withEmptyStop.Stop = []string{}
	assert.Equal(t, k, llm.RequestKey("m", withEmptyStop))

	variants := map[string]llm.Request{}
	v := base
	v.Temperature = 0.1
	variants["temperature"] = v
	v = base
	v.MaxTokens = 11
	variants["max_tokens"] = v
	v = base
	v.Seed = &seed1
	variants["seed1"] = v
	v = base
	v.Seed = &seed2
	variants["seed2"] = v
	v = base
	v.Stop = []string{"x"}
	variants["stop"] = v
	v = base
	v.Messages = []llm.Message{{Role: "system", Content: "q"}}
	variants["role"] = v
	v = base
	v.Messages = []llm.Message{{Role: "user", Content: "q "}}
	variants["content"] = v
	v = base
	v.Messages = []llm.Message{{Role: "user", Content: "q"}, {Role: "user", Content: ""}}
	variants["messages"] = v
	seen := map[string]string{k: "base", llm.RequestKey("m2", base): "model"}
	for name, r := range variants {
		key := llm.RequestKey("m", r)
		if prev, dup := seen[key]; dup {
			t.Errorf("%s has the key of %s", name, prev)
		}
		seen[key] = name
	}
}

func TestPermanentError400(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{Schedule: map[int]llmtest.Fault{
		1: {Kind: llmtest.FaultStatus, Status: 400, Message: "This model's maximum context length is 4096 tokens"},
		2: {Kind: llmtest.FaultStatus, Status: 404, Message: "model not found"},
	}})
	defer s.Close()
	c := newClient(t, s, llm.Endpoint{}, llm.Options{})
	_, err := c.Chat(context.Background(), userReq("x"))
	require.Error(t, err)
	assert.True(t, llm.IsPermanent(err))
	var pe *llm.PermanentError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 400, pe.Status)
	assert.Equal(t, "This model's maximum context length is 4096 tokens", pe.Msg)
	assert.Contains(t, err.Error(), "maximum context length")
	_, ok := llm.RetryAfter(err)
	assert.False(t, ok)

	_, err = c.Chat(context.Background(), userReq("x"))
	assert.True(t, llm.IsPermanent(err))
	assert.Contains(t, err.Error(), "model not found")
}

func TestTransientErrors(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{Schedule: map[int]llmtest.Fault{
		1: {Kind: llmtest.FaultHTTP500},
		2: {Kind: llmtest.FaultRateLimit, RetryAfter: 7 * time.Second},
		3: {Kind: llmtest.FaultStatus, Status: 503, RetryAfter: 2 * time.Second},
		4: {Kind: llmtest.FaultStatus, Status: 408},
		5: {Kind: llmtest.FaultTruncated},
		6: {Kind: llmtest.FaultTimeout},
		7: {Kind: llmtest.FaultRateLimit, RetryAfter: -1},
	}})
	defer s.Close()
	c := newClient(t, s, llm.Endpoint{}, llm.Options{Timeout: 200 * time.Millisecond})
	ctx := context.Background()

	_, err := c.Chat(ctx, userReq("x"))
	var se *llm.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 500, se.Status)
	assert.False(t, llm.IsPermanent(err))

	_, err = c.Chat(ctx, userReq("x"))
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 429, se.Status)
	assert.False(t, llm.IsPermanent(err))
	d, ok := llm.RetryAfter(err)
	assert.True(t, ok)
	assert.Equal(t, 7*time.Second, d)

	_, err = c.Chat(ctx, userReq("x"))
	d, ok = llm.RetryAfter(err)
	assert.True(t, ok)
	assert.Equal(t, 2*time.Second, d)
	assert.False(t, llm.IsPermanent(err))

	_, err = c.Chat(ctx, userReq("x"))
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 408, se.Status)
	assert.False(t, llm.IsPermanent(err))

	_, err = c.Chat(ctx, userReq("x"))
	require.Error(t, err, "truncated JSON")
	assert.False(t, llm.IsPermanent(err))

	_, err = c.Chat(ctx, userReq("x"))
	require.Error(t, err, "timeout")
	assert.False(t, llm.IsPermanent(err))
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	_, err = c.Chat(ctx, userReq("x"))
	require.ErrorAs(t, err, &se)
	_, ok = llm.RetryAfter(err)
	assert.False(t, ok, "429 without Retry-After")

	_, err = c.Chat(ctx, userReq("x"))
	require.NoError(t, err)
	assert.Equal(t, int64(7), c.Stats().Errors)

	// network error: nothing listens any more
	s.Close()
	_, err = c.Chat(ctx, userReq("x"))
	require.Error(t, err)
	assert.False(t, llm.IsPermanent(err))
}

func TestInvalidRequestIsPermanent(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{})
	defer s.Close()
	c := newClient(t, s, llm.Endpoint{}, llm.Options{})
	_, err := c.Chat(context.Background(), llm.Request{})
	assert.True(t, llm.IsPermanent(err))
	r := userReq("x")
	r.Temperature = -1
	_, err = c.Chat(context.Background(), r)
	assert.True(t, llm.IsPermanent(err))
	assert.Zero(t, s.Requests())
}

func TestMaxConcurrency(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{Latency: 10 * time.Millisecond})
	defer s.Close()
	const limit = 4
	c := newClient(t, s, llm.Endpoint{MaxConcurrency: limit}, llm.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			_, err := c.Chat(context.Background(), userReq(fmt.Sprint("q", i)))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	st := s.Stats()
	assert.Equal(t, 32, st.Chat)
	assert.LessOrEqual(t, st.MaxConcurrent, limit)
	assert.GreaterOrEqual(t, st.MaxConcurrent, 1)
}

// A request's timeout and latency run from when it has its slot: one that
// waited for the slot longer than the timeout still gets its full time.
func TestTimeoutExcludesTheSlotWait(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{Latency: 150 * time.Millisecond})
	defer s.Close()
	c := newClient(t, s, llm.Endpoint{MaxConcurrency: 1}, llm.Options{Timeout: time.Second})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	resps := make([]llm.Response, 8)
	for i := range errs {
		wg.Go(func() { resps[i], errs[i] = c.Chat(context.Background(), userReq(fmt.Sprint("w", i))) })
	}
	wg.Wait()
	for i, err := range errs { // the last waited ~1.05 s for its slot
		require.NoError(t, err)
		// Its latency is the call's (~150 ms), not the wait's.
		assert.Less(t, resps[i].Latency, 600*time.Millisecond, "request %d", i)
	}
	assert.Equal(t, 1, s.Stats().MaxConcurrent)
}

func TestMaxConcurrencyWaitHonoursContext(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{Schedule: map[int]llmtest.Fault{1: {Kind: llmtest.FaultTimeout}}})
	defer s.Close()
	c := newClient(t, s, llm.Endpoint{MaxConcurrency: 1}, llm.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _, _ = c.Chat(ctx, userReq("hangs")) }()
	require.Eventually(t, func() bool { return s.Stats().InFlight == 1 }, 5*time.Second, time.Millisecond)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	_, err := c.Chat(ctx2, userReq("waits"))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	cancel()
}

// fakeClock advances only when someone sleeps on it.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	f.slept = append(f.slept, d)
	return ctx.Err()
}

func TestRequestsPerMinute(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{})
	defer s.Close()
	clk := &fakeClock{now: time.Unix(1_000_000, 0)}
	c := newClient(t, s, llm.Endpoint{RequestsPerMinute: 60}, llm.Options{Clock: clk})
	for i := range 5 {
		_, err := c.Chat(context.Background(), userReq(fmt.Sprint("q", i)))
		require.NoError(t, err)
	}
	// 60/min = 1/s with a one-request bucket: the first call passes, each next waits 1 s
	st := c.Stats()
	assert.Equal(t, int64(4), st.RateLimited)
	assert.InDelta(t, (4 * time.Second).Seconds(), st.RateLimitDelay.Seconds(), 1e-3)
	require.Len(t, clk.slept, 4)
	for _, d := range clk.slept {
		assert.InDelta(t, time.Second.Seconds(), d.Seconds(), 1e-3)
	}
	assert.Equal(t, 5, s.ChatRequests())

	// 600/min: a bucket of 10; 10 calls pass at once, the 11th waits 0.1 s
	clk2 := &fakeClock{now: time.Unix(1_000_000, 0)}
	c2 := newClient(t, s, llm.Endpoint{RequestsPerMinute: 600}, llm.Options{Clock: clk2})
	for i := range 11 {
		_, err := c2.Chat(context.Background(), userReq(fmt.Sprint("q", i)))
		require.NoError(t, err)
	}
	require.Len(t, clk2.slept, 1)
	assert.InDelta(t, 0.1, clk2.slept[0].Seconds(), 1e-3)
}

func TestTokensPerMinute(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{OmitUsage: true, Answerer: func(llmtest.ChatRequest) (string, error) { return "ok", nil }})
	defer s.Close()
	clk := &fakeClock{now: time.Unix(1_000_000, 0)}
	// 60 tokens/min = 1 token/s, bucket of 60. With the word tokenizer a call
	// is estimated at 3 (reply) + 3 + 1 ("user") + 4 words = 11 tokens and
	// really uses 11 + 1 ("ok") = 12: the missing token is charged afterwards.
	c := newClient(t, s, llm.Endpoint{TokensPerMinute: 60}, llm.Options{Clock: clk, Tokenizer: llm.WordTokenizer})
	for range 10 {
		r, err := c.Chat(context.Background(), userReq("a b c d"))
		require.NoError(t, err)
		assert.Equal(t, 11, r.PromptTokens)
		assert.Equal(t, 1, r.CompletionTokens)
	}
	// before the 10th call's reservation 9×12 + 11 = 119 tokens are due: 60
	// from the bucket, 59 from 59 s of refill.
	assert.InDelta(t, 59, c.Stats().RateLimitDelay.Seconds(), 1e-3)

	// an overestimate (max tokens unused) is credited to the next call
	clk2 := &fakeClock{now: time.Unix(1_000_000, 0)}
	c2 := newClient(t, s, llm.Endpoint{TokensPerMinute: 60}, llm.Options{Clock: clk2, Tokenizer: llm.WordTokenizer})
	req := userReq("a b c d")
	req.MaxTokens = 49 // estimate 60: the whole bucket
	_, err := c2.Chat(context.Background(), req)
	require.NoError(t, err)
	// used 12, so 48 are credited: the next call (estimate 60) costs 12 → waits 12 s, not 60 s
	_, err = c2.Chat(context.Background(), req)
	require.NoError(t, err)
	assert.InDelta(t, 12, c2.Stats().RateLimitDelay.Seconds(), 1e-3)
}

func TestRateLimitWaitHonoursContext(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{})
	defer s.Close()
	c := newClient(t, s, llm.Endpoint{RequestsPerMinute: 1}, llm.Options{}) // real clock: 60 s per request
	_, err := c.Chat(context.Background(), userReq("a"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = c.Chat(ctx, userReq("b"))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, llm.IsPermanent(err))
	assert.Equal(t, 1, s.ChatRequests())
}

func TestMissingUsageCountedWithTokenizer(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{OmitUsage: true, Answerer: func(llmtest.ChatRequest) (string, error) { return "hello world", nil }})
	defer s.Close()
	tok, err := llm.DefaultTokenizer()
	require.NoError(t, err)
	c := newClient(t, s, llm.Endpoint{PriceCompletionPer1K: 1000}, llm.Options{Tokenizer: tok})
	r, err := c.Chat(context.Background(), userReq("hello world"))
	require.NoError(t, err)
	assert.Equal(t, 2, r.CompletionTokens) // cl100k: "hello", " world"
	assert.Equal(t, 3+3+1+2, r.PromptTokens)
	assert.InDelta(t, 2.0, r.Cost, 1e-9)
}

func TestTiktoken(t *testing.T) {
	tok, err := llm.NewTiktoken("cl100k_base")
	require.NoError(t, err)
	assert.Equal(t, 2, tok.Count("hello world"))
	assert.Equal(t, 0, tok.Count(""))
	assert.Positive(t, tok.Count("text with <|endoftext|> inside"), "special tokens are ordinary text")
	o, err := llm.NewTiktoken("o200k_base")
	require.NoError(t, err)
	assert.Positive(t, o.Count("Hola, ¿qué tal?"))
	_, err = llm.NewTiktoken("nope")
	assert.Error(t, err)
}

func TestAPIKeyNeverLeaks(t *testing.T) {
	t.Setenv("LLM_TEST_KEY", fakeKey)
	// a server that rejects the key and quotes it back in its message
	s := llmtest.NewServer(llmtest.ServerOptions{APIKey: "another-key"})
	defer s.Close()
	c := newClient(t, s, llm.Endpoint{APIKeyEnv: "LLM_TEST_KEY"}, llm.Options{})
	_, err := c.Chat(context.Background(), userReq("x"))
	require.Error(t, err)
	assert.True(t, llm.IsPermanent(err))
	assert.NotContains(t, err.Error(), fakeKey)
	assert.Contains(t, err.Error(), "[REDACTED]")
	var pe *llm.PermanentError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, http.StatusUnauthorized, pe.Status)
	assert.NotContains(t, pe.Msg, fakeKey)

	for _, s := range []string{c.ID(), c.String(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprint(c.Endpoint())} {
		assert.NotContains(t, s, fakeKey)
	}

	// the right key is sent, and no other error kind leaks it either
	ok := llmtest.NewServer(llmtest.ServerOptions{APIKey: fakeKey, Schedule: map[int]llmtest.Fault{
		1: {Kind: llmtest.FaultHTTP500}, 2: {Kind: llmtest.FaultRateLimit}, 3: {Kind: llmtest.FaultTruncated},
		4: {Kind: llmtest.FaultTimeout}, 5: {Kind: llmtest.FaultStatus, Status: 400},
	}})
	defer ok.Close()
	c = newClient(t, ok, llm.Endpoint{APIKeyEnv: "LLM_TEST_KEY"}, llm.Options{Timeout: 100 * time.Millisecond})
	for range 5 {
		_, err := c.Chat(context.Background(), userReq("x"))
		require.Error(t, err)
		assert.NotContains(t, err.Error(), fakeKey)
	}
	r, err := c.Chat(context.Background(), userReq("x"))
	require.NoError(t, err)
	assert.Equal(t, "x", r.Content)
}

func TestMissingKeyVariable(t *testing.T) {
	t.Setenv("LLM_TEST_UNSET_KEY", "")
	_, err := llm.New(llm.Endpoint{Name: "e", BaseURL: "http://127.0.0.1:1/v1", Model: "m", APIKeyEnv: "LLM_TEST_UNSET_KEY"}, llm.Options{Tokenizer: llm.WordTokenizer})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "LLM_TEST_UNSET_KEY")
	assert.Contains(t, err.Error(), "endpoints.e.api_key_env")
	assert.True(t, inputerr.Is(err))
	assert.True(t, llm.IsPermanent(err))
}

func TestNewValidates(t *testing.T) {
	ok := llm.Endpoint{BaseURL: "http://127.0.0.1:8000/v1", Model: "m"}
	cases := map[string]func(*llm.Endpoint){
		"base_url":            func(e *llm.Endpoint) { e.BaseURL = "" },
		"not a URL":           func(e *llm.Endpoint) { e.BaseURL = "ftp://x" },
		"credentials":         func(e *llm.Endpoint) { e.BaseURL = "http://u:" + fakeKey + "@h/v1" },
		"model":               func(e *llm.Endpoint) { e.Model = "" },
		"max_concurrency":     func(e *llm.Endpoint) { e.MaxConcurrency = -1 },
		"requests_per_minute": func(e *llm.Endpoint) { e.RequestsPerMinute = -1 },
		"tokens_per_minute":   func(e *llm.Endpoint) { e.TokensPerMinute = -1 },
		"price":               func(e *llm.Endpoint) { e.PricePromptPer1K = -1 },
	}
	for name, mut := range cases {
		ep := ok
		mut(&ep)
		_, err := llm.New(ep, llm.Options{Tokenizer: llm.WordTokenizer})
		assert.Error(t, err, name)
		assert.True(t, inputerr.Is(err), name)
		if err != nil {
			assert.NotContains(t, err.Error(), fakeKey, name)
		}
	}
	c, err := llm.New(ok, llm.Options{})
	require.NoError(t, err)
	assert.Equal(t, "m", c.ID())
	ok.Name = "local"
	c, err = llm.New(ok, llm.Options{})
	require.NoError(t, err)
	assert.Equal(t, "local/m", c.ID())
}

func TestEndpointJSON(t *testing.T) {
	var ep llm.Endpoint
	require.NoError(t, json.Unmarshal([]byte(`{"name":"n","base_url":"http://h/v1","api_key_env":"K","model":"m",
		"max_concurrency":16,"requests_per_minute":600,"tokens_per_minute":100000,
		"price_prompt_per_1k":0.5,"price_completion_per_1k":1.5}`), &ep))
	assert.Equal(t, llm.Endpoint{Name: "n", BaseURL: "http://h/v1", APIKeyEnv: "K", Model: "m", MaxConcurrency: 16,
		RequestsPerMinute: 600, TokensPerMinute: 100000, PricePromptPer1K: 0.5, PriceCompletionPer1K: 1.5}, ep)
}

func TestCachePutErrorDoesNotFailTheCall(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{})
	defer s.Close()
	c := newClient(t, s, llm.Endpoint{}, llm.Options{Cache: failingCache{}})
	_, err := c.Chat(context.Background(), userReq("x"))
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Stats().CachePutErrors)
}

type failingCache struct{}

func (failingCache) Get(string) (string, bool) { return "", false }
func (failingCache) Put(string, string) error  { return errors.New("disk full") }

func TestRetryAfterOnPlainErrors(t *testing.T) {
	_, ok := llm.RetryAfter(errors.New("x"))
	assert.False(t, ok)
	assert.False(t, llm.IsPermanent(nil))
	assert.False(t, llm.IsPermanent(errors.New("x")))
	assert.True(t, strings.Contains((&llm.PermanentError{System: "llm a/m", Status: 400, Msg: "bad"}).Error(), "HTTP 400: bad"))
}
