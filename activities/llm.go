package activities

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

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
	// Clients returns the (shared, rate-limited, cached, traced) client of an endpoint.
	Clients func(config.Endpoint) (experiment.Chatter, error)
	// Dense serves the dense first stages (embeddings, vector stores).
	Dense DenseDeps
}

// RerankWindow reorders one listwise window of one query.
func (a *LLMActivities) RerankWindow(ctx context.Context, in experiment.WindowInput) (experiment.WindowResult, error) {
	c, err := a.Clients(in.Endpoint)
	if err != nil {
		return experiment.WindowResult{}, classifyLLM(err)
	}
	// A local activity cannot heartbeat (it is the workflow task that does).
	if !activity.GetInfo(ctx).IsLocalActivity {
		defer newBeat(ctx, nil).stop()
	}
	out, err := experiment.RerankWindow(ctx, a.Store, c, in)
	return out, classifyLLM(err)
}

// SaveRanking stores a query's final order; it is RerankQuery's last local
// activity on the LLM worker (Activities.SaveRanking is the same step for
// workflows recorded before windows became local activities).
func (a *LLMActivities) SaveRanking(ctx context.Context, in experiment.QueryRanking) (artifact.Ref, error) {
	out, err := experiment.SaveRanking(ctx, a.Store, in)
	return out, classify(err)
}

// SaveQuery writes a query's final order and its windows' audit records
// (one artifact, experiment.SavedQuery): the last local activity of each query of a RerankQueries
// group, whose windows ran with AuditLater.
func (a *LLMActivities) SaveQuery(ctx context.Context, in experiment.SaveQueryInput) (artifact.Ref, error) {
	c, err := a.Clients(in.Endpoint)
	if err != nil {
		return "", classifyLLM(err)
	}
	out, err := experiment.SaveQuery(ctx, a.Store, c.ID(), in)
	return out, classify(err)
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
	hb := newBeat(ctx, resume)
	defer hb.stop()
	out, err := experiment.RerankPass(ctx, a.Store, c, in, resume, hb.checkpoint)
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

// beat heartbeats every few seconds while an LLM call runs (so a killed
// worker is noticed within the heartbeat timeout, however slow the model),
// always repeating the latest checkpoint so that it is never overwritten.
type beat struct {
	mu    sync.Mutex
	ctx   context.Context
	state json.RawMessage
	done  chan struct{}
}

func newBeat(ctx context.Context, state json.RawMessage) *beat {
	b := &beat{ctx: ctx, state: state, done: make(chan struct{})}
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-b.done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				b.mu.Lock()
				b.send()
				b.mu.Unlock()
			}
		}
	}()
	return b
}

func (b *beat) send() {
	if b.state != nil {
		activity.RecordHeartbeat(b.ctx, b.state)
	} else {
		activity.RecordHeartbeat(b.ctx)
	}
}

func (b *beat) checkpoint(state json.RawMessage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state = state
	b.send()
}

func (b *beat) stop() { close(b.done) }
