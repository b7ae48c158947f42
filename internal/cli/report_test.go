package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
)

// tinyExperiment writes a report of one dataset and one first stage (two
// queries) into out, as the workflow's WriteReport does.
func tinyExperiment(t *testing.T, s artifact.Store, out string) experiment.ReportInput {
	t.Helper()
	ctx := context.Background()
	put := func(text string) artifact.Ref {
		ref, err := artifact.Put(ctx, s, []byte(text))
		require.NoError(t, err)
		return ref
	}
	e := config.Experiment{Name: "tiny", Output: out,
		Datasets:    []config.Dataset{{Name: "d", Corpus: "c", Topics: "t", Qrels: "q", QueryLang: "en", DocLang: "de"}},
		FirstStages: []config.FirstStage{{Name: "bm25", Kind: config.KindBM25}},
		Metrics:     []string{"map"}}.WithDefaults()
	p := experiment.PreparedDataset{Name: "d", Qrels: put("q1 0 a 1\nq2 0 b 1\n"), NumDocs: 2, NumTopics: 2, NumJudged: 2, NumRelevant: 2}
	run := put("q1 Q0 a 1 2.0 bm25\nq1 Q0 b 2 1.0 bm25\nq2 Q0 a 1 2.0 bm25\nq2 Q0 b 2 1.0 bm25\n")
	ev, err := experiment.Evaluate(ctx, s, experiment.EvalInput{Qrels: p.Qrels, Run: run, Metrics: e.Metrics})
	require.NoError(t, err)
	in := experiment.ReportInput{Experiment: e, WorkflowID: "wf", RunID: "r", Datasets: []experiment.PreparedDataset{p},
		Runs: []experiment.RunResult{{Dataset: "d", Stage: "bm25", Kind: config.KindBM25, Run: experiment.RunInfo{Ref: run, NumQueries: 2}, Eval: ev}}}
	_, err = experiment.WriteReport(ctx, s, in)
	require.NoError(t, err)
	return in
}

func TestReportRegeneratesFromTheStore(t *testing.T) {
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	first := t.TempDir()
	tinyExperiment(t, s, first)

	// From the store's record, into another directory.
	out := filepath.Join(t.TempDir(), "again")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, Report([]string{"-experiment", "tiny", "-artifacts", s.Root(), "-out", out}, &stdout, &stderr), stderr.String())
	require.Contains(t, stdout.String(), "html report: "+filepath.Join(out, "report.html"))
	for _, f := range []string{"report.md", "report.html", "results.json", "study.md", "study.csv", "runs/d/bm25.trec", "eval/d/bm25.txt"} {
		a, err := os.ReadFile(filepath.Join(first, f))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(out, f))
		require.NoError(t, err, f)
		if f != "results.json" && f != "report.html" { // these name the output directory
			require.Equal(t, string(a), string(b), f)
		}
	}

	// Without the record (a report from before it existed): from results.json.
	require.NoError(t, os.RemoveAll(filepath.Join(s.Root(), "memo")))
	out2 := t.TempDir()
	stdout.Reset()
	require.Equal(t, 0, Report([]string{"-experiment", "tiny", "-artifacts", s.Root(), "-results", first, "-out", out2}, &stdout, &stderr), stderr.String())
	require.FileExists(t, filepath.Join(out2, "report.html"))

	// Nothing to regenerate from: a message naming the store.
	stderr.Reset()
	require.Equal(t, 1, Report([]string{"-experiment", "nope", "-artifacts", s.Root(), "-results", t.TempDir()}, &stdout, &stderr))
	require.Contains(t, stderr.String(), `has no report of experiment "nope"`)
	require.Equal(t, 2, Report(nil, &stdout, &stderr), "-experiment is required")
}

func TestVerifyVerdict(t *testing.T) {
	tol := 0.001
	e := config.Experiment{Name: "v", Tolerance: &tol, Expected: []config.Expectation{
		{Run: "d/bm25", Metric: "map", Value: 0.5},
		{Run: "d/bm25", Metric: "ndcg_cut.20", Value: 0.6},
	}}
	runs := []experiment.RunResult{{Dataset: "d", Stage: "bm25", Run: experiment.RunInfo{Cached: true},
		Eval: experiment.EvalInfo{Cached: true, Summary: []experiment.MetricValue{{Name: "map", Value: 0.5004}, {Name: "ndcg_cut.20", Value: 0.6}}}}}
	var out bytes.Buffer
	require.Equal(t, 0, verdict("c.yaml", e, runs, &out))
	require.Equal(t, "verify c.yaml: ok, 2 expected scores reproduced within 0.001 (1 runs, 1 reused from the artifact store)\n", out.String())

	// Beyond the tolerance, a metric not computed, a run that does not exist:
	// one line each, naming run, metric, expected, got and tolerance.
	runs[0].Eval.Summary = []experiment.MetricValue{{Name: "map", Value: 0.4}}
	e.Expected = append(e.Expected, config.Expectation{Run: "d/gone", Metric: "map", Value: 0.1})
	out.Reset()
	require.Equal(t, 1, verdict("c.yaml", e, runs, &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Equal(t, []string{
		"DRIFT d/bm25 map: got 0.4000, expected 0.5000 (tolerance 0.001)",
		"DRIFT d/bm25 ndcg_cut.20: not computed",
		"DRIFT d/gone: no such run",
		"verify c.yaml: 3 of 3 expected scores drifted",
	}, lines)

	// The default tolerance applies when the config sets none.
	e.Tolerance = nil
	e.Expected = e.Expected[:1]
	runs[0].Eval.Summary[0].Value = 0.5 + config.DefaultTolerance/2
	out.Reset()
	require.Equal(t, 0, verdict("c.yaml", e, runs, &out), out.String())
	require.Contains(t, out.String(), fmt.Sprintf("within %g", config.DefaultTolerance))
}

func TestVerifyNeedsAConfigWithExpectedScores(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 2, Verify(nil, &stdout, &stderr))
	require.Contains(t, stderr.String(), "-config is required")
}
