package activities

import (
	"context"
	"encoding/json"
	"strconv"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/embed"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/vector"
)

// DenseDeps are what dense retrieval needs on the LLM worker: embedding
// clients (shared per endpoint and input format, so the endpoint's limits
// hold across activities) and vector stores.
type DenseDeps struct {
	Encoders     func(config.Endpoint, embed.Format) (experiment.Encoder, error)
	VectorStores func(config.VectorStore) (vector.VectorStore, error)
}

func (a *LLMActivities) dense(ep config.Endpoint, f embed.Format, vs config.VectorStore) (experiment.Encoder, vector.VectorStore, error) {
	em, err := a.Dense.Encoders(ep, f)
	if err != nil {
		return nil, nil, err
	}
	store, err := a.Dense.VectorStores(vs)
	return em, store, err
}

// BuildDenseIndex embeds a corpus into a collection. It heartbeats the
// number of documents upserted after every batch; a retried attempt resumes
// after them (the embedding cache makes any overlap free).
func (a *LLMActivities) BuildDenseIndex(ctx context.Context, in experiment.DenseIndexInput) (experiment.DenseIndexInfo, error) {
	em, vs, err := a.dense(in.Endpoint, in.Encoder.Format, in.Store)
	if err != nil {
		return experiment.DenseIndexInfo{}, classifyDense(err)
	}
	resume := 0
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &resume); err != nil {
			resume = 0
		}
	}
	hb := newBeat(ctx, nil)
	defer hb.stop()
	out, err := experiment.BuildDenseIndex(ctx, a.Store, vs, em, in, resume, func(done int) {
		hb.checkpoint(jsonInt(done))
	})
	return out, classifyDense(err)
}

// RetrieveDense embeds the topics and searches the collection.
func (a *LLMActivities) RetrieveDense(ctx context.Context, in experiment.DenseRetrieveInput) (experiment.DenseRun, error) {
	em, vs, err := a.dense(in.Endpoint, in.Encoder.Format, in.Store)
	if err != nil {
		return experiment.DenseRun{}, classifyDense(err)
	}
	defer newBeat(ctx, nil).stop()
	out, err := experiment.RetrieveDense(ctx, a.Store, vs, em, in)
	return out, classifyDense(err)
}

// Fuse writes a hybrid run from the runs of other first stages.
func (a *Activities) Fuse(ctx context.Context, in experiment.FuseInput) (experiment.RunInfo, error) {
	out, err := experiment.Fuse(ctx, a.Store, in)
	return out, classify(err)
}

// classifyDense: bad vectors, a missing collection or an unfinished load
// cannot be fixed by retrying; an unreachable store or endpoint can.
func classifyDense(err error) error {
	if err != nil && vector.IsPermanent(err) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidInput, err)
	}
	return classifyLLM(err)
}

func jsonInt(n int) json.RawMessage { return strconv.AppendInt(nil, int64(n), 10) }
