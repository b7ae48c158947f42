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
	// Local: the workflow runs on the LLM queue and asks for windows as
	// local activities (absent in histories recorded before that change).
	Local bool `json:"local,omitempty"`
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
	candsIn := experiment.CandidatesInput{
		Run: in.FirstStage.Run.Ref, Corpus: in.Corpus, Topics: in.Dataset.Topics, Top: in.Reranker.Top, MaxDocTokens: in.MaxDocTokens,
		Pairwise: in.Reranker.Kind == config.RerankPairwise, RerankKey: key,
	}
	// Version 1 prepares the candidates in a local activity, so that the
	// children start in the workflow task that began it: as an activity, its
	// dispatch and the workflow task after it delayed the first LLM request
	// by 15-20 ms. It reads one corpus and writes one artifact (70 ms for
	// the 2,228-document demo corpus; seconds for the largest), well within
	// what a local activity may take: the SDK extends the workflow task.
	if workflow.GetVersion(ctx, "rerank-prepare-local", workflow.DefaultVersion, 1) == 1 {
		lctx := workflow.WithLocalActivityOptions(ctx, cpuLocalActivityOptions())
		err = workflow.ExecuteLocalActivity(lctx, a.PrepareCandidates, candsIn).Get(lctx, &cands)
	} else {
		err = workflow.ExecuteActivity(ctx, a.PrepareCandidates, candsIn).Get(ctx, &cands)
	}
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
	// Version 1 runs each query's workflow on the LLM queue, where its
	// windows are local activities: a window then costs no server round trip
	// (a regular activity per window made reranking 4x slower than the LLM).
	local := workflow.GetVersion(ctx, "rerank-query-on-llm-queue", workflow.DefaultVersion, 1) == 1
	// Version 1 of "rerank-query-groups" reranks queriesPerChild queries per
	// child (RerankQueries): starting a workflow per query made the server's
	// child-start rate, not the LLM, the limit (2x the ideal wall time).
	// Version 2 sizes the groups by the run (GroupSize): each child start
	// took the server ~10 ms, and 20 of them delayed the last group's first
	// request by 0.2 s.
	grouped := workflow.GetVersion(ctx, "rerank-query-groups", workflow.DefaultVersion, 2)
	var rankings []artifact.Ref
	var stats experiment.CallStats
	if grouped >= 1 {
		rankings, stats, err = rerankGroups(ctx, in, cands, int(grouped))
	} else {
		rankings, stats, err = rerankEachQuery(ctx, in, cands, local)
	}
	if err != nil {
		return out, err
	}
	// Version 1 assembles and evaluates the run in one local activity: as
	// two activities, they and the workflow tasks after them took 65-70 ms
	// after the last group finished (200-query benchmark).
	if workflow.GetVersion(ctx, "rerank-finish-local", workflow.DefaultVersion, 1) == 1 {
		lctx := workflow.WithLocalActivityOptions(ctx, cpuLocalActivityOptions())
		var fin experiment.FinishedRun
		err = workflow.ExecuteLocalActivity(lctx, a.AssembleAndEvaluate, experiment.FinishInput{
			Assemble: experiment.AssembleInput{Candidates: cands.Ref, Rankings: rankings, Tag: in.Name, RerankKey: key},
			Eval:     experiment.EvalInput{Qrels: in.Dataset.Qrels, Metrics: in.Metrics, Complete: in.Complete},
		}).Get(lctx, &fin)
		if err != nil {
			return out, err
		}
		out.Run, out.Audit, out.LLM, out.Eval = fin.Assembled.Run, fin.Assembled.Audit, &stats, fin.Eval
		return out, nil
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

// queriesPerChild is the number of queries a RerankQueries child reranks
// concurrently in version 1 of "rerank-query-groups".
const queriesPerChild = 10

// GroupSize is the number of queries per RerankQueries child from version 2
// on: groupsPerRun children, so that few child starts delay a run and up to
// that many LLM workers share it, each of 10 to 50 queries. A child's
// windows are recorded as markers of about 3 KB when its workflow task
// completes, so 50 queries of 9 windows finished in one task (all answers
// cached) still complete it with 1.3 MB, well under gRPC's 4 MB, and about
// 10 events per query keep its history far below the warning threshold.
func GroupSize(queries int) int {
	return min(max((queries+groupsPerRun-1)/groupsPerRun, 10), 50)
}

const groupsPerRun = 8

// groupTaskTimeout is the workflow task timeout of a RerankQueries child
// from version 2 on (6 s before): the SDK extends a task with local
// activities running every 1.6 s, so windows are recorded as they finish,
// not all in a group's last task (eight such completions at once kept the
// server busy for 0.2 s at the end of a run), and a dead worker's groups
// resume after 2 s instead of 6 s.
const groupTaskTimeout = 2 * time.Second

// rerankEachQuery is versions 0 of "rerank-query-groups": one RerankQuery
// child per query.
func rerankEachQuery(ctx workflow.Context, in RerankRunInput, cands experiment.CandidatesInfo, local bool) ([]artifact.Ref, experiment.CallStats, error) {
	info := workflow.GetInfo(ctx)
	futures := make([]workflow.ChildWorkflowFuture, len(cands.QIDs))
	for i, qid := range cands.QIDs {
		copts := workflow.ChildWorkflowOptions{WorkflowID: info.WorkflowExecution.ID + "/" + qid}
		if local {
			copts.TaskQueue = info.TaskQueueName + LLMQueueSuffix
		}
		futures[i] = workflow.ExecuteChildWorkflow(workflow.WithChildOptions(ctx, copts), RerankQuery, RerankQueryInput{
			Candidates: cands.Ref, QID: qid, Count: cands.Counts[i], Reranker: in.Reranker, Endpoint: in.Endpoint, Local: local,
		})
	}
	rankings := make([]artifact.Ref, len(futures))
	var stats experiment.CallStats
	for i, f := range futures {
		var r RerankQueryResult
		if err := f.Get(ctx, &r); err != nil {
			return nil, stats, fmt.Errorf("query %s: %w", cands.QIDs[i], err)
		}
		rankings[i] = r.Ranking
		stats.Add(r.Stats)
	}
	return rankings, stats, nil
}

// rerankGroups starts one RerankQueries child per group of queries on
// the LLM queue (version: of "rerank-query-groups", 1 or 2). Child ids name
// their first and last query (RUN/FIRST..LAST), so a query's windows are
// found from its id.
func rerankGroups(ctx workflow.Context, in RerankRunInput, cands experiment.CandidatesInfo, version int) ([]artifact.Ref, experiment.CallStats, error) {
	info := workflow.GetInfo(ctx)
	n := len(cands.QIDs)
	size, taskTimeout := queriesPerChild, 6*time.Second
	if version >= 2 {
		size, taskTimeout = GroupSize(n), groupTaskTimeout
	}
	var futures []workflow.ChildWorkflowFuture
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		id := info.WorkflowExecution.ID + "/" + cands.QIDs[lo]
		if hi-lo > 1 {
			id += ".." + cands.QIDs[hi-1]
		}
		copts := workflow.ChildWorkflowOptions{
			WorkflowID: id, TaskQueue: info.TaskQueueName + LLMQueueSuffix,
			// A workflow task stays open while its windows run as local
			// activities; the SDK extends it at 80 % of this timeout,
			// recording the finished windows each time; a dead worker's task
			// is retried after it.
			WorkflowTaskTimeout: taskTimeout,
		}
		futures = append(futures, workflow.ExecuteChildWorkflow(workflow.WithChildOptions(ctx, copts), RerankQueries, RerankQueriesInput{
			Candidates: cands.Ref, QIDs: cands.QIDs[lo:hi], Counts: cands.Counts[lo:hi], Reranker: in.Reranker, Endpoint: in.Endpoint,
		}))
	}
	rankings := make([]artifact.Ref, 0, n)
	var stats experiment.CallStats
	for _, f := range futures {
		var r RerankQueriesResult
		if err := f.Get(ctx, &r); err != nil {
			return nil, stats, err
		}
		rankings = append(rankings, r.Rankings...)
		// Summed per query in query order: the same totals as one child per
		// query.
		for _, s := range r.Stats {
			stats.Add(s)
		}
	}
	if len(rankings) != n {
		return nil, stats, fmt.Errorf("reranking returned %d rankings for %d queries", len(rankings), n)
	}
	return rankings, stats, nil
}

// RerankQueriesInput reranks several queries of one run.
type RerankQueriesInput struct {
	Candidates artifact.Ref    `json:"candidates"`
	QIDs       []string        `json:"qids"`
	Counts     []int           `json:"counts"`
	Reranker   config.Reranker `json:"reranker"`
	Endpoint   config.Endpoint `json:"endpoint"`
}

// RerankQueriesResult holds each query's ranking and cost, in input order.
type RerankQueriesResult struct {
	Rankings []artifact.Ref         `json:"rankings"`
	Stats    []experiment.CallStats `json:"stats"`
}

// RerankQueries reranks its queries concurrently, each exactly as a
// RerankQuery with Local set (windows as local activities of the LLM
// worker, whose LLM concurrency bounds the calls in flight). It runs on the
// LLM queue and returns when every query has finished; the first failing
// query (in input order) is its error.
func RerankQueries(ctx workflow.Context, in RerankQueriesInput) (RerankQueriesResult, error) {
	n := len(in.QIDs)
	if len(in.Counts) != n {
		return RerankQueriesResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%d queries but %d candidate counts", n, len(in.Counts)), ErrTypeInvalidConfig, nil)
	}
	// Version 1 of "rerank-queries-selector": listwise queries advance from
	// one selector (rerankListwise); before, a coroutine per query, each
	// resumed whenever any window finished.
	if in.Reranker.Kind == config.RerankListwise && workflow.GetVersion(ctx, "rerank-queries-selector", workflow.DefaultVersion, 1) == 1 {
		return rerankListwise(ctx, in)
	}
	out := RerankQueriesResult{Rankings: make([]artifact.Ref, n), Stats: make([]experiment.CallStats, n)}
	errs := make([]error, n)
	wg := workflow.NewWaitGroup(ctx)
	for i := range in.QIDs {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			r, err := rerankQuery(ctx, RerankQueryInput{
				Candidates: in.Candidates, QID: in.QIDs[i], Count: in.Counts[i], Reranker: in.Reranker, Endpoint: in.Endpoint, Local: true,
			})
			out.Rankings[i], out.Stats[i], errs[i] = r.Ranking, r.Stats, err
		})
	}
	wg.Wait(ctx)
	for i, err := range errs {
		if err != nil {
			return out, fmt.Errorf("query %s: %w", in.QIDs[i], err)
		}
	}
	return out, nil
}

// RerankQuery runs rank_llm's sliding windows over one query, one activity
// per window, in order (each window sees the previous one's result).
//
// With in.Local the workflow runs on the LLM queue: windows and the final
// save are local activities of the LLM worker (same retry policy, results
// recorded as markers); PRP passes stay regular activities because they
// checkpoint by heartbeat, which local activities cannot.
func RerankQuery(ctx workflow.Context, in RerankQueryInput) (RerankQueryResult, error) {
	return rerankQuery(ctx, in)
}

// rerankQuery is one query's reranking, in RerankQuery or RerankQueries.
func rerankQuery(ctx workflow.Context, in RerankQueryInput) (RerankQueryResult, error) {
	queue := workflow.GetInfo(ctx).TaskQueueName
	if !in.Local {
		queue += LLMQueueSuffix
	}
	var la *activities.LLMActivities
	lctx := workflow.WithActivityOptions(ctx, llmActivityOptions(queue))
	lactx := workflow.WithLocalActivityOptions(ctx, llmLocalActivityOptions())
	window := func(w experiment.WindowInput, res *experiment.WindowResult) error {
		if in.Local {
			return workflow.ExecuteLocalActivity(lactx, la.RerankWindow, w).Get(lactx, res)
		}
		return workflow.ExecuteActivity(lctx, la.RerankWindow, w).Get(lctx, res)
	}
	var out RerankQueryResult
	var order []string
	var audit []artifact.Ref
	switch in.Reranker.Kind {
	case config.RerankListwise:
		r := in.Reranker
		for _, w := range rerank.SlidingWindowPasses(in.Count, 0, r.Top, r.Window, r.Stride, r.Passes) {
			var res experiment.WindowResult
			err := window(experiment.WindowInput{
				Candidates: in.Candidates, QID: in.QID, Order: order, Start: w.Start, End: w.End, Prompt: r.Prompt, Endpoint: in.Endpoint,
			}, &res)
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
	ranking := experiment.QueryRanking{QID: in.QID, Order: order, Audit: audit}
	if in.Local {
		return out, workflow.ExecuteLocalActivity(lactx, la.SaveRanking, ranking).Get(lactx, &out.Ranking)
	}
	ctx = workflow.WithActivityOptions(ctx, cpuActivityOptions())
	var a *activities.Activities
	return out, workflow.ExecuteActivity(ctx, a.SaveRanking, ranking).Get(ctx, &out.Ranking)
}

// cpuLocalActivityOptions: cpuActivityOptions' retry policy for short CPU
// steps run as local activities of the workflow's worker.
func cpuLocalActivityOptions() workflow.LocalActivityOptions {
	o := cpuActivityOptions()
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Minute,
		ScheduleToCloseTimeout: 4 * time.Hour,
		RetryPolicy:            o.RetryPolicy,
	}
}

// llmLocalActivityOptions: the retry policy of llmActivityOptions for
// windows run as local activities (a worker that dies mid-window loses the
// workflow task; the window is run again, answered by the response cache).
func llmLocalActivityOptions() workflow.LocalActivityOptions {
	o := llmActivityOptions("")
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    o.StartToCloseTimeout,
		ScheduleToCloseTimeout: time.Hour,
		RetryPolicy:            o.RetryPolicy,
	}
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

// rerankListwise runs rank_llm's sliding windows of every query of a group
// as local activities, each query's in order, the queries concurrently: one
// selector waits for whichever window finishes and asks that query's next
// (so a finished window wakes one coroutine, not one per query). Windows
// write no audit record (AuditLater) and pass on the windows applied so far,
// not orders; a query's ranking and audit records (one artifact,
// experiment.SavedQuery) are written by its last window from version 1 of
// "rerank-save-in-last-window" (WindowInput.Save), before by a SaveQuery
// local activity after it, which
// waited behind every other query's queued windows: 0.16 s median, 0.4 s at
// the 90th percentile with 200 queries and 32 calls in flight, so that the
// last queries' saves lengthened the run. Queries without windows (a single
// candidate) still end with SaveQuery. The first failing query (in input
// order) is the error, after the others have finished.
func rerankListwise(ctx workflow.Context, in RerankQueriesInput) (RerankQueriesResult, error) {
	n := len(in.QIDs)
	out := RerankQueriesResult{Rankings: make([]artifact.Ref, n), Stats: make([]experiment.CallStats, n)}
	type query struct {
		windows []rerank.Window
		next    int
		steps   []experiment.WindowStep // of the windows finished, in order
		err     error
	}
	qs := make([]query, n)
	r := in.Reranker
	var la *activities.LLMActivities
	lactx := workflow.WithLocalActivityOptions(ctx, llmLocalActivityOptions())
	saveInLast := workflow.GetVersion(ctx, "rerank-save-in-last-window", workflow.DefaultVersion, 1) == 1
	sel := workflow.NewSelector(ctx)
	pending := 0
	var advance func(i int)
	advance = func(i int) {
		q := &qs[i]
		pending++
		if q.next == len(q.windows) {
			f := workflow.ExecuteLocalActivity(lactx, la.SaveQuery, experiment.SaveQueryInput{
				Candidates: in.Candidates, QID: in.QIDs[i], Prompt: r.Prompt, Endpoint: in.Endpoint, Windows: q.steps,
			})
			sel.AddFuture(f, func(f workflow.Future) {
				pending--
				if err := f.Get(ctx, &out.Rankings[i]); err != nil {
					q.err = err
				}
			})
			return
		}
		w := q.windows[q.next]
		win := experiment.WindowInput{
			Candidates: in.Candidates, QID: in.QIDs[i], Start: w.Start, End: w.End, Prompt: r.Prompt, Endpoint: in.Endpoint,
			AuditLater: true,
		}
		last := saveInLast && q.next == len(q.windows)-1
		if last {
			win.Save, win.Steps = true, q.steps
		} else {
			win.Applied = make([]experiment.AppliedWindow, len(q.steps))
			for j, st := range q.steps {
				win.Applied[j] = experiment.AppliedWindow{Start: st.Start, End: st.End, Permutation: st.Permutation}
			}
		}
		f := workflow.ExecuteLocalActivity(lactx, la.RerankWindow, win)
		sel.AddFuture(f, func(f workflow.Future) {
			pending--
			var res experiment.WindowResult
			if err := f.Get(ctx, &res); err != nil {
				q.err = fmt.Errorf("window %s: %w", w, err)
				return
			}
			q.steps = append(q.steps, res.Step(w.Start, w.End))
			out.Stats[i].Add(res.Stats)
			q.next++
			if last {
				if res.Ranking == "" {
					q.err = fmt.Errorf("window %s saved no ranking", w)
				}
				out.Rankings[i] = res.Ranking
				return
			}
			advance(i)
		})
	}
	for i := range qs {
		qs[i].windows = rerank.SlidingWindowPasses(in.Counts[i], 0, r.Top, r.Window, r.Stride, r.Passes)
		advance(i)
	}
	for pending > 0 {
		sel.Select(ctx)
	}
	for i, q := range qs {
		if q.err != nil {
			return out, fmt.Errorf("query %s: %w", in.QIDs[i], q.err)
		}
	}
	return out, nil
}
