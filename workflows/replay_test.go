package workflows

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Recorded histories of real executions must replay against the current
// workflow code: a non-deterministic change (reordered activities, a new
// command without versioning) fails here before it breaks running
// experiments. Re-record with:
//
//	CLIRFLOW_RECORD_HISTORY=$PWD/workflows/testdata/experiment_demo_v1.json \
//	  go test -run TestDemoExperimentOnRealServer ./internal/e2e/
//	CLIRFLOW_RECORD_RERANK_HISTORY=$PWD/workflows/testdata/experiment_rerank_v5.json \
//	  go test -run TestListwiseRerankThroughServer ./internal/e2e/
//
// experiment_demo_v1*.json run each dataset in a DatasetRuns child (version 1
// of "dataset-children"); the older files predate it. experiment_rerank*.json
// predate windows as local activities (version 0 of
// "rerank-query-on-llm-queue"); experiment_rerank_v1*.json are version 1,
// one RerankQuery child per query (version 0 of "rerank-query-groups");
// experiment_rerank_v2*.json rerank queries in RerankQueries groups of 10
// (version 1); experiment_rerank_v3*.json in groups sized by the run
// (version 2) whose windows advance from one selector and whose audit
// records SaveQuery writes per query (version 1 of
// "rerank-queries-selector"); experiment_rerank_v4*.json save each query in
// its last window (version 1 of "rerank-save-in-last-window");
// experiment_rerank_v5*.json prepare the candidates, and assemble and
// evaluate the run, in local activities (version 1 of "rerank-prepare-local"
// and of "rerank-finish-local").
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".execution.json") {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			var exec struct {
				WorkflowID string `json:"workflow_id"`
				RunID      string `json:"run_id"`
			}
			meta, err := os.ReadFile(strings.TrimSuffix(f, ".json") + ".execution.json")
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(meta, &exec))
			fh, err := os.Open(f)
			require.NoError(t, err)
			defer fh.Close()
			hist, err := client.HistoryFromJSON(fh, client.HistoryJSONOptions{})
			require.NoError(t, err)
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(Experiment, workflow.RegisterOptions{Name: "Experiment"})
			r.RegisterWorkflowWithOptions(DatasetRuns, workflow.RegisterOptions{Name: "DatasetRuns"})
			r.RegisterWorkflowWithOptions(RerankRun, workflow.RegisterOptions{Name: "RerankRun"})
			r.RegisterWorkflowWithOptions(RerankQuery, workflow.RegisterOptions{Name: "RerankQuery"})
			r.RegisterWorkflowWithOptions(RerankQueries, workflow.RegisterOptions{Name: "RerankQueries"})
			require.NoError(t, r.ReplayWorkflowHistoryWithOptions(nil, hist, worker.ReplayWorkflowHistoryOptions{
				OriginalExecution: workflow.Execution{ID: exec.WorkflowID, RunID: exec.RunID},
			}))
		})
	}
	require.NotZero(t, n, "no recorded histories in testdata/")
}

// Groups: 8 per run, of 10 to 50 queries.
func TestGroupSize(t *testing.T) {
	for queries, want := range map[int]int{1: 10, 80: 10, 81: 11, 200: 25, 400: 50, 401: 50, 10000: 50} {
		require.Equal(t, want, GroupSize(queries), "%d queries", queries)
	}
}
