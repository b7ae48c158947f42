package activities

import (
	"context"
	"encoding/json"
	"errors"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/llm"
)

// LLMActivities call LLM endpoints. They run on their own task queue, so the
// number of calls in flight is set per worker (and per endpoint by the
// client) without starving CPU-bound stages.
type LLMActivities struct {
	Store artifact.Store
	// Clients returns the (shared, rate-limited, cached) client of an endpoint.
	Clients func(config.Endpoint) (*llm.Client, error)
}

// RerankWindow reorders one listwise window of one query.
func (a *LLMActivities) RerankWindow(ctx context.Context, in experiment.WindowInput) (experiment.WindowResult, error) {
	c, err := a.Clients(in.Endpoint)
	if err != nil {
		return experiment.WindowResult{}, classifyLLM(err)
	}
	out, err := experiment.RerankWindow(ctx, a.Store, c, in)
	return out, classifyLLM(err)
}

// RerankPass runs one PRP bubble-sort pass (or a whole allpair sort),
// heartbeating the sort's state after every comparison; a retried attempt
// resumes from the last heartbeat, so no finished comparison is paid twice.
func (a *LLMActivities) RerankPass(ctx context.Context, in experiment.PassInput) (experiment.PassResult, error) {
	c, err := a.Clients(in.Endpoint)
	if err != nil {
		return experiment.PassResult{}, classifyLLM(err)
	}
	var resume json.RawMessage
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &resume); err != nil {
			resume = nil
		}
	}
	out, err := experiment.RerankPass(ctx, a.Store, c, in, resume, func(state json.RawMessage) {
		activity.RecordHeartbeat(ctx, state)
	})
	return out, classifyLLM(err)
}

// classifyLLM: 400/401/403/404 answers and bad input are final; 429 waits as
// long as the server asked; everything else is retried with backoff.
func classifyLLM(err error) error {
	if err == nil {
		return nil
	}
	if llm.IsPermanent(err) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidInput, err)
	}
	if d, ok := llm.RetryAfter(err); ok {
		return temporal.NewApplicationErrorWithOptions(err.Error(), "RateLimited", temporal.ApplicationErrorOptions{NextRetryDelay: d, Cause: err})
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return err
	}
	return classify(err)
}
