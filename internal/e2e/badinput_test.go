package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/clirflow/clirflow/workflows"
)

// Bad input fails the experiment at once with an error naming file and line;
// the activity is not retried, and nothing is exported as if it were complete.
func TestBadInputFailsFastThroughServer(t *testing.T) {
	c, _ := serverWithWorker(t)

	exp := demoConfig(t)
	exp.Datasets = exp.Datasets[:1]
	exp.FirstStages = exp.FirstStages[:1]
	exp.Expected = nil
	dir := t.TempDir()
	qrels := filepath.Join(dir, "qrels.txt")
	orig, err := os.ReadFile(exp.Datasets[0].Qrels)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(orig), "\n")
	lines[2] = "q-broken 0 onlythreefields\n"
	require.NoError(t, os.WriteFile(qrels, []byte(strings.Join(lines, "")), 0o644))
	exp.Datasets[0].Qrels = qrels

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := startExperiment(t, c, workflows.TaskQueue, exp)
	err = run.Get(ctx, nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), qrels+":3")

	attempts := 0
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskFailedEventAttributes(); a != nil {
			attempts++
			require.True(t, a.GetFailure().GetApplicationFailureInfo().GetNonRetryable())
		}
	}
	require.Equal(t, 1, attempts, "a bad file is not retried")
	_, err = os.Stat(filepath.Join(exp.Output, "report.md"))
	require.True(t, os.IsNotExist(err), "no report for a failed experiment")

	// A config error typed into the UI (unknown key) fails validation, naming it.
	bad := `{"name":"x","datasets":[{"name":"d","corpus":"c","topics":"t","qrels":"q","query_lang":"en","doc_lang":"es","colour":"red"}],"first_stages":[{"name":"bm25","kind":"bm25","k1":-1}],"metrics":["map","ndcg_cut.x"]}`
	run2, err := c.ExecuteWorkflow(ctx, startOptions("bad-json"), "Experiment", rawJSON(bad))
	require.NoError(t, err)
	err = run2.Get(ctx, nil)
	require.Error(t, err)
	for _, want := range []string{"datasets[0].colour: unknown key", "first_stages[0].k1", "metrics[1]"} {
		require.Contains(t, err.Error(), want)
	}
}
