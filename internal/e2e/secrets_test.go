package e2e

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/llmtest"
	"github.com/clirflow/clirflow/workflows"
)

// An API key given to the worker through the environment reaches the LLM
// server and nothing else: not the workflow histories (inputs, results,
// failures of every workflow, children included), not search attributes or
// memo, not artifacts or outputs, not error messages.
func TestAPIKeyNeverLeaves(t *testing.T) {
	const key = "sk-clirflow-SECRET-7f3a9c"
	t.Setenv("CLIRFLOW_TEST_KEY", key)
	srv := startDevServer(t, "")
	c := dial(t, srv.Address)
	dir := t.TempDir()
	store, err := artifact.NewFS(dir)
	require.NoError(t, err)
	startWorker(t, c, store, workflows.TaskQueue)

	exp := demoConfig(t)
	rel, _ := relevanceFromQrels(t, exp.Datasets[0])
	llm := llmtest.NewServer(llmtest.ServerOptions{Answerer: llmtest.ListwiseByRelevance(rel), APIKey: key})
	defer llm.Close()
	exp = rerankExperiment(t, llm.URL())
	exp.Endpoints[0].APIKeyEnv = "CLIRFLOW_TEST_KEY"
	exp.Rerankers[0].Top = 20
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var res workflows.ExperimentResult
	require.NoError(t, startExperiment(t, c, workflows.TaskQueue, exp).Get(ctx, &res))
	require.Positive(t, llm.ChatRequests(), "the key was accepted by the server")

	// A wrong key fails fast (401 is not retried) and the error does not echo it.
	t.Setenv("CLIRFLOW_TEST_KEY", key+"-wrong")
	exp.Endpoints[0].Model = "other" // new client, new cache key
	err = startExperiment(t, c, workflows.TaskQueue, exp).Get(ctx, nil)
	require.Error(t, err)
	require.NotContains(t, err.Error(), key)

	// Every history in the namespace, and its search attributes and memo.
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1000})
	require.NoError(t, err)
	// Both experiments: their datasets, runs, reranked runs and the query
	// groups of the first (8 for 200 queries).
	groups := 0
	for _, e := range resp.Executions {
		if e.GetType().GetName() == "RerankQueries" {
			groups++
		}
	}
	require.GreaterOrEqual(t, groups, 8)
	for _, e := range resp.Executions {
		b, err := protojson.Marshal(e)
		require.NoError(t, err)
		require.NotContains(t, string(b), key)
		it := c.GetWorkflowHistory(ctx, e.Execution.WorkflowId, e.Execution.RunId, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			b, err := protojson.Marshal(ev)
			require.NoError(t, err)
			require.False(t, bytes.Contains(b, []byte(key[3:])), "history of %s", e.Execution.WorkflowId)
		}
	}
	// Artifacts (including the LLM cache and audit records) and outputs.
	for _, root := range []string{dir, res.Report.Dir} {
		require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			require.False(t, bytes.Contains(b, []byte(key[3:])), p)
			return nil
		}))
	}
}
