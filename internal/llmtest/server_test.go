package llmtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/llmtest"
)

// rankGPT builds a RankGPT conversation as rank_llm does.
func rankGPT(query string, passages []string) []llmtest.Message {
	n := len(passages)
	msgs := []llmtest.Message{
		{Role: "system", Content: "You are RankGPT, an intelligent assistant that can rank passages based on their relevancy to the query."},
		{Role: "user", Content: fmt.Sprintf("I will provide you with %d passages, each indicated by number identifier []. \nRank the passages based on their relevance to query: %s.", n, query)},
		{Role: "assistant", Content: "Okay, please provide the passages."},
	}
	for i, p := range passages {
		msgs = append(msgs,
			llmtest.Message{Role: "user", Content: fmt.Sprintf("[%d] %s", i+1, p)},
			llmtest.Message{Role: "assistant", Content: fmt.Sprintf("Received passage [%d].", i+1)})
	}
	msgs = append(msgs, llmtest.Message{Role: "user", Content: fmt.Sprintf("Search Query: %s. \nRank the %d passages above based on their relevance to the search query. The passages should be listed in descending order using identifiers. The most relevant passages should be listed first. The output format should be [] > [], e.g., [1] > [2]. Only response the ranking results, do not say any word or explain.", query, n)})
	return msgs
}

// rankZephyr builds a RankZephyr single-message prompt as rank_llm does.
func rankZephyr(query string, passages []string) []llmtest.Message {
	n := len(passages)
	var b strings.Builder
	fmt.Fprintf(&b, "I will provide you with %d passages, each indicated by a numerical identifier []. Rank the passages based on their relevance to the search query: %s.\n", n, query)
	for i, p := range passages {
		fmt.Fprintf(&b, "[%d] %s\n", i+1, p)
	}
	fmt.Fprintf(&b, "Search Query: %s.\nRank the %d passages above based on their relevance to the search query. All the passages should be included and listed using identifiers, in descending order of relevance. The output format should be [] > [], e.g., [4] > [2]. Only respond with the ranking results, do not say any word or explain.", query, n)
	return []llmtest.Message{
		{Role: "system", Content: "You are RankLLM, an intelligent assistant that can rank passages based on their relevancy to the query."},
		{Role: "user", Content: b.String()},
	}
}

func pairPrompt(q, a, b string) string {
	return fmt.Sprintf("Given a query \"%s\", which of the following two passages is more relevant to the query?\n\nPassage A: \"%s\"\n\nPassage B: \"%s\"\n\nOutput Passage A or Passage B:", q, a, b)
}

type chatOut struct {
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

func post(t *testing.T, url string, body any) (int, http.Header, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, out
}

func chat(t *testing.T, s *llmtest.Server, msgs []llmtest.Message) (int, string) {
	t.Helper()
	status, _, body := post(t, s.URL()+"/chat/completions", map[string]any{"model": "m", "messages": msgs})
	if status != http.StatusOK {
		return status, string(body)
	}
	var out chatOut
	require.NoError(t, json.Unmarshal(body, &out), string(body))
	require.Len(t, out.Choices, 1)
	return status, out.Choices[0].Message.Content
}

var relTable = map[string]float64{
	"Title: Cats Content: cats purr": 3,
	"dogs bark":                      1,
	"fish swim":                      0,
	"cats and dogs":                  2,
	"more dogs":                      1, // ties with "dogs bark": keeps the prompt order
}

func TestListwiseByRelevance(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{Answerer: llmtest.ListwiseByRelevance(llmtest.TableRelevance(relTable))})
	defer s.Close()
	passages := []string{"fish swim", "dogs bark", "Title: Cats Content: cats purr", "more dogs", "cats and dogs"}
	for name, msgs := range map[string][]llmtest.Message{"rankgpt": rankGPT("what do cats do", passages), "rankzephyr": rankZephyr("what do cats do", passages)} {
		t.Run(name, func(t *testing.T) {
			status, ans := chat(t, s, msgs)
			require.Equal(t, http.StatusOK, status, ans)
			assert.Equal(t, "[3] > [5] > [2] > [4] > [1]", ans)
		})
	}
}

func TestParseListwisePrompt(t *testing.T) {
	for name, msgs := range map[string][]llmtest.Message{
		"rankgpt":    rankGPT("q. with dot.", []string{"a\nsecond line", "b"}),
		"rankzephyr": rankZephyr("q. with dot.", []string{"a\nsecond line", "b"}),
	} {
		t.Run(name, func(t *testing.T) {
			q, ps, err := llmtest.ParseListwisePrompt(msgs)
			require.NoError(t, err)
			assert.Equal(t, "q. with dot.", q)
			assert.Equal(t, []llmtest.Passage{{ID: 1, Text: "a\nsecond line"}, {ID: 2, Text: "b"}}, ps)
		})
	}
	_, _, err := llmtest.ParseListwisePrompt([]llmtest.Message{{Role: "user", Content: "hello"}})
	assert.Error(t, err)
}

func TestListwiseUnparsableIs400(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{Answerer: llmtest.ListwiseByRelevance(llmtest.TableRelevance(relTable))})
	defer s.Close()
	status, body := chat(t, s, []llmtest.Message{{Role: "user", Content: "hi"}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "Search Query")
}

func TestPairwiseBothOrders(t *testing.T) {
	rel := llmtest.TableRelevance(map[string]float64{"good doc": 2, "bad doc": 1})
	s := llmtest.NewServer(llmtest.ServerOptions{Answerer: llmtest.PairwiseByRelevance(rel)})
	defer s.Close()
	_, ans := chat(t, s, []llmtest.Message{{Role: "user", Content: pairPrompt("q", "good doc", "bad doc")}})
	assert.Equal(t, "Passage A", ans)
	_, ans = chat(t, s, []llmtest.Message{{Role: "user", Content: pairPrompt("q", "bad doc", "good doc")}})
	assert.Equal(t, "Passage B", ans)

	q, a, b, ok := llmtest.ParsePairwisePrompt(pairPrompt(`say "x"`, `a "quoted"`, "b\n\nmore"))
	require.True(t, ok)
	assert.Equal(t, []string{`say "x"`, `a "quoted"`, "b\n\nmore"}, []string{q, a, b})

	// a model with a strong first-position bias answers A in both orders
	biased := llmtest.NewServer(llmtest.ServerOptions{Answerer: llmtest.PairwiseWithPositionBias(rel, 5)})
	defer biased.Close()
	_, ans = chat(t, biased, []llmtest.Message{{Role: "user", Content: pairPrompt("q", "bad doc", "good doc")}})
	assert.Equal(t, "Passage A", ans)
	_, ans = chat(t, biased, []llmtest.Message{{Role: "user", Content: pairPrompt("q", "good doc", "bad doc")}})
	assert.Equal(t, "Passage A", ans)

	status, _ := chat(t, s, []llmtest.Message{{Role: "user", Content: "not a prompt"}})
	assert.Equal(t, http.StatusBadRequest, status)
}

func TestAnswerFaults(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{
		Answerer: func(llmtest.ChatRequest) (string, error) { return "[3] > [1] > [2] > [4]", nil },
		Schedule: map[int]llmtest.Fault{
			1: {Kind: llmtest.FaultMalformed},
			2: {Kind: llmtest.FaultDuplicate},
			3: {Kind: llmtest.FaultMissing},
			4: {Kind: llmtest.FaultOutOfRange},
			5: {Kind: llmtest.FaultThink},
		},
	})
	defer s.Close()
	var got []string
	for range 6 {
		_, ans := chat(t, s, []llmtest.Message{{Role: "user", Content: "x"}})
		got = append(got, ans)
	}
	assert.NotRegexp(t, `\d`, got[0])
	assert.Equal(t, "[3] > [1] > [3] > [2] > [4]", got[1])
	assert.Equal(t, "[3] > [1] > [4]", got[2])
	assert.Equal(t, "[3] > [5] > [1] > [2] > [4]", got[3])
	assert.True(t, strings.HasPrefix(got[4], "<think>"))
	assert.True(t, strings.HasSuffix(got[4], "</think>\n\n[3] > [1] > [2] > [4]"))
	assert.Equal(t, "[3] > [1] > [2] > [4]", got[5])
	st := s.Stats()
	for _, k := range []llmtest.FaultKind{llmtest.FaultMalformed, llmtest.FaultDuplicate, llmtest.FaultMissing, llmtest.FaultOutOfRange, llmtest.FaultThink} {
		assert.Equal(t, 1, st.Faults[k], k)
	}

	// id faults do not apply to answers without ids
	p := llmtest.NewServer(llmtest.ServerOptions{Schedule: map[int]llmtest.Fault{1: {Kind: llmtest.FaultDuplicate}}})
	defer p.Close()
	_, ans := chat(t, p, []llmtest.Message{{Role: "user", Content: "Passage A"}})
	assert.Equal(t, "Passage A", ans)
	assert.Empty(t, p.Stats().Faults)
}

func TestHTTPFaults(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{Schedule: map[int]llmtest.Fault{
		1: {Kind: llmtest.FaultHTTP500},
		2: {Kind: llmtest.FaultRateLimit, RetryAfter: 7 * time.Second},
		3: {Kind: llmtest.FaultStatus, Status: 400, Message: "context length exceeded"},
		4: {Kind: llmtest.FaultTruncated},
		5: {Kind: llmtest.FaultRateLimit, RetryAfter: -1},
	}})
	defer s.Close()
	body := map[string]any{"model": "m", "messages": []llmtest.Message{{Role: "user", Content: "hello there"}}}
	url := s.URL() + "/chat/completions"

	status, _, b := post(t, url, body)
	assert.Equal(t, 500, status)
	assert.Contains(t, string(b), "injected")
	status, h, _ := post(t, url, body)
	assert.Equal(t, 429, status)
	assert.Equal(t, "7", h.Get("Retry-After"))
	status, _, b = post(t, url, body)
	assert.Equal(t, 400, status)
	assert.Contains(t, string(b), "context length exceeded")
	status, _, b = post(t, url, body)
	assert.Equal(t, 200, status)
	assert.Error(t, json.Unmarshal(b, new(any)), "truncated body must not parse")
	status, h, _ = post(t, url, body)
	assert.Equal(t, 429, status)
	assert.Empty(t, h.Get("Retry-After"))
	status, _, b = post(t, url, body)
	require.Equal(t, 200, status)
	var out chatOut
	require.NoError(t, json.Unmarshal(b, &out))
	assert.Equal(t, "hello there", out.Choices[0].Message.Content)
	require.NotNil(t, out.Usage)
	assert.Equal(t, 2, out.Usage.PromptTokens)
	assert.Equal(t, 2, out.Usage.CompletionTokens)

	st := s.Stats()
	assert.Equal(t, 6, st.Requests)
	assert.Equal(t, map[int]int{200: 2, 400: 1, 429: 2, 500: 1}, st.ByStatus)
	assert.Equal(t, 2, st.Faults[llmtest.FaultRateLimit])
	log := s.Log()
	require.Len(t, log, 6)
	assert.Equal(t, llmtest.FaultTruncated, log[3].Fault)
	assert.Equal(t, "m", log[5].Model)
}

func TestTimeoutFaultHangsUntilClientGivesUp(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{Schedule: map[int]llmtest.Fault{1: {Kind: llmtest.FaultTimeout}}})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
	_, err := http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Eventually(t, func() bool { return len(s.Log()) == 1 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, 0, s.Log()[0].Status)
	assert.Equal(t, llmtest.FaultTimeout, s.Log()[0].Fault)
}

func TestCloseReleasesHangingRequests(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{FaultRate: 1, Faults: []llmtest.Fault{{Kind: llmtest.FaultTimeout}}})
	go func() {
		_, _ = http.Post(s.URL()+"/chat/completions", "application/json", strings.NewReader(`{}`))
	}()
	require.Eventually(t, func() bool { return s.Stats().InFlight == 1 }, 5*time.Second, time.Millisecond)
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a hanging request")
	}
}

func faultSequence(t *testing.T, seed int64, parallel bool) []llmtest.FaultKind {
	s := llmtest.NewServer(llmtest.ServerOptions{
		FaultRate: 0.5, Seed: seed,
		Faults:   []llmtest.Fault{{Kind: llmtest.FaultHTTP500}, {Kind: llmtest.FaultRateLimit}, {Kind: llmtest.FaultMalformed}},
		Answerer: func(llmtest.ChatRequest) (string, error) { return "[1] > [2]", nil },
	})
	defer s.Close()
	body := map[string]any{"model": "m", "messages": []llmtest.Message{{Role: "user", Content: "x"}}}
	var wg sync.WaitGroup
	for range 40 {
		if parallel {
			wg.Go(func() { post(t, s.URL()+"/chat/completions", body) })
		} else {
			post(t, s.URL()+"/chat/completions", body)
		}
	}
	wg.Wait()
	var out []llmtest.FaultKind
	for _, e := range s.Log() {
		out = append(out, e.Fault)
	}
	return out
}

func TestFaultScheduleReproducible(t *testing.T) {
	a := faultSequence(t, 42, false)
	b := faultSequence(t, 42, true) // same faults per request number, whatever the interleaving
	c := faultSequence(t, 43, false)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	n := 0
	for _, f := range a {
		if f != llmtest.FaultNone {
			n++
		}
	}
	assert.Greater(t, n, 5)
	assert.Less(t, n, 35)
}

func TestMaxConcurrentAndLatency(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{Latency: 50 * time.Millisecond})
	defer s.Close()
	body := map[string]any{"model": "m", "messages": []llmtest.Message{{Role: "user", Content: "x"}}}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { post(t, s.URL()+"/chat/completions", body) })
	}
	wg.Wait()
	st := s.Stats()
	assert.GreaterOrEqual(t, st.MaxConcurrent, 2) // 4 requests sleeping 50 ms overlap
	assert.LessOrEqual(t, st.MaxConcurrent, 4)
	for _, e := range s.Log() {
		assert.GreaterOrEqual(t, e.Latency, 50*time.Millisecond)
	}
}

func TestEmbeddingsAndModels(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{Models: []string{"a", "b"}})
	defer s.Close()
	type embOut struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
	}
	status, _, b := post(t, s.URL()+"/embeddings", map[string]any{"model": "e", "input": []string{"hello world", "other"}})
	require.Equal(t, 200, status, string(b))
	var out embOut
	require.NoError(t, json.Unmarshal(b, &out))
	require.Len(t, out.Data, 2)
	for _, d := range out.Data {
		require.Len(t, d.Embedding, 8)
		var n float64
		for _, x := range d.Embedding {
			n += x * x
		}
		assert.InDelta(t, 1, math.Sqrt(n), 1e-5)
	}
	assert.NotEqual(t, out.Data[0].Embedding, out.Data[1].Embedding)
	_, _, b2 := post(t, s.URL()+"/embeddings", map[string]any{"model": "e", "input": "hello world", "dimensions": 4})
	var out2 embOut
	require.NoError(t, json.Unmarshal(b2, &out2))
	require.Len(t, out2.Data[0].Embedding, 4)
	want := llmtest.Embedding("e", "hello world", 8)
	for i := range want {
		assert.InDelta(t, want[i], out.Data[0].Embedding[i], 1e-6)
	}

	resp, err := http.Get(s.URL() + "/models")
	require.NoError(t, err)
	defer resp.Body.Close()
	var models struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&models))
	require.Len(t, models.Data, 2)
	assert.Equal(t, "b", models.Data[1].ID)
	st := s.Stats()
	assert.Equal(t, 2, st.Embeddings)
	assert.Equal(t, 1, st.Models)
}

func TestAPIKeyRequired(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{APIKey: "right"})
	defer s.Close()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
	req.Header.Set("Authorization", "Bearer wrong")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode)
	assert.Contains(t, string(b), "wrong")
}

func TestAnswererHTTPError(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{Answerer: func(r llmtest.ChatRequest) (string, error) {
		if r.N == 1 {
			return "", &llmtest.HTTPError{Status: 503, Message: "overloaded", RetryAfter: 2 * time.Second}
		}
		return "", fmt.Errorf("boom")
	}})
	defer s.Close()
	body := map[string]any{"model": "m", "messages": []llmtest.Message{{Role: "user", Content: "x"}}}
	status, h, _ := post(t, s.URL()+"/chat/completions", body)
	assert.Equal(t, 503, status)
	assert.Equal(t, "2", h.Get("Retry-After"))
	status, _, b := post(t, s.URL()+"/chat/completions", body)
	assert.Equal(t, 500, status)
	assert.Contains(t, string(b), "boom")
}
