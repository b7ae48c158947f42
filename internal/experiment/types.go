// Package experiment holds the stages of an experiment as plain Go functions over
// the artifact store: prepare a dataset, build a BM25 index, retrieve, evaluate,
// report. Activities are thin wrappers around them, and tests can run the whole
// pipeline without a Temporal server. Every stage is memoised by a key over its
// inputs and settings, so re-running an experiment costs only lookups.
package experiment

import (
	"context"

	"github.com/clirflow/clirflow/internal/artifact"
)

// Code versions of the stages: part of every memo key, bumped when a stage's
// output for the same inputs would change.
const (
	prepareVersion  = "prepare-v1"
	indexVersion    = "bm25-index-v1"
	retrieveVersion = "bm25-retrieve-v1"
	importVersion   = "run-import-v1"
	evalVersion     = "eval-v1"
)

// PreparedDataset references a dataset normalised into the store: corpus as
// JSON lines of {id,title,text}, topics as JSON lines of {id,query}, qrels as
// sorted TREC qrels text.
type PreparedDataset struct {
	Name      string       `json:"name"`
	Corpus    artifact.Ref `json:"corpus"`
	Topics    artifact.Ref `json:"topics"`
	Qrels     artifact.Ref `json:"qrels"`
	NumDocs   int          `json:"num_docs"`
	NumTopics int          `json:"num_topics"`
	// NumJudged is the number of qrels queries; NumRelevant the (query, doc)
	// pairs with relevance ≥ 1.
	NumJudged   int      `json:"num_judged"`
	NumRelevant int      `json:"num_relevant"`
	Warnings    []string `json:"warnings,omitempty"`
	Cached      bool     `json:"cached"`
}

// IndexInfo references a BM25 index.
type IndexInfo struct {
	Ref      artifact.Ref `json:"ref"`
	Language string       `json:"language"`
	NumDocs  int          `json:"num_docs"`
	AvgDL    float64      `json:"avg_dl"`
	Cached   bool         `json:"cached"`
}

// RunInfo references a TREC run file in the store.
type RunInfo struct {
	Ref        artifact.Ref `json:"ref"`
	NumQueries int          `json:"num_queries"`
	// EmptyQueries lists topics that retrieved nothing (e.g. every term is a stop word).
	EmptyQueries int  `json:"empty_queries"`
	Cached       bool `json:"cached"`
}

// MetricValue is one aggregate measure. A slice of these (not a map) keeps
// workflow results deterministic.
type MetricValue struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// EvalInfo is the outcome of evaluating one run: aggregates inline, per-query
// values (trec_eval -q output) in the store.
type EvalInfo struct {
	PerQuery   artifact.Ref  `json:"per_query"`
	Summary    []MetricValue `json:"summary"`
	NumQueries int           `json:"num_queries"`
	Cached     bool          `json:"cached"`
}

// lookup returns the memoised result of a stage when there is one and every
// artifact it refers to still exists; otherwise the stage must run.
func lookup[T any](ctx context.Context, s artifact.Store, key artifact.Key, refs func(T) []artifact.Ref) (T, bool, error) {
	var out T
	ok, err := s.GetMemo(ctx, key, &out)
	if err != nil || !ok {
		var zero T
		return zero, false, err
	}
	if !artifact.AllExist(ctx, s, refs(out)...) {
		var zero T
		return zero, false, nil
	}
	return out, true, nil
}
