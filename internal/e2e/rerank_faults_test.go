package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/llmtest"
	"github.com/clirflow/clirflow/workflows"
)

// rerankExperiment is the Spanish demo dataset, BM25, and one listwise
// reranker against the given scripted server.
func rerankExperiment(t testing.TB, url string) config.Experiment {
	exp := demoConfig(t)
	exp.Datasets, exp.FirstStages, exp.Translators, exp.Expected = exp.Datasets[:1], exp.FirstStages[:1], nil, nil
	exp.Endpoints = []config.Endpoint{{Name: "stub", BaseURL: url, Model: "llmtest", MaxConcurrency: 32}}
	exp.Rerankers = []config.Reranker{{Name: "rankgpt", Kind: "listwise", Prompt: "rankgpt", Endpoint: "stub"}}
	require.NoError(t, exp.WithDefaults().Validate())
	return exp
}

// cleanRerank runs the experiment undisturbed and returns the reranked run.
func cleanRerank(t *testing.T, rel llmtest.Relevance) (experiment.RunResult, int) {
	c, _ := serverWithWorker(t)
	llm := llmtest.NewServer(llmtest.ServerOptions{Answerer: llmtest.ListwiseByRelevance(rel)})
	defer llm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var res workflows.ExperimentResult
	require.NoError(t, startExperiment(t, c, workflows.TaskQueue, rerankExperiment(t, llm.URL())).Get(ctx, &res))
	return res.Runs[1], llm.ChatRequests()
}

// HTTP faults (500, 429 with Retry-After, truncated JSON) are retried by
// Temporal; the result is byte-identical to an undisturbed run.
func TestRerankSurvivesHTTPFaults(t *testing.T) {
	exp := demoConfig(t)
	rel, _ := relevanceFromQrels(t, exp.Datasets[0])
	clean, _ := cleanRerank(t, rel)

	c, _ := serverWithWorker(t)
	llm := llmtest.NewServer(llmtest.ServerOptions{
		Answerer: llmtest.ListwiseByRelevance(rel), FaultRate: 0.3, Seed: 7,
		Faults: []llmtest.Fault{{Kind: llmtest.FaultHTTP500}, {Kind: llmtest.FaultRateLimit, RetryAfter: time.Second}, {Kind: llmtest.FaultTruncated}},
	})
	defer llm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var res workflows.ExperimentResult
	require.NoError(t, startExperiment(t, c, workflows.TaskQueue, rerankExperiment(t, llm.URL())).Get(ctx, &res))
	st := llm.Stats()
	faults := 0
	for _, n := range st.Faults {
		faults += n
	}
	t.Logf("requests %d, faults injected %d (%v)", st.Chat, faults, st.Faults)
	require.Greater(t, faults, 100)
	require.Equal(t, clean.Run.Ref, res.Runs[1].Run.Ref, "the same run file, byte for byte")
	require.Equal(t, clean.Eval.Summary, res.Runs[1].Eval.Summary)
}

// A model that never answers with a ranking: the run completes, keeps the
// first-stage order, and says so — it is not a silent copy.
func TestRerankGarbageAnswersAreReported(t *testing.T) {
	c, _ := serverWithWorker(t)
	llm := llmtest.NewServer(llmtest.ServerOptions{Answerer: func(llmtest.ChatRequest) (string, error) {
		return "I am sorry, I cannot help with ranking these passages.", nil
	}})
	defer llm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var res workflows.ExperimentResult
	require.NoError(t, startExperiment(t, c, workflows.TaskQueue, rerankExperiment(t, llm.URL())).Get(ctx, &res))
	base, rr := res.Runs[0], res.Runs[1]
	require.Equal(t, rr.LLM.Calls, rr.LLM.Unusable)
	require.Greater(t, rr.LLM.Repairs, 0)
	require.Equal(t, base.Eval.Summary, rr.Eval.Summary, "every window kept its order")
	md, err := os.ReadFile(filepath.Join(res.Report.Dir, "report.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "unusable answers")
	require.Contains(t, string(md), "had no usable ranking")
}

// SIGKILL of the worker process while queries are being reranked, then a
// restart: the output is identical to an undisturbed run, and finished
// windows are not asked again (only calls in flight at the kill repeat).
func TestRerankWorkerSIGKILL(t *testing.T) {
	exp := demoConfig(t)
	rel, _ := relevanceFromQrels(t, exp.Datasets[0])
	clean, cleanRequests := cleanRerank(t, rel)

	srv := startDevServer(t, "")
	c := dial(t, srv.Address)
	bin := buildBinary(t, "worker")
	artifacts, logDir := t.TempDir(), t.TempDir()
	llm := llmtest.NewServer(llmtest.ServerOptions{Answerer: llmtest.ListwiseByRelevance(rel), Latency: 20 * time.Millisecond})
	defer llm.Close()
	start := func(n string) *exec.Cmd {
		log, err := os.Create(filepath.Join(logDir, "worker"+n+".log"))
		require.NoError(t, err)
		cmd := exec.Command(bin, "-address", srv.Address, "-artifacts", artifacts)
		cmd.Stdout, cmd.Stderr = log, log
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
		return cmd
	}
	w1 := start("1")
	run := startExperiment(t, c, workflows.TaskQueue, rerankExperiment(t, llm.URL()))
	require.Eventually(t, func() bool { return llm.ChatRequests() > cleanRequests/3 }, 5*time.Minute, 10*time.Millisecond)
	inFlight := llm.Stats().InFlight
	require.NoError(t, w1.Process.Signal(syscall.SIGKILL))
	_, _ = w1.Process.Wait()
	atKill := llm.ChatRequests()
	t.Logf("killed after %d of %d requests (%d in flight)", atKill, cleanRequests, inFlight)
	require.Less(t, atKill, cleanRequests)

	start("2")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var res workflows.ExperimentResult
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, clean.Run.Ref, res.Runs[1].Run.Ref, "identical run file")
	extra := llm.ChatRequests() - cleanRequests
	t.Logf("extra requests after the kill: %d", extra)
	require.LessOrEqual(t, extra, 32, "only calls in flight at the kill (≤ LLM concurrency) are repeated")
}
