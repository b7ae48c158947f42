package platform

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/llm"
)

// tracedChatter puts every LLM call in a span (a child of the activity's span
// from the Temporal tracing interceptor) carrying model, tokens, latency and
// whether the answer came from the cache.
type tracedChatter struct{ c *llm.Client }

// Traced wraps an LLM client with OpenTelemetry spans.
func Traced(c *llm.Client) experiment.Chatter { return tracedChatter{c} }

func (t tracedChatter) ID() string { return t.c.ID() }

func (t tracedChatter) Chat(ctx context.Context, req llm.Request) (llm.Response, error) {
	ctx, span := otel.Tracer("clirflow").Start(ctx, "llm.chat")
	defer span.End()
	resp, err := t.c.Chat(ctx, req)
	ep := t.c.Endpoint()
	span.SetAttributes(
		attribute.String("llm.endpoint", ep.Name),
		attribute.String("llm.model", ep.Model),
		attribute.Int("llm.messages", len(req.Messages)),
		attribute.Int("llm.prompt_tokens", resp.PromptTokens),
		attribute.Int("llm.completion_tokens", resp.CompletionTokens),
		attribute.Int64("llm.latency_ms", resp.Latency.Milliseconds()),
		attribute.Bool("llm.cache_hit", resp.CacheHit),
		attribute.Float64("llm.cost", resp.Cost),
	)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return resp, err
}
