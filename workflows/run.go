package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/clirflow/clirflow/activities"
	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/fusion"
)

// RunInput is one first stage on one dataset. Its own workflow keeps the
// parent's history short and gives each run its own auditable history; later
// stages of a run (reranking per query) hang below it.
type RunInput struct {
	Dataset    experiment.PreparedDataset `json:"dataset"`
	Stage      config.FirstStage          `json:"stage"`
	StageField string                     `json:"stage_field"`
	Index      experiment.IndexInfo       `json:"index"`
	// Topics replaces the dataset's topics (translated queries, QT).
	Topics   artifact.Ref `json:"topics,omitempty"`
	Metrics  []string     `json:"metrics"`
	Complete bool         `json:"complete"`
	// Dense stages: the collection, and how to embed the topics.
	Dense      experiment.DenseIndexInfo  `json:"dense,omitzero"`
	DenseIndex experiment.DenseIndexInput `json:"dense_index,omitzero"`
	// Inputs are the runs a fusion stage fuses, in the stage's order.
	Inputs []artifact.Ref `json:"inputs,omitempty"`
}

// Run retrieves (or imports) the run and evaluates it.
func Run(ctx workflow.Context, in RunInput) (experiment.RunResult, error) {
	ctx = workflow.WithActivityOptions(ctx, cpuActivityOptions())
	var a *activities.Activities
	out := experiment.RunResult{Dataset: in.Dataset.Name, Stage: in.Stage.Name, Kind: in.Stage.Kind}
	topics := in.Dataset.Topics
	if in.Topics != "" {
		topics = in.Topics
	}
	switch in.Stage.Kind {
	case config.KindBM25:
		err := workflow.ExecuteActivity(ctx, a.RetrieveBM25, experiment.RetrieveInput{
			Index: in.Index.Ref, Topics: topics,
			K1: *in.Stage.K1, B: *in.Stage.B, Depth: in.Stage.Depth, Tag: in.Stage.Name,
		}).Get(ctx, &out.Run)
		if err != nil {
			return out, err
		}
	case config.KindDense:
		lctx := workflow.WithActivityOptions(ctx, llmActivityOptions(workflow.GetInfo(ctx).TaskQueueName+LLMQueueSuffix))
		var la *activities.LLMActivities
		var res experiment.DenseRun
		err := workflow.ExecuteActivity(lctx, la.RetrieveDense, experiment.DenseRetrieveInput{
			Index: in.Dense, Topics: topics, Endpoint: in.DenseIndex.Endpoint, Encoder: in.DenseIndex.Encoder,
			Store: in.DenseIndex.Store, Depth: in.Stage.Depth, Tag: in.Stage.Name,
		}).Get(lctx, &res)
		if err != nil {
			return out, err
		}
		out.Run = res.RunInfo
	case config.KindFusion:
		err := workflow.ExecuteActivity(ctx, a.Fuse, experiment.FuseInput{
			Runs: in.Inputs, Method: in.Stage.Method, K: in.Stage.RRFK, Weights: in.Stage.Weights,
			Depth: fusion.DefaultDepth, Cut: in.Stage.Depth, Tag: in.Stage.Name, Field: in.StageField,
		}).Get(ctx, &out.Run)
		if err != nil {
			return out, err
		}
	case config.KindRunFile:
		err := workflow.ExecuteActivity(ctx, a.ImportRun, activities.ImportRunInput{Path: in.Stage.Path, Field: in.StageField + ".path"}).Get(ctx, &out.Run)
		if err != nil {
			return out, err
		}
	default:
		return out, fmt.Errorf("unknown first stage kind %q", in.Stage.Kind)
	}
	err := workflow.ExecuteActivity(ctx, a.Evaluate, experiment.EvalInput{
		Qrels: in.Dataset.Qrels, Run: out.Run.Ref, Metrics: in.Metrics, Complete: in.Complete,
	}).Get(ctx, &out.Eval)
	return out, err
}
