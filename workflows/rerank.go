package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/clirflow/clirflow/activities"
	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/rerank"
)

// LLMQueueSuffix names the LLM task queue after the workflow's own queue
// ("clirflow" → "clirflow-llm").
const LLMQueueSuffix = "-llm"

// RerankRunInput reranks one first-stage run of one dataset.
type RerankRunInput struct {
	Dataset      experiment.PreparedDataset `json:"dataset"`
	FirstStage   experiment.RunResult       `json:"first_stage"`
	Reranker     config.Reranker            `json:"reranker"`
	Endpoint     config.Endpoint            `json:"endpoint"`
	MaxDocTokens int                        `json:"max_doc_tokens"`
	// Corpus whose text the model reads (original, or translated).
	Corpus   artifact.Ref `json:"corpus"`
	Name     string       `json:"name"` // run name, STAGE+RERANKER[-tN]
	Metrics  []string     `json:"metrics"`
	Complete bool         `json:"complete"`
}

// RerankQueryInput reranks one query's candidates.
type RerankQueryInput struct {
	Candidates artifact.Ref    `json:"candidates"`
	QID        string          `json:"qid"`
	Count      int             `json:"count"`
	Reranker   config.Reranker `json:"reranker"`
	Endpoint   config.Endpoint `json:"endpoint"`
}

// RerankQueryResult is a query's reranked order (by reference) and its cost.
type RerankQueryResult struct {
	Ranking artifact.Ref         `json:"ranking"`
	Stats   experiment.CallStats `json:"stats"`
}

// RerankRun prepares candidates, reranks every query in its own child
// workflow (queries in parallel), assembles the run and evaluates it.
func RerankRun(ctx workflow.Context, in RerankRunInput) (experiment.RunResult, error) {
	ctx = workflow.WithActivityOptions(ctx, cpuActivityOptions())
	var a *activities.Activities
	out := experiment.RunResult{Dataset: in.Dataset.Name, Stage: in.Name, Kind: in.Reranker.Kind, Reranker: in.Reranker.Name, FirstStage: in.FirstStage.Stage}
	key, err := rerankKey(in)
	if err != nil {
		return out, err
	}
	var cands experiment.CandidatesInfo
	err = workflow.ExecuteActivity(ctx, a.PrepareCandidates, experiment.CandidatesInput{
		Run: in.FirstStage.Run.Ref, Corpus: in.Corpus, Topics: in.Dataset.Topics, Top: in.Reranker.Top, MaxDocTokens: in.MaxDocTokens,
		Pairwise: in.Reranker.Kind == config.RerankPairwise, RerankKey: key,
	}).Get(ctx, &cands)
	if err != nil {
		return out, err
	}
	if cands.Previous != nil {
		// Finished before with the same candidates, settings and model: a
		// re-run asks the LLM nothing.
		out.Run, out.Audit, out.LLM = cands.Previous.Run, cands.Previous.Audit, &experiment.CallStats{}
		err = workflow.ExecuteActivity(ctx, a.Evaluate, experiment.EvalInput{
			Qrels: in.Dataset.Qrels, Run: out.Run.Ref, Metrics: in.Metrics, Complete: in.Complete,
		}).Get(ctx, &out.Eval)
		return out, err
	}
	parent := workflow.GetInfo(ctx).WorkflowExecution.ID
	futures := make([]workflow.ChildWorkflowFuture, len(cands.QIDs))
	for i, qid := range cands.QIDs {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: parent + "/" + qid})
		futures[i] = workflow.ExecuteChildWorkflow(cctx, RerankQuery, RerankQueryInput{
			Candidates: cands.Ref, QID: qid, Count: cands.Counts[i], Reranker: in.Reranker, Endpoint: in.Endpoint,
		})
	}
	rankings := make([]artifact.Ref, len(futures))
	var stats experiment.CallStats
	for i, f := range futures {
		var r RerankQueryResult
		if err := f.Get(ctx, &r); err != nil {
			return out, fmt.Errorf("query %s: %w", cands.QIDs[i], err)
		}
		rankings[i] = r.Ranking
		stats.Add(r.Stats)
	}
	var assembled experiment.AssembledRun
	err = workflow.ExecuteActivity(ctx, a.AssembleRun, experiment.AssembleInput{Candidates: cands.Ref, Rankings: rankings, Tag: in.Name, RerankKey: key}).Get(ctx, &assembled)
	if err != nil {
		return out, err
	}
	out.Run, out.Audit, out.LLM = assembled.Run, assembled.Audit, &stats
	err = workflow.ExecuteActivity(ctx, a.Evaluate, experiment.EvalInput{
		Qrels: in.Dataset.Qrels, Run: out.Run.Ref, Metrics: in.Metrics, Complete: in.Complete,
	}).Get(ctx, &out.Eval)
	return out, err
}

// RerankQuery runs rank_llm's sliding windows over one query, one activity
// per window, in order (each window sees the previous one's result).
func RerankQuery(ctx workflow.Context, in RerankQueryInput) (RerankQueryResult, error) {
	lctx := workflow.WithActivityOptions(ctx, llmActivityOptions(workflow.GetInfo(ctx).TaskQueueName+LLMQueueSuffix))
	var la *activities.LLMActivities
	var out RerankQueryResult
	var order []string
	var audit []artifact.Ref
	switch in.Reranker.Kind {
	case config.RerankListwise:
		r := in.Reranker
		for _, w := range rerank.SlidingWindowPasses(in.Count, 0, r.Top, r.Window, r.Stride, r.Passes) {
			var res experiment.WindowResult
			err := workflow.ExecuteActivity(lctx, la.RerankWindow, experiment.WindowInput{
				Candidates: in.Candidates, QID: in.QID, Order: order, Start: w.Start, End: w.End, Prompt: r.Prompt, Endpoint: in.Endpoint,
			}).Get(lctx, &res)
			if err != nil {
				return out, fmt.Errorf("window %s: %w", w, err)
			}
			order = res.Order
			audit = append(audit, res.Audit)
			out.Stats.Add(res.Stats)
		}
	case config.RerankPairwise:
		// One activity per bubble-sort pass (k ≤ 10 by default); the state
		// between passes is the order plus the memo of answers.
		var state []byte
		for pass := 0; ; pass++ {
			if pass > in.Reranker.K+1 {
				return out, fmt.Errorf("PRP did not finish after %d passes", pass)
			}
			var res experiment.PassResult
			err := workflow.ExecuteActivity(lctx, la.RerankPass, experiment.PassInput{
				Candidates: in.Candidates, QID: in.QID, Method: in.Reranker.Method, K: in.Reranker.K, State: state, Endpoint: in.Endpoint,
			}).Get(lctx, &res)
			if err != nil {
				return out, fmt.Errorf("PRP pass %d: %w", pass, err)
			}
			audit = append(audit, res.Audit)
			out.Stats.Add(res.Stats)
			if res.Done {
				order = res.Order
				break
			}
			state = res.State
		}
	default:
		return out, temporal.NewNonRetryableApplicationError("unsupported reranker kind "+in.Reranker.Kind, ErrTypeInvalidConfig, nil)
	}
	ctx = workflow.WithActivityOptions(ctx, cpuActivityOptions())
	var a *activities.Activities
	err := workflow.ExecuteActivity(ctx, a.SaveRanking, experiment.QueryRanking{QID: in.QID, Order: order, Audit: audit}).Get(ctx, &out.Ranking)
	return out, err
}

// llmActivityOptions: LLM calls retry with backoff for a long time (servers
// come back), honour Retry-After, and fail at once on 4xx answers.
func llmActivityOptions(queue string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:           queue,
		StartToCloseTimeout: 10 * time.Minute,
		// Activities heartbeat every 5 s during calls: a dead worker's call
		// is retried elsewhere after 20 s, not after the 10-minute limit.
		HeartbeatTimeout: 20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        30,
			NonRetryableErrorTypes: []string{activities.ErrTypeInvalidInput},
		},
	}
}

// rerankKey names what determines a reranked run besides its candidates: the
// reranker's settings, its prompt's text and the model behind the endpoint.
func rerankKey(in RerankRunInput) (string, error) {
	r := in.Reranker
	r.Name, r.FirstStages, r.MaxDocTokens, r.Endpoint = "", nil, nil, ""
	b, err := json.Marshal(struct {
		R      config.Reranker `json:"r"`
		Prompt string          `json:"prompt"`
		URL    string          `json:"url"`
		Model  string          `json:"model"`
		Tag    string          `json:"tag"`
	}{r, rerank.PromptID(r.Prompt), in.Endpoint.BaseURL, in.Endpoint.Model, in.Name})
	return string(b), err
}
