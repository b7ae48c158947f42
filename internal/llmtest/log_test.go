package llmtest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/llmtest"
)

// The log times every request and names its prompt, so the attempts of one
// request (retries) can be found and their spacing measured.
func TestLogTimesAndPromptHashes(t *testing.T) {
	s := llmtest.NewServer(llmtest.ServerOptions{
		Latency:  20 * time.Millisecond,
		Schedule: map[int]llmtest.Fault{1: {Kind: llmtest.FaultRateLimit}, 4: {Kind: llmtest.FaultTimeout}},
	})
	defer s.Close()
	a := []llmtest.Message{{Role: "user", Content: "a"}}
	b := []llmtest.Message{{Role: "user", Content: "b"}}
	before := time.Now()
	status, _ := chat(t, s, a)
	require.Equal(t, http.StatusTooManyRequests, status)
	status, _ = chat(t, s, a)
	require.Equal(t, http.StatusOK, status)
	status, _ = chat(t, s, b)
	require.Equal(t, http.StatusOK, status)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"a"}]}`))
	_, err := http.DefaultClient.Do(req)
	require.Error(t, err)
	status, _, _ = post(t, s.URL()+"/embeddings", map[string]any{"model": "m", "input": "x"})
	require.Equal(t, http.StatusOK, status)
	require.Eventually(t, func() bool { return len(s.Log()) == 5 }, 5*time.Second, 5*time.Millisecond)

	log := s.Log()
	require.Len(t, log[0].PromptHash, 64)
	assert.Equal(t, log[0].PromptHash, log[1].PromptHash, "a retry has the same prompt hash")
	assert.NotEqual(t, log[0].PromptHash, log[2].PromptHash)
	assert.Equal(t, log[0].PromptHash, log[3].PromptHash, "the same model and messages")
	assert.Empty(t, log[4].PromptHash, "not a chat request")
	for i, e := range log {
		assert.False(t, e.Start.Before(before), i)
		if i > 0 {
			assert.False(t, e.Start.Before(log[i-1].Start), "requests were sequential")
		}
	}
	for _, i := range []int{0, 1, 2, 4} {
		assert.GreaterOrEqual(t, log[i].Answered.Sub(log[i].Start), 20*time.Millisecond, "answered after the latency")
	}
	assert.True(t, log[3].Answered.IsZero(), "a hanging request is never answered")
	assert.False(t, log[1].Start.Before(log[0].Answered), "the retry came after the 429")
}
