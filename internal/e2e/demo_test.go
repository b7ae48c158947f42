package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/cli"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/workflows"
)

// The demo experiment through a real server: expected scores hold, every
// stage is an activity in the history, a re-run recomputes nothing, the live
// history replays deterministically, and the experiment can be found by its
// search attribute.
func TestDemoExperimentOnRealServer(t *testing.T) {
	c, _ := serverWithWorker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	exp := demoConfig(t)
	run := startExperiment(t, c, workflows.TaskQueue, exp)
	var res workflows.ExperimentResult
	require.NoError(t, run.Get(ctx, &res))

	require.NotEmpty(t, exp.Expected, "configs/demo.yaml records expected scores")
	require.Empty(t, res.Report.Drift, "scores drifted from configs/demo.yaml")
	require.Empty(t, experiment.CheckExpected(exp.WithDefaults(), res.Runs))
	require.Len(t, res.Runs, countRuns(exp))
	for _, r := range res.Runs {
		require.False(t, r.Run.Cached, "first run computes")
		for _, m := range exp.Metrics {
			_, ok := experiment.Lookup(r.Eval.Summary, m)
			require.True(t, ok, "%s lacks %s", r.Name(), m)
		}
		require.FileExists(t, filepath.Join(res.Report.Dir, "runs", r.Dataset, r.Stage+".trec"))
		require.FileExists(t, filepath.Join(res.Report.Dir, "eval", r.Dataset, r.Stage+".txt"))
	}
	md, err := os.ReadFile(filepath.Join(res.Report.Dir, "report.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "ndcg_cut.20")
	require.Contains(t, string(md), "| &emsp;oracle |", "the study table shows each first stage's oracle")

	// Every stage is visible as an activity (or child workflow) in the history.
	types := historyActivityTypes(t, c, run.GetID(), run.GetRunID())
	for _, a := range []string{"PrepareDataset", "Translate", "BuildBM25Index", "WriteReport"} {
		require.Contains(t, types, a)
	}
	require.Contains(t, types, "child:DatasetRuns")
	// Each dataset's runs hang below its own child (histories stay small).
	dsID := run.GetID() + "/ddtp-es"
	require.Contains(t, historyActivityTypes(t, c, dsID, ""), "child:Run")
	require.Contains(t, historyActivityTypes(t, c, dsID, ""), "SaveRuns")

	// Live replay: the workflow code is deterministic for its own history.
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(workflows.Experiment, workflow.RegisterOptions{Name: "Experiment"})
	replayer.RegisterWorkflowWithOptions(workflows.DatasetRuns, workflow.RegisterOptions{Name: "DatasetRuns"})
	hist := fetchHistory(t, c, run.GetID(), run.GetRunID())
	require.NoError(t, replayer.ReplayWorkflowHistoryWithOptions(nil, hist, worker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: run.GetID(), RunID: run.GetRunID()},
	}))
	dsHist := fetchHistory(t, c, dsID, "")
	require.NoError(t, replayer.ReplayWorkflowHistoryWithOptions(nil, dsHist, worker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: dsID},
	}))
	if path := os.Getenv("CLIRFLOW_RECORD_HISTORY"); path != "" {
		writeHistoryJSON(t, hist, path, run.GetID(), run.GetRunID())
		writeHistoryJSON(t, dsHist, strings.Replace(path, ".json", "_datasetruns.json", 1), dsID, "")
	}

	// Search attributes let the UI filter experiments.
	require.Eventually(t, func() bool {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: `ClirflowExperiment = "` + exp.Name + `" AND ClirflowDatasets = "ddtp-es"`,
		})
		return err == nil && len(resp.Executions) == 1
	}, 20*time.Second, 200*time.Millisecond)

	// A second run of the same experiment is served from the artifact store.
	run2 := startExperiment(t, c, workflows.TaskQueue, exp)
	var res2 workflows.ExperimentResult
	require.NoError(t, run2.Get(ctx, &res2))
	for i, r := range res2.Runs {
		require.True(t, r.Run.Cached && r.Eval.Cached, "%s recomputed", r.Name())
		require.Equal(t, res.Runs[i].Eval.Summary, r.Eval.Summary)
	}
	for _, d := range res2.Datasets {
		require.True(t, d.Cached)
	}
}

func countRuns(e config.Experiment) int {
	n := 0
	for _, d := range e.Datasets {
		for _, s := range e.FirstStages {
			if s.AppliesTo(d.Name) {
				n++
			}
		}
	}
	return n
}

// historyActivityTypes lists the activity types (and "child:Type" for child
// workflows) scheduled in a workflow's history.
func historyActivityTypes(t *testing.T, c client.Client, id, runID string) []string {
	var out []string
	it := c.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			out = append(out, a.GetActivityType().GetName())
		}
		if a := ev.GetStartChildWorkflowExecutionInitiatedEventAttributes(); a != nil {
			out = append(out, "child:"+a.GetWorkflowType().GetName())
		}
	}
	return out
}

// childIDs lists the ids of the children of workflow id of the given type,
// in the order they were started.
func childIDs(t *testing.T, c client.Client, id, workflowType string) []string {
	var out []string
	it := c.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetStartChildWorkflowExecutionInitiatedEventAttributes(); a != nil && a.GetWorkflowType().GetName() == workflowType {
			out = append(out, a.GetWorkflowId())
		}
	}
	return out
}

// starter verify re-runs a config with recorded scores through the server
// and passes; the same config with one score off by more than the tolerance
// fails, naming the run, the metric and both values.
func TestVerifyAgainstServer(t *testing.T) {
	srv := startDevServer(t, "")
	c := dial(t, srv.Address)
	store, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	startWorker(t, c, store, workflows.TaskQueue)
	root := repoRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "configs", "demo.yaml"))
	require.NoError(t, err)
	text := strings.ReplaceAll(string(raw), " data/", " "+root+"/data/")
	text = strings.Replace(text, "output: results/demo", "output: "+t.TempDir(), 1)
	good := filepath.Join(t.TempDir(), "demo.yaml")
	require.NoError(t, os.WriteFile(good, []byte(text), 0o644))
	var stdout, stderr bytes.Buffer
	args := []string{"-config", good, "-address", srv.Address, "-task-queue", workflows.TaskQueue}
	require.Equal(t, 0, cli.Verify(args, &stdout, &stderr), stdout.String()+stderr.String())

	drifted := strings.Replace(text, "{run: ddtp-es/bm25-og, metric: map, value: 0.3524}", "{run: ddtp-es/bm25-og, metric: map, value: 0.3624}", 1)
	require.NotEqual(t, text, drifted)
	bad := filepath.Join(t.TempDir(), "demo.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(drifted), 0o644))
	stdout.Reset()
	args[1] = bad
	require.Equal(t, 1, cli.Verify(args, &stdout, &stderr))
	require.Contains(t, stdout.String(), "ddtp-es/bm25-og map: got 0.3524, expected 0.3624")
}
