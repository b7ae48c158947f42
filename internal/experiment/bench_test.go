package experiment

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/clirflow/clirflow/internal/analysis"
	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/rerank"
	"github.com/clirflow/clirflow/internal/translate"
)

// BenchmarkDTTranslateAndIndex measures document translation of the Spanish
// demo corpus with the real apertium (sentences/s, first pass and cached
// re-run) and the BM25 index build over the translated corpus (docs/s).
//
//	go test -run '^$' -bench DT -benchtime 1x ./internal/experiment/
func BenchmarkDTTranslateAndIndex(b *testing.B) {
	if _, err := exec.LookPath("apertium"); err != nil {
		b.Skip("apertium not installed (scripts/deps.sh installs it)")
	}
	ctx := context.Background()
	root, _ := filepath.Abs("../..")
	s, err := artifact.NewFS(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	d := config.Dataset{Name: "ddtp-es", Corpus: filepath.Join(root, "data/ddtp-es/corpus.jsonl"),
		Topics: filepath.Join(root, "data/ddtp-es/topics.tsv"), Qrels: filepath.Join(root, "data/ddtp-es/qrels.txt"), QueryLang: "en", DocLang: "es"}
	p, err := PrepareDataset(ctx, s, PrepareInput{Dataset: d, Field: "datasets[0]"})
	if err != nil {
		b.Fatal(err)
	}
	ap, err := translate.NewApertium(translate.ApertiumConfig{})
	if err != nil {
		b.Fatal(err)
	}
	newT := func(config.Translator) (translate.Translator, error) { return ap, nil }
	cache, err := translate.NewFileCache(filepath.Join(b.TempDir(), "translations"))
	if err != nil {
		b.Fatal(err)
	}
	in := TranslateInput{Source: p.Corpus, What: config.TranslateDocuments, Translator: config.Translator{Name: "apertium", Kind: "apertium", BatchSize: 200, Concurrency: 1}, Src: "es", Tgt: "en"}
	start := time.Now()
	tr, err := Translate(ctx, s, cache, newT, in, nil)
	if err != nil {
		b.Fatal(err)
	}
	first := time.Since(start)
	sentencesPerSec := float64(tr.Texts) / first.Seconds()
	// Re-run without the memo: every sentence must come from the cache.
	s2, _ := artifact.NewFS(b.TempDir())
	p2, _ := PrepareDataset(ctx, s2, PrepareInput{Dataset: d, Field: "datasets[0]"})
	in.Source = p2.Corpus
	again, err := Translate(ctx, s2, cache, newT, in, nil)
	if err != nil {
		b.Fatal(err)
	}
	// ResetTimer drops metrics reported before it, so these come at the end.
	defer func() {
		b.ReportMetric(sentencesPerSec, "apertium-sentences/s")
		b.ReportMetric(100*float64(again.CacheHits)/float64(again.Texts), "rerun-cache-hit-%")
		b.ReportMetric(float64(again.Calls), "rerun-calls")
	}()
	an, err := analysis.ForLanguage("en")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		// Build directly (not from the memo) to time the indexing itself.
		if _, err := buildIndex(ctx, s, tr.Ref, an, nil); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(p.NumDocs)/time.Since(start).Seconds(), "index-docs/s")
	}
}

// BenchmarkPrepareCandidates measures what delays a reranked run's first LLM
// request: rendering the top 100 of BM25 (OG) for the 200 Spanish demo
// queries (the reranking benchmark's run) into a fresh store each time.
//
//	go test -run '^$' -bench PrepareCandidates ./internal/experiment/
func BenchmarkPrepareCandidates(b *testing.B) {
	ctx := context.Background()
	tok, err := rerank.NewTiktoken("cl100k_base")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, p, run := demoFirstStage(b)
		b.StartTimer()
		c, err := PrepareCandidates(ctx, s, tok, CandidatesInput{Run: run.Ref, Corpus: p.Corpus, Topics: p.Topics, Top: 100, RerankKey: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if len(c.QIDs) != 200 {
			b.Fatalf("%d queries", len(c.QIDs))
		}
	}
}

// BenchmarkAssembleAndEvaluate measures what ends a reranked run: the 200
// Spanish demo queries' rankings (held in memory by the worker that saved
// them, as in a run) assembled into a run, stored and evaluated, into a
// fresh store each time.
//
//	go test -run '^$' -bench AssembleAndEvaluate ./internal/experiment/
func BenchmarkAssembleAndEvaluate(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, p, run := demoFirstStage(b)
		c, err := PrepareCandidates(ctx, s, nil, CandidatesInput{Run: run.Ref, Corpus: p.Corpus, Topics: p.Topics, Top: 100, RerankKey: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		in := FinishInput{
			Assemble: AssembleInput{Candidates: c.Ref, Tag: "rerank", RerankKey: "bench"},
			Eval:     EvalInput{Qrels: p.Qrels, Metrics: []string{"map", "ndcg_cut.20"}},
		}
		for _, qid := range c.QIDs {
			q, err := LoadQuery(ctx, s, c.Ref, qid)
			if err != nil {
				b.Fatal(err)
			}
			order := slices.Clone(q.IDs())
			slices.Reverse(order)
			qr := QueryRanking{QID: qid, Order: order}
			ref, err := SaveRanking(ctx, s, qr)
			if err != nil {
				b.Fatal(err)
			}
			savedRankings.put(ref, qr)
			in.Assemble.Rankings = append(in.Assemble.Rankings, ref)
		}
		b.StartTimer()
		fin, err := AssembleAndEvaluate(ctx, s, in)
		if err != nil {
			b.Fatal(err)
		}
		if fin.Eval.NumQueries == 0 || fin.Assembled.Run.NumQueries != 200 {
			b.Fatalf("%+v", fin)
		}
	}
}

// demoFirstStage prepares the Spanish demo dataset in a fresh store and
// retrieves its BM25 (OG) top 100: the run the reranking benchmarks rerank.
func demoFirstStage(b *testing.B) (artifact.Store, PreparedDataset, RunInfo) {
	ctx := context.Background()
	root, _ := filepath.Abs("../..")
	d := config.Dataset{Name: "ddtp-es", Corpus: filepath.Join(root, "data/ddtp-es/corpus.jsonl"),
		Topics: filepath.Join(root, "data/ddtp-es/topics.tsv"), Qrels: filepath.Join(root, "data/ddtp-es/qrels.txt"), QueryLang: "en", DocLang: "es"}
	s, err := artifact.NewFS(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	p, err := PrepareDataset(ctx, s, PrepareInput{Dataset: d, Field: "datasets[0]"})
	if err != nil {
		b.Fatal(err)
	}
	idx, err := BuildIndex(ctx, s, IndexInput{Corpus: p.Corpus, Language: "es"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	run, err := Retrieve(ctx, s, RetrieveInput{Index: idx.Ref, Topics: p.Topics, K1: 0.9, B: 0.4, Depth: 100, Tag: "bm25-og"})
	if err != nil {
		b.Fatal(err)
	}
	return s, p, run
}
