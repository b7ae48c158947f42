package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/clirflow/clirflow/activities"
	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
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
