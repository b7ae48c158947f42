package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/cli"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/dataset"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/llmtest"
	"github.com/clirflow/clirflow/internal/rerank"
	"github.com/clirflow/clirflow/internal/trec"
	"github.com/clirflow/clirflow/workflows"
)

// relevanceFromQrels answers the scripted LLM from the hidden qrels (for
// listwise prompts): the server sees only query and passage texts.
func relevanceFromQrels(t testing.TB, d config.Dataset) (llmtest.Relevance, trec.Qrels) {
	return relevanceFor(t, d, func(q string) string { return rerank.NormalizeSpace(rerank.ReplaceNumbers(q)) },
		func(doc dataset.Document) string { return rerank.PassageText(doc.Title, doc.Text, 0, nil) })
}

// relevanceFor maps prompt texts back to (qid, docid) with the given
// renderings of queries and passages, and scores them by the qrels.
func relevanceFor(t testing.TB, d config.Dataset, query func(string) string, passage func(dataset.Document) string) (llmtest.Relevance, trec.Qrels) {
	qrels, err := trec.ReadQrels(d.Qrels)
	require.NoError(t, err)
	topics, err := dataset.ReadTopics(d.Topics, "tsv", nil)
	require.NoError(t, err)
	qid := map[string]string{}
	for _, tp := range topics {
		qid[query(tp.Query)] = tp.ID
	}
	passages := map[string][]string{}
	_, err = dataset.ReadCorpus(d.Corpus, "jsonl", func(doc dataset.Document) error {
		p := passage(doc)
		passages[p] = append(passages[p], doc.ID)
		return nil
	})
	require.NoError(t, err)
	return func(q, p string) float64 {
		best := 0
		for _, doc := range passages[p] {
			if r := qrels[qid[query(q)]][doc]; r > best {
				best = r
			}
		}
		return float64(best)
	}, qrels
}

// slidingWindowReference is an independent implementation of rank_llm's
// sliding window with a perfect ranker, written from the reference
// description: windows from the bottom up, each sorted by relevance (stable).
func slidingWindowReference(order []string, rel func(doc string) float64, window, stride int) []string {
	out := append([]string(nil), order...)
	end := len(out)
	start := end - window
	for end > 0 && start+stride != 0 {
		if start < 0 {
			start = 0
		}
		w := out[start:end]
		sort.SliceStable(w, func(i, j int) bool { return rel(w[i]) > rel(w[j]) })
		start -= stride
		end -= stride
	}
	return out
}

func TestListwiseRerankThroughServer(t *testing.T) {
	c, store := serverWithWorker(t)

	exp := demoConfig(t)
	exp.Datasets, exp.FirstStages, exp.Translators, exp.Expected = exp.Datasets[:1], exp.FirstStages[:1], nil, nil
	d := exp.Datasets[0]
	rel, qrels := relevanceFromQrels(t, d)
	llm := llmtest.NewServer(llmtest.ServerOptions{Answerer: llmtest.ListwiseByRelevance(rel)})
	defer llm.Close()
	exp.Endpoints = []config.Endpoint{{Name: "stub", BaseURL: llm.URL(), Model: "llmtest", MaxConcurrency: 32}}
	exp.Rerankers = []config.Reranker{{Name: "rankgpt", Kind: "listwise", Prompt: "rankgpt", Endpoint: "stub"}}
	require.NoError(t, exp.WithDefaults().Validate())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	run := startExperiment(t, c, workflows.TaskQueue, exp)
	var res workflows.ExperimentResult
	require.NoError(t, run.Get(ctx, &res))
	require.Len(t, res.Runs, 2)
	base, rr := res.Runs[0], res.Runs[1]
	require.Equal(t, "ddtp-es/bm25-og+rankgpt", rr.Name())
	if dir := os.Getenv("CLIRFLOW_KEEP_REPORT"); dir != "" {
		require.NoError(t, exec.Command("cp", "-r", res.Report.Dir, dir).Run())
	}
	require.NotNil(t, rr.LLM)

	// Windows: 9 per query with 100 candidates; fewer for shorter lists.
	baseRun := readRun(t, store, base.Run.Ref)
	wantCalls := 0
	for _, hits := range baseRun.Entries {
		n := len(hits)
		if n > 100 {
			n = 100
		}
		w := len(rerank.SlidingWindows(n, 0, 100, 20, 10))
		if n == 100 {
			require.Equal(t, 9, w)
		}
		wantCalls += w
	}
	require.Equal(t, wantCalls, rr.LLM.Calls)
	// Identical prompts (same query and passages) are answered from the cache.
	require.Equal(t, wantCalls-rr.LLM.CacheHits, llm.ChatRequests())
	require.Zero(t, rr.LLM.Repairs, "a well-behaved model needs no repairs")

	// The reranked order equals the independent reference implementation.
	got := readRun(t, store, rr.Run.Ref)
	for qid, hits := range baseRun.Entries {
		hits = append([]trec.Result(nil), hits...)
		trec.SortResults(hits)
		ids := make([]string, 0, 100)
		for i := 0; i < len(hits) && i < 100; i++ {
			ids = append(ids, hits[i].DocID)
		}
		want := slidingWindowReference(ids, func(doc string) float64 { return float64(qrels[qid][doc]) }, 20, 10)
		gotHits := append([]trec.Result(nil), got.Entries[qid]...)
		trec.SortResults(gotHits)
		for i, id := range want {
			require.Equal(t, id, gotHits[i].DocID, "query %s rank %d", qid, i+1)
		}
	}

	// A perfect model reaches the oracle (the top-100 reordered by the qrels)
	// wherever the window can carry every relevant candidate up: at most
	// stride (10) of them. Beyond that, rank_llm's one pass cannot, by design.
	checked := 0
	for qid, hits := range baseRun.Entries {
		relevant := 0
		for _, h := range hits {
			if qrels[qid][h.DocID] > 0 {
				relevant++
			}
		}
		if relevant > 10 {
			continue
		}
		checked++
		gotHits := append([]trec.Result(nil), got.Entries[qid]...)
		trec.SortResults(gotHits)
		for i := 0; i < relevant; i++ {
			require.Positive(t, qrels[qid][gotHits[i].DocID], "query %s: oracle puts a relevant document at rank %d", qid, i+1)
		}
	}
	require.Greater(t, checked, 150)
	mapBase, _ := experiment.Lookup(base.Eval.Summary, "map")
	mapRR, _ := experiment.Lookup(rr.Eval.Summary, "map")
	require.Greater(t, mapRR, mapBase)

	// The study view: oracle row, significance mark, headroom, plots.
	md, err := os.ReadFile(filepath.Join(res.Report.Dir, "report.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "| &emsp;oracle |")
	require.Contains(t, string(md), "| &emsp;rankgpt | 0.734* |")
	require.Contains(t, string(md), "realised share of headroom")
	for _, f := range []string{"study.csv", "study.json", "study.tex", "plots/headroom.svg", "plots/bars-bm25-og.svg", "plots/deltas-ddtp-es-bm25-og+rankgpt.svg"} {
		require.FileExists(t, filepath.Join(res.Report.Dir, f))
	}

	// The audit trail of a query: nine windows, bottom first, with answers.
	var some string
	for q, hits := range baseRun.Entries {
		if len(hits) >= 100 {
			some = q
			break
		}
	}
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, cli.Audit([]string{"-results", res.Report.Dir, "-query", some, "-artifacts", store.Root()}, &stdout, &stderr), stderr.String())
	require.Contains(t, stdout.String(), "ddtp-es/bm25-og+rankgpt, query "+some+": 9 steps")
	require.Contains(t, stdout.String(), "1. window [80 100]")
	require.Contains(t, stdout.String(), "9. window [0 20]")
	require.Contains(t, stdout.String(), "answer: \"[")
	// With the prompts, rendered again from the candidates and checked
	// against the hash of what was sent.
	stdout.Reset()
	require.Equal(t, 0, cli.Audit([]string{"-results", res.Report.Dir, "-query", some, "-artifacts", store.Root(), "-full"}, &stdout, &stderr), stderr.String())
	require.Contains(t, stdout.String(), "[user]")
	require.Contains(t, stdout.String(), "9. window [0 20]")

	// Queries are reranked in groups, each a RerankQueries child of the run
	// (200 queries: 8 children of 25).
	child := run.GetID() + "/ddtp-es/bm25-og+rankgpt"
	groups := childIDs(t, c, child, "RerankQueries")
	require.Len(t, groups, 8)
	require.Equal(t, 8, strings.Count(strings.Join(historyActivityTypes(t, c, child, ""), " "), "child:"))
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(workflows.RerankRun, workflow.RegisterOptions{Name: "RerankRun"})
	replayer.RegisterWorkflowWithOptions(workflows.RerankQueries, workflow.RegisterOptions{Name: "RerankQueries"})
	for _, id := range []string{child, groups[0]} {
		require.NoError(t, replayer.ReplayWorkflowHistoryWithOptions(nil, fetchHistory(t, c, id, ""), worker.ReplayWorkflowHistoryOptions{
			OriginalExecution: workflow.Execution{ID: id},
		}), id)
	}
	if path := os.Getenv("CLIRFLOW_RECORD_RERANK_HISTORY"); path != "" {
		writeHistoryJSON(t, fetchHistory(t, c, run.GetID(), run.GetRunID()), path, run.GetID(), run.GetRunID())
		writeHistoryJSON(t, fetchHistory(t, c, child, ""), strings.Replace(path, ".json", "_rerankrun.json", 1), child, "")
		// One group's child: windows as local activities (markers).
		writeHistoryJSON(t, fetchHistory(t, c, groups[0], ""), strings.Replace(path, ".json", "_rerankqueries.json", 1), groups[0], "")
	}

	// Re-running the experiment asks the model nothing.
	before := llm.ChatRequests()
	run2 := startExperiment(t, c, workflows.TaskQueue, exp)
	var res2 workflows.ExperimentResult
	require.NoError(t, run2.Get(ctx, &res2))
	require.Equal(t, before, llm.ChatRequests())
	require.Equal(t, rr.Eval.Summary, res2.Runs[1].Eval.Summary)
	require.True(t, res2.Runs[1].Run.Cached)
}

func readRun(t *testing.T, s artifact.Store, ref artifact.Ref) *trec.Run {
	b, err := artifact.ReadAll(context.Background(), s, ref)
	require.NoError(t, err)
	r, err := trec.ParseRun(bytes.NewReader(b), string(ref))
	require.NoError(t, err)
	return r
}

// bubbleReference is an independent implementation of PRP bubble sort (k
// passes from the bottom up to position i; a pass without a swap ends the
// sort; the top k, then the rest in first-stage order) with a comparator
// under which the lower document wins both prompts iff it is more relevant.
func bubbleReference(initial []string, k int, rel func(string) float64) []string {
	order := append([]string(nil), initial...)
	if k > len(order) {
		k = len(order)
	}
	for i := 0; i < k; i++ {
		swapped := false
		for j := len(order) - 1; j > i; j-- {
			if rel(order[j]) > rel(order[j-1]) {
				order[j], order[j-1] = order[j-1], order[j]
				swapped = true
			}
		}
		if !swapped {
			break
		}
	}
	top := order[:k]
	out := append([]string(nil), top...)
	inTop := map[string]bool{}
	for _, d := range top {
		inTop[d] = true
	}
	for _, d := range initial {
		if !inTop[d] {
			out = append(out, d)
		}
	}
	return out
}

func TestPairwiseRerankThroughServer(t *testing.T) {
	c, store := serverWithWorker(t)

	exp := demoConfig(t)
	exp.Datasets, exp.FirstStages, exp.Translators, exp.Expected = exp.Datasets[:1], exp.FirstStages[:1], nil, nil
	d := exp.Datasets[0]
	// PRP passages are "{title} {text}" (llm-rankers), the query as is.
	rel, qrels := relevanceFor(t, d, func(q string) string { return q },
		func(doc dataset.Document) string { return rerank.PairwisePassageText(doc.Title, doc.Text, 0, nil) })
	llm := llmtest.NewServer(llmtest.ServerOptions{Answerer: llmtest.PairwiseByRelevance(rel)})
	defer llm.Close()
	exp.Endpoints = []config.Endpoint{{Name: "stub", BaseURL: llm.URL(), Model: "llmtest", MaxConcurrency: 32}}
	exp.Rerankers = []config.Reranker{{Name: "prp", Kind: "pairwise", Endpoint: "stub", Top: 20, K: 3}}
	require.NoError(t, exp.WithDefaults().Validate())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var res workflows.ExperimentResult
	require.NoError(t, startExperiment(t, c, workflows.TaskQueue, exp).Get(ctx, &res))
	require.Len(t, res.Runs, 2)
	base, rr := res.Runs[0], res.Runs[1]
	require.Equal(t, "ddtp-es/bm25-og+prp", rr.Name())
	require.Equal(t, rr.LLM.Calls-rr.LLM.CacheHits, llm.ChatRequests())
	require.Zero(t, rr.LLM.Unusable)

	baseRun, got := readRun(t, store, base.Run.Ref), readRun(t, store, rr.Run.Ref)
	for q, hits := range baseRun.Entries {
		hits = append([]trec.Result(nil), hits...)
		trec.SortResults(hits)
		var ids []string
		for i := 0; i < len(hits) && i < 20; i++ {
			ids = append(ids, hits[i].DocID)
		}
		want := bubbleReference(ids, 3, func(doc string) float64 { return float64(qrels[q][doc]) })
		gotHits := append([]trec.Result(nil), got.Entries[q]...)
		trec.SortResults(gotHits)
		for i, id := range want {
			require.Equal(t, id, gotHits[i].DocID, "query %s rank %d", q, i+1)
		}
	}
}
