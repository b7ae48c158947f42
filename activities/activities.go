// Package activities exposes the experiment stages to Temporal. Each method is a
// thin wrapper over internal/experiment: it adds liveness heartbeats and turns
// bad-input errors into non-retryable ones, so a malformed qrels line fails the
// run at once instead of being retried.
package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/rerank"
	"github.com/clirflow/clirflow/internal/translate"
)

// ErrTypeInvalidInput is the application error type of bad input (configs,
// files); workflows and clients may match on it.
const ErrTypeInvalidInput = "InvalidInput"

// Activities holds the dependencies of the CPU-bound stages.
type Activities struct {
	Store artifact.Store
	// TranslationCache holds every translated sentence (translator + pair +
	// text → translation), shared by all experiments.
	TranslationCache translate.Cache
	// Translators builds translation systems from config.
	Translators experiment.Translators
	// Tokenizer truncates reranker passages.
	Tokenizer rerank.Tokenizer
	// HeartbeatEvery is how often running activities report liveness; a killed
	// worker's activity is retried elsewhere after the heartbeat timeout.
	HeartbeatEvery time.Duration
}

// PrepareDataset validates and normalises one dataset's files.
func (a *Activities) PrepareDataset(ctx context.Context, in experiment.PrepareInput) (experiment.PreparedDataset, error) {
	defer a.beat(ctx)()
	out, err := experiment.PrepareDataset(ctx, a.Store, in)
	return out, classify(err)
}

// BuildBM25Index builds (or reuses) a BM25 index.
func (a *Activities) BuildBM25Index(ctx context.Context, in experiment.IndexInput) (experiment.IndexInfo, error) {
	defer a.beat(ctx)()
	out, err := experiment.BuildIndex(ctx, a.Store, in, func(n int) { activity.RecordHeartbeat(ctx, n) })
	return out, classify(err)
}

// RetrieveBM25 produces a TREC run from a BM25 index.
func (a *Activities) RetrieveBM25(ctx context.Context, in experiment.RetrieveInput) (experiment.RunInfo, error) {
	defer a.beat(ctx)()
	out, err := experiment.Retrieve(ctx, a.Store, in)
	return out, classify(err)
}

// Translate translates a corpus (DT) or topics (QT). Heartbeats carry the
// number of documents done; a retried attempt resumes from the sentence cache.
func (a *Activities) Translate(ctx context.Context, in experiment.TranslateInput) (experiment.TranslationInfo, error) {
	defer a.beat(ctx)()
	out, err := experiment.Translate(ctx, a.Store, a.TranslationCache, a.Translators, in, func(n int) { activity.RecordHeartbeat(ctx, n) })
	return out, classify(err)
}

// ImportRunInput names a user's TREC run file and its config field.
type ImportRunInput struct {
	Path  string `json:"path"`
	Field string `json:"field"`
}

// ImportRun validates and stores a TREC run produced elsewhere.
func (a *Activities) ImportRun(ctx context.Context, in ImportRunInput) (experiment.RunInfo, error) {
	defer a.beat(ctx)()
	out, err := experiment.ImportRun(ctx, a.Store, in.Path, in.Field)
	return out, classify(err)
}

// Evaluate scores a run against qrels.
func (a *Activities) Evaluate(ctx context.Context, in experiment.EvalInput) (experiment.EvalInfo, error) {
	defer a.beat(ctx)()
	out, err := experiment.Evaluate(ctx, a.Store, in)
	return out, classify(err)
}

// WriteReport exports results to the experiment's output directory.
func (a *Activities) WriteReport(ctx context.Context, in experiment.ReportInput) (experiment.ReportInfo, error) {
	defer a.beat(ctx)()
	out, err := experiment.WriteReport(ctx, a.Store, in)
	return out, classify(err)
}

// beat heartbeats in the background until the returned stop is called.
func (a *Activities) beat(ctx context.Context) func() {
	every := a.HeartbeatEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

// classify marks errors that a retry cannot fix as non-retryable.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if inputerr.Is(err) || translate.IsPermanent(err) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidInput, err)
	}
	// A server that asked for a pause (HTTP 429 Retry-After) gets it.
	if d, ok := translate.RetryAfter(err); ok {
		return temporal.NewApplicationErrorWithOptions(err.Error(), "RateLimited", temporal.ApplicationErrorOptions{NextRetryDelay: d, Cause: err})
	}
	return err
}

// PrepareCandidates renders the top candidates of a run for a reranker.
func (a *Activities) PrepareCandidates(ctx context.Context, in experiment.CandidatesInput) (experiment.CandidatesInfo, error) {
	defer a.beat(ctx)()
	out, err := experiment.PrepareCandidates(ctx, a.Store, a.Tokenizer, in)
	return out, classify(err)
}

// SaveRuns stores one dataset's run results for the report (by reference).
func (a *Activities) SaveRuns(ctx context.Context, runs []experiment.RunResult) (artifact.Ref, error) {
	out, err := experiment.SaveRuns(ctx, a.Store, runs)
	return out, classify(err)
}

// SaveRanking stores a query's reranked order.
func (a *Activities) SaveRanking(ctx context.Context, in experiment.QueryRanking) (artifact.Ref, error) {
	out, err := experiment.SaveRanking(ctx, a.Store, in)
	return out, classify(err)
}

// AssembleRun writes a reranked run from every query's order.
func (a *Activities) AssembleRun(ctx context.Context, in experiment.AssembleInput) (experiment.AssembledRun, error) {
	defer a.beat(ctx)()
	out, err := experiment.AssembleRun(ctx, a.Store, in)
	return out, classify(err)
}

// AssembleAndEvaluate assembles a reranked run and evaluates it: the end
// of RerankRun, as a local activity of its workflow.
func (a *Activities) AssembleAndEvaluate(ctx context.Context, in experiment.FinishInput) (experiment.FinishedRun, error) {
	defer a.beat(ctx)()
	out, err := experiment.AssembleAndEvaluate(ctx, a.Store, in)
	return out, classify(err)
}
