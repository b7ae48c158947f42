package platform

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/llm"
	"github.com/clirflow/clirflow/internal/llmtest"
)

func TestLLMCallsAreTracedWithTokensAndCacheHits(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	srv := llmtest.NewServer(llmtest.ServerOptions{})
	defer srv.Close()
	clients := NewLLMClients(llm.NewMemCache(), nil)
	c, err := clients(config.Endpoint{Name: "stub", BaseURL: srv.URL(), Model: "llmtest"})
	require.NoError(t, err)
	again, err := clients(config.Endpoint{Name: "stub", BaseURL: srv.URL(), Model: "llmtest"})
	require.NoError(t, err)
	require.Equal(t, c, again, "one client per endpoint, so its limits hold across activities")

	req := llm.Request{Messages: []llm.Message{{Role: "user", Content: "hello there"}}}
	for i := 0; i < 2; i++ {
		_, err := c.Chat(context.Background(), req)
		require.NoError(t, err)
	}
	spans := rec.Ended()
	require.Len(t, spans, 2)
	attrs := func(i int) map[string]any {
		m := map[string]any{}
		for _, kv := range spans[i].Attributes() {
			m[string(kv.Key)] = kv.Value.AsInterface()
		}
		return m
	}
	require.Equal(t, "llm.chat", spans[0].Name())
	require.Equal(t, "llmtest", attrs(0)["llm.model"])
	require.Equal(t, false, attrs(0)["llm.cache_hit"])
	require.Positive(t, attrs(0)["llm.prompt_tokens"])
	require.Equal(t, true, attrs(1)["llm.cache_hit"])
	require.Equal(t, 1, srv.ChatRequests())
}
