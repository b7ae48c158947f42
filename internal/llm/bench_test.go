package llm_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// BenchmarkChatPipeline is the floor of the reranking benchmark's efficiency
// ratio without Temporal: 1,202 calls of listwise-sized prompts (20 passages,
// ~15 KB) from 64 callers through a gate of 32 against the scripted server
// answering 100 ms after each request arrives; efficiency-ratio is the wall
// time ÷ (calls × 100 ms ÷ 32). 38 rounds of 32 for 1,202 calls make 1.012
// the least possible.
func BenchmarkChatPipeline(b *testing.B) {
	const calls, latency, slots = 1202, 100 * time.Millisecond, 32
	s := llmtest.NewServer(llmtest.ServerOptions{Latency: latency,
		Answerer: func(llmtest.ChatRequest) (string, error) { return "[2] > [1] > [3]", nil }})
	defer s.Close()
	c := newClient(b, s, llm.Endpoint{}, llm.Options{Gate: llm.NewGate(slots)})
	passage := strings.Repeat("texto de la descripción del paquete ", 20)
	var wall time.Duration
	for i := 0; b.Loop(); i++ {
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range 2 * slots {
			wg.Go(func() {
				for {
					n := next.Add(1)
					if n > calls {
						return
					}
					var p strings.Builder
					for j := range 20 {
						fmt.Fprintf(&p, "[%d] %s (%d.%d)\n", j+1, passage, i, n)
					}
					if _, err := c.Chat(context.Background(), userReq(p.String())); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		wall += time.Since(start)
	}
	ideal := time.Duration(calls) * latency / slots
	b.ReportMetric(float64(wall)/float64(b.N)/float64(ideal), "efficiency-ratio")
}
