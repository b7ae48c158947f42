package llm_test

import (
	"context"
	"testing"

	"github.com/clirflow/clirflow/internal/llm"
	"github.com/clirflow/clirflow/internal/llmtest"
)

// BenchmarkChatZeroLatency is the client's overhead per call (HTTP round trip
// on loopback, JSON, error mapping, accounting) against the scripted server
// answering at once. No cache, no limits.
func BenchmarkChatZeroLatency(b *testing.B) {
	s := llmtest.NewServer(llmtest.ServerOptions{Answerer: func(llmtest.ChatRequest) (string, error) { return "[2] > [1]", nil }})
	defer s.Close()
	c := newClient(b, s, llm.Endpoint{}, llm.Options{})
	req := userReq("Search Query: q.\nRank the 2 passages above.")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Chat(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChatZeroLatencyParallel is the same with concurrent callers under
// MaxConcurrency 32 and a TokensPerMinute limit high enough never to wait
// (so the token estimate with cl100k is included).
func BenchmarkChatZeroLatencyParallel(b *testing.B) {
	s := llmtest.NewServer(llmtest.ServerOptions{Answerer: func(llmtest.ChatRequest) (string, error) { return "[2] > [1]", nil }})
	defer s.Close()
	tok, err := llm.DefaultTokenizer()
	if err != nil {
		b.Fatal(err)
	}
	c := newClient(b, s, llm.Endpoint{MaxConcurrency: 32, TokensPerMinute: 1 << 30}, llm.Options{Tokenizer: tok})
	req := userReq("Search Query: q.\nRank the 2 passages above.")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := c.Chat(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkChatCacheHit is the cost of an answer served from a MemCache.
func BenchmarkChatCacheHit(b *testing.B) {
	s := llmtest.NewServer(llmtest.ServerOptions{})
	defer s.Close()
	c := newClient(b, s, llm.Endpoint{}, llm.Options{Cache: llm.NewMemCache()})
	req := userReq("cached")
	ctx := context.Background()
	if _, err := c.Chat(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Chat(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
