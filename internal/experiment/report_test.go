package experiment

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
)

// syntheticReport builds the input of a small study without Temporal: a
// CLEF-like dataset measured by MAP and a CIRAL-like one by nDCG@20, two
// first stages (bm25-og, and bm25-qt as the baseline), a listwise reranker
// over bm25-og at 64/128/256 tokens (better with longer passages) with
// token counts, costs and an audit index, and Holm's correction.
func syntheticReport(t *testing.T, s artifact.Store, out string) ReportInput {
	t.Helper()
	ctx := context.Background()
	e := config.Experiment{
		Name: "synthetic", Output: out,
		Datasets: []config.Dataset{
			{Name: "clef-en-de", Corpus: "c", Topics: "t", Qrels: "q", QueryLang: "en", DocLang: "de", StudyMetric: "map"},
			{Name: "ciral-ha", Corpus: "c", Topics: "t", Qrels: "q", QueryLang: "en", DocLang: "ha", StudyMetric: "ndcg_cut.20"},
		},
		FirstStages: []config.FirstStage{{Name: "bm25-og", Kind: config.KindBM25}, {Name: "bm25-qt", Kind: config.KindBM25}},
		Endpoints:   []config.Endpoint{{Name: "llm", BaseURL: "http://127.0.0.1:1/v1", Model: "m", PricePromptPer1K: 0.00015}},
		Rerankers: []config.Reranker{{Name: "rankgpt", Kind: config.RerankListwise, Endpoint: "llm",
			MaxDocTokens: []int{64, 128, 256}, FirstStages: []string{"bm25-og"}}},
		Metrics:  []string{"ndcg_cut.20", "map", "recall.100"},
		Study:    config.Study{Baseline: "bm25-qt", Correction: config.CorrectionHolm},
		Expected: []config.Expectation{{Run: "clef-en-de/bm25-og", Metric: "map", Value: 0.9}},
	}.WithDefaults()
	require.NoError(t, e.Validate())
	in := ReportInput{Experiment: e, WorkflowID: "clirflow-synthetic-1", RunID: "run-1",
		Translations: []string{"clef-en-de queries: nllb en→de: 40 texts, 0 translator calls"}}
	rng := rand.New(rand.NewPCG(1, 2))
	put := func(text string) artifact.Ref {
		ref, err := artifact.Put(ctx, s, []byte(text))
		require.NoError(t, err)
		return ref
	}
	for di, d := range e.Datasets {
		const queries, docs = 40, 60
		var qrels strings.Builder
		rel := map[string]map[string]bool{}
		for q := range queries {
			qid := fmt.Sprintf("q%02d", q)
			rel[qid] = map[string]bool{}
			for j := range 2 + q%5 {
				doc := fmt.Sprintf("d%02d", (q*7+j*11)%docs)
				rel[qid][doc] = true
				fmt.Fprintf(&qrels, "%s 0 %s 1\n", qid, doc)
			}
		}
		p := PreparedDataset{Name: d.Name, Qrels: put(qrels.String()), NumDocs: docs, NumTopics: queries, NumJudged: queries, NumRelevant: strings.Count(qrels.String(), "\n")}
		in.Datasets = append(in.Datasets, p)
		// A run: every doc per query; a relevant doc gets a boost with
		// probability lift, so a larger lift ranks relevant docs higher.
		addRun := func(stage string, lift float64, rr *config.Reranker) {
			var run strings.Builder
			for q := range queries {
				qid := fmt.Sprintf("q%02d", q)
				for j := range docs {
					doc := fmt.Sprintf("d%02d", j)
					score := rng.Float64()
					if rel[qid][doc] && rng.Float64() < lift {
						score += 1
					}
					fmt.Fprintf(&run, "%s Q0 %s %d %.6f %s\n", qid, doc, j+1, score, stage)
				}
			}
			ref := put(run.String())
			ev, err := Evaluate(ctx, s, EvalInput{Qrels: p.Qrels, Run: ref, Metrics: e.Metrics})
			require.NoError(t, err)
			r := RunResult{Dataset: d.Name, Stage: stage, Kind: config.KindBM25, Run: RunInfo{Ref: ref, NumQueries: queries}, Eval: ev}
			if rr != nil {
				r.Kind, r.Reranker, r.FirstStage = rr.Kind, rr.Name, "bm25-og"
				r.LLM = &CallStats{Calls: queries * 9, CacheHits: 3, PromptTokens: queries * 9 * 1500, CompletionTokens: queries * 9 * 60, Cost: 0.0123, Repairs: 2}
				r.Audit = put(`{"q00":[],"q01":[]}`)
			}
			in.Runs = append(in.Runs, r)
		}
		addRun("bm25-og", 0.25+0.1*float64(di), nil)
		k := e.Rerankers[0]
		for i, n := range k.MaxDocTokens {
			addRun(k.RunName("bm25-og", n), 0.5+0.15*float64(i), &k)
		}
		addRun("bm25-qt", 0.35, nil)
	}
	return in
}

func TestHTMLReportFromSyntheticRuns(t *testing.T) {
	dir := t.TempDir()
	if keep := os.Getenv("CLIRFLOW_KEEP_REPORT"); keep != "" { // for scripts/screenshot-report.sh
		dir = keep
	}
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	ctx := context.Background()
	in := syntheticReport(t, s, dir)
	info, err := WriteReport(ctx, s, in)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "report.html"), info.HTML)
	require.Len(t, info.Drift, 1, "the expected score is off on purpose")

	raw, err := os.ReadFile(info.HTML)
	require.NoError(t, err)
	doc, err := html.Parse(strings.NewReader(string(raw)))
	require.NoError(t, err)
	var tables []*html.Node
	var links, images []string
	walk(doc, func(n *html.Node) {
		switch n.Data {
		case "table":
			tables = append(tables, n)
		case "a":
			links = append(links, attr(n, "href"))
		case "img":
			images = append(images, attr(n, "src"))
		}
	})
	byClass := func(c string) []*html.Node {
		var out []*html.Node
		for _, tb := range tables {
			if slices.Contains(strings.Fields(attr(tb, "class")), c) {
				out = append(out, tb)
			}
		}
		return out
	}

	// Results: every run with every metric and its files.
	res := rows(byClass("results")[0])
	require.Len(t, res, 1+len(in.Runs))
	require.Equal(t, []string{"run", "queries", "ndcg_cut.20", "map", "recall.100", "files"}, res[0])
	require.Equal(t, "clef-en-de/bm25-og+rankgpt-t64", res[2][0])
	for _, r := range in.Runs {
		require.Contains(t, links, "runs/"+r.Dataset+"/"+r.Stage+".trec")
		require.Contains(t, links, "eval/"+r.Dataset+"/"+r.Stage+".txt")
		require.FileExists(t, filepath.Join(dir, "runs", r.Dataset, r.Stage+".trec"))
		if r.Audit != "" {
			require.Contains(t, links, "audit/"+r.Dataset+"/"+r.Stage+".json")
			require.FileExists(t, filepath.Join(dir, "audit", r.Dataset, r.Stage+".json"))
		}
	}

	// Study: one table per metric (MAP for CLEF, nDCG@20 for CIRAL), with
	// the first stages, oracles and rerankers, and marks.
	study := byClass("study")
	require.Len(t, study, 2)
	mapT, ndcgT := rows(study[0]), rows(study[1])
	require.Equal(t, []string{"map", "clef-en-de", "Average"}, mapT[0])
	require.Equal(t, []string{"ndcg_cut.20", "ciral-ha", "Average"}, ndcgT[0])
	var names []string
	for _, r := range mapT[1:] {
		names = append(names, r[0])
	}
	require.Equal(t, []string{"bm25-og", "oracle", "rankgpt-t64", "rankgpt-t128", "rankgpt-t256", "bm25-qt", "oracle"}, names)
	require.Contains(t, string(raw), `<span class="mark">*†</span>`, "the longest passages beat first stage and baseline")

	// Tests: each first stage against the baseline, each reranked run
	// against its first stage and the baseline, with Holm-adjusted p-values.
	tests := rows(byClass("tests")[0])
	require.Equal(t, "p (holm)", tests[0][5])
	require.Len(t, tests, 1+2+2*6)
	require.Equal(t, []string{"clef-en-de/bm25-og", "bm25-qt (baseline)"}, tests[1][:2])
	require.Equal(t, []string{"clef-en-de/bm25-og+rankgpt-t64", "bm25-og"}, tests[3][:2])
	require.Equal(t, []string{"clef-en-de/bm25-og+rankgpt-t64", "bm25-qt (baseline)"}, tests[4][:2])
	require.Regexp(t, `^\d+\.\d%$`, tests[3][8], "realised share")
	require.Equal(t, "–", tests[4][8], "no headroom against the baseline")

	// Headroom per dataset and first stage, with the best reranker's share.
	head := rows(byClass("headroom")[0])
	require.Equal(t, []string{"clef-en-de", "bm25-og"}, head[1][:2])
	require.Equal(t, "rankgpt-t256", head[1][6])
	require.Regexp(t, `^\d+\.\d%$`, head[1][7])

	// Token and cost totals.
	llm := rows(byClass("llm")[0])
	require.Equal(t, []string{"total", "2,160", "18", "3,240,000", "129,600", "0.0738", "12", "0"}, llm[len(llm)-1])

	// Plots, linked relatively and present; the passage-length plot is there.
	require.Contains(t, images, "plots/lengths-bm25-og+rankgpt.svg")
	require.Contains(t, images, "plots/headroom.svg")
	require.Contains(t, images, "plots/bars-bm25-og-map.svg")
	require.Contains(t, images, "plots/deltas-ciral-ha-bm25-og+rankgpt-t256.svg")
	for _, src := range images {
		require.False(t, filepath.IsAbs(src), src)
		require.FileExists(t, filepath.Join(dir, src))
	}
	for _, f := range []string{"study-map.csv", "study-ndcg_cut.20.tex", "report.md", "results.json"} {
		require.Contains(t, links, f)
		require.FileExists(t, filepath.Join(dir, f))
	}
	require.Contains(t, string(raw), "study:\n  baseline: bm25-qt\n  correction: holm", "settings as YAML")
	require.Contains(t, string(raw), "clef-en-de/bm25-og map: got")

	// The input was recorded: the report can be regenerated elsewhere, the same.
	got, ok, err := LoadReportInput(ctx, s, "synthetic")
	require.NoError(t, err)
	require.True(t, ok)
	got.Experiment.Output = t.TempDir()
	again, err := RenderReport(ctx, s, got)
	require.NoError(t, err)
	md1, _ := os.ReadFile(filepath.Join(dir, "study.md"))
	md2, _ := os.ReadFile(filepath.Join(again.Dir, "study.md"))
	require.Equal(t, string(md1), string(md2))
}

// One metric for every dataset keeps the single table and its file names.
func TestStudyWithOneMetricKeepsOneTable(t *testing.T) {
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	in := syntheticReport(t, s, t.TempDir())
	for i := range in.Experiment.Datasets {
		in.Experiment.Datasets[i].StudyMetric = ""
	}
	in.Experiment.Study = config.Study{}
	st, err := Analyze(context.Background(), s, in, in.Experiment.Output)
	require.NoError(t, err)
	require.Len(t, st.Tables, 1)
	require.Equal(t, "ndcg_cut.20", st.Tables[0].Metric, "the first metric")
	require.Subset(t, st.Files, []string{"study.csv", "study.json", "study.md", "study.tex", "plots/bars-bm25-og.svg"})
	require.Len(t, st.Comparisons, 6, "no baseline tests")
	for _, c := range st.Comparisons {
		require.Equal(t, c.TTest.P, c.PAdjusted, "no correction")
	}
	require.Contains(t, st.Markdown, "| ndcg_cut.20 | clef-en-de | ciral-ha | Average |")
}

func walk(n *html.Node, f func(*html.Node)) {
	if n.Type == html.ElementNode {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// rows returns a table's rows as cell texts (header row first).
func rows(table *html.Node) [][]string {
	var out [][]string
	walk(table, func(n *html.Node) {
		if n.Data != "tr" {
			return
		}
		var row []string
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
				row = append(row, strings.TrimSpace(text(c)))
			}
		}
		out = append(out, row)
	})
	return out
}

func text(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(text(c))
	}
	return b.String()
}
