package experiment

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/eval"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/trec"
)

// runDemo runs configs/demo.yaml stage by stage without Temporal.
func runDemo(t *testing.T, s artifact.Store, e config.Experiment) []RunResult {
	t.Helper()
	ctx := context.Background()
	var runs []RunResult
	for i, d := range e.Datasets {
		p, err := PrepareDataset(ctx, s, PrepareInput{Dataset: d, Field: "datasets"})
		require.NoError(t, err)
		require.Empty(t, p.Warnings, "demo data is consistent")
		for _, st := range e.FirstStages {
			// Translated stages need translation systems: the end-to-end
			// tests (internal/e2e) check those against the same expectations.
			if !st.AppliesTo(d.Name) || st.Kind != config.KindBM25 || st.Translate != config.TranslateNone {
				continue
			}
			lang := st.Analyzer
			if lang == "" {
				lang = d.DocLang
			}
			ix, err := BuildIndex(ctx, s, IndexInput{Corpus: p.Corpus, Language: lang}, nil)
			require.NoError(t, err)
			require.Equal(t, p.NumDocs, ix.NumDocs)
			run, err := Retrieve(ctx, s, RetrieveInput{Index: ix.Ref, Topics: p.Topics, K1: *st.K1, B: *st.B, Depth: st.Depth, Tag: st.Name})
			require.NoError(t, err)
			ev, err := Evaluate(ctx, s, EvalInput{Qrels: p.Qrels, Run: run.Ref, Metrics: e.Metrics, Complete: e.Complete})
			require.NoError(t, err)
			runs = append(runs, RunResult{Dataset: e.Datasets[i].Name, Stage: st.Name, Kind: st.Kind, Run: run, Eval: ev})
		}
	}
	return runs
}

func loadDemo(t *testing.T) config.Experiment {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	e, err := config.Load(filepath.Join(root, "configs", "demo.yaml"), root)
	require.NoError(t, err)
	e = e.WithDefaults()
	require.NoError(t, e.Validate())
	return e
}

// The demo's scores are recorded in configs/demo.yaml; this fails when they
// drift (a changed analyzer, BM25 or evaluation) — like Pyserini's
// reproduction configs. A second pass is served entirely from the memo.
func TestDemoScoresMatchRecordedValues(t *testing.T) {
	e := loadDemo(t)
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	runs := runDemo(t, s, e)
	for _, r := range runs {
		t.Logf("%s: %v", r.Name(), r.Eval.Summary)
	}
	require.NotEmpty(t, e.Expected)
	var mine []config.Expectation
	for _, x := range e.Expected {
		for _, r := range runs {
			if r.Name() == x.Run {
				mine = append(mine, x)
			}
		}
	}
	require.NotEmpty(t, mine)
	e.Expected = mine
	require.Empty(t, CheckExpected(e, runs))

	again := runDemo(t, s, e)
	for i, r := range again {
		require.True(t, r.Run.Cached && r.Eval.Cached)
		require.Equal(t, runs[i].Eval.Summary, r.Eval.Summary)
	}
}

// The stored run is a valid TREC run with at most depth hits per query, and
// the stored per-query evaluation is what `starter eval -q` prints for it.
func TestRetrieveWritesTRECRunAndEvalMatchesCLI(t *testing.T) {
	e := loadDemo(t)
	e.Datasets = e.Datasets[:1]
	e.FirstStages[0].Depth = 10
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	ctx := context.Background()
	runs := runDemo(t, s, e)
	require.Len(t, runs, 1)
	rb, err := artifact.ReadAll(ctx, s, runs[0].Run.Ref)
	require.NoError(t, err)
	run, err := trec.ParseRun(bytes.NewReader(rb), "run")
	require.NoError(t, err)
	for qid, hits := range run.Entries {
		require.LessOrEqual(t, len(hits), 10, qid)
	}
	dir := t.TempDir()
	runPath := filepath.Join(dir, "run.trec")
	require.NoError(t, os.WriteFile(runPath, rb, 0o644))
	var stdout, stderr bytes.Buffer
	args := []string{"-q"}
	for _, m := range e.Metrics {
		args = append(args, "-m", m)
	}
	args = append(args, e.Datasets[0].Qrels, runPath)
	require.Equal(t, 0, eval.Main(args, &stdout, &stderr), stderr.String())
	perQuery, err := artifact.ReadAll(ctx, s, runs[0].Eval.PerQuery)
	require.NoError(t, err)
	require.Equal(t, stdout.String(), string(perQuery))
}

func TestPrepareRejectsBadFilesNamingThem(t *testing.T) {
	e := loadDemo(t)
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	ctx := context.Background()
	dir := t.TempDir()

	d := e.Datasets[0]
	d.Corpus = filepath.Join(dir, "missing.jsonl")
	_, err = PrepareDataset(ctx, s, PrepareInput{Dataset: d, Field: "datasets[0]"})
	require.True(t, inputerr.Is(err))
	require.Contains(t, err.Error(), "datasets[0].corpus")

	d = e.Datasets[0]
	d.Corpus = dir
	_, err = PrepareDataset(ctx, s, PrepareInput{Dataset: d, Field: "datasets[0]"})
	require.ErrorContains(t, err, "is a directory")

	d = e.Datasets[0]
	bad := filepath.Join(dir, "corpus.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte("{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"a\",\"text\":\"y\"}\n"), 0o644))
	d.Corpus = bad
	_, err = PrepareDataset(ctx, s, PrepareInput{Dataset: d, Field: "datasets[0]"})
	require.True(t, inputerr.Is(err))
	require.Contains(t, err.Error(), bad+":2")
	objs, _ := filepath.Glob(filepath.Join(s.Root(), "memo", "*", "*"))
	require.Empty(t, objs, "a failed stage records nothing")

	empty := filepath.Join(dir, "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	d.Corpus = empty
	_, err = PrepareDataset(ctx, s, PrepareInput{Dataset: d, Field: "datasets[0]"})
	require.True(t, inputerr.Is(err))
	require.True(t, strings.Contains(err.Error(), empty))
}

func TestImportRunRejectsDuplicatesAndKeepsBytes(t *testing.T) {
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	ctx := context.Background()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.trec")
	content := "q1 Q0 d1 1 2.50 tag\nq1 Q0 d2 2 2.5 tag\n"
	require.NoError(t, os.WriteFile(good, []byte(content), 0o644))
	info, err := ImportRun(ctx, s, good, "first_stages[0].path")
	require.NoError(t, err)
	b, err := artifact.ReadAll(ctx, s, info.Ref)
	require.NoError(t, err)
	require.Equal(t, content, string(b), "scores keep their original text")

	dup := filepath.Join(dir, "dup.trec")
	require.NoError(t, os.WriteFile(dup, []byte("q1 Q0 d1 1 2.5 t\nq1 Q0 d1 2 2.4 t\n"), 0o644))
	_, err = ImportRun(ctx, s, dup, "first_stages[0].path")
	require.True(t, inputerr.Is(err))
	require.Contains(t, err.Error(), dup+":2")
}

// A CLEF-style dataset (SGML directory tree in ISO-8859-1, CLEF topics with
// language-prefixed tags) is prepared and retrieved like any other; renaming
// nothing but moving the directory keeps the memo.
func TestCLEFDatasetThroughPipeline(t *testing.T) {
	ctx := context.Background()
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs", "DE", "fr94")
	require.NoError(t, os.MkdirAll(docs, 0o755))
	// "Häuser" and "Straße" in ISO-8859-1 bytes.
	sgml := "<DOC>\n<DOCNO>FR940101-000001</DOCNO>\n<TITLE>H\xe4user</TITLE>\n<TEXT>Die H\xe4user an der Stra\xdfe.</TEXT>\n</DOC>\n" +
		"<DOC>\n<DOCNO>FR940101-000002</DOCNO>\n<TEXT>Ein Auto f\xe4hrt.</TEXT>\n</DOC>\n"
	require.NoError(t, os.WriteFile(filepath.Join(docs, "fr940101.sgml"), []byte(sgml), 0o644))
	topics := filepath.Join(dir, "Top-de03.txt")
	require.NoError(t, os.WriteFile(topics, []byte("<top>\n<num>C141</num>\n<DE-title>H\xe4user</DE-title>\n<DE-desc>Finde H\xe4user.</DE-desc>\n<DE-narr>egal</DE-narr>\n</top>\n"), 0o644))
	qrels := filepath.Join(dir, "qrels_DE")
	require.NoError(t, os.WriteFile(qrels, []byte("C141 0 FR940101-000001 1\nC141 0 FR940101-000002 0\n"), 0o644))
	d := config.Dataset{Name: "clef", Corpus: filepath.Join(dir, "docs", "DE"), CorpusFormat: "clef", Encoding: "iso-8859-1",
		Topics: topics, TopicsFormat: "clef", Qrels: qrels, QueryLang: "de", DocLang: "de"}
	p, err := PrepareDataset(ctx, s, PrepareInput{Dataset: d, Field: "datasets[0]"})
	require.NoError(t, err)
	require.Equal(t, 2, p.NumDocs)
	got, err := LoadTopics(ctx, s, p.Topics)
	require.NoError(t, err)
	require.Equal(t, "Häuser Finde Häuser.", got[0].Query, "title + desc, decoded from ISO-8859-1")
	ix, err := BuildIndex(ctx, s, IndexInput{Corpus: p.Corpus, Language: "de"}, nil)
	require.NoError(t, err)
	run, err := Retrieve(ctx, s, RetrieveInput{Index: ix.Ref, Topics: p.Topics, K1: 0.9, B: 0.4, Depth: 10, Tag: "t"})
	require.NoError(t, err)
	ev, err := Evaluate(ctx, s, EvalInput{Qrels: p.Qrels, Run: run.Ref, Metrics: []string{"map"}})
	require.NoError(t, err)
	require.Equal(t, []MetricValue{{Name: "map", Value: 1}}, ev.Summary)

	moved := filepath.Join(t.TempDir(), "elsewhere")
	require.NoError(t, os.Rename(filepath.Join(dir, "docs"), moved))
	d.Corpus = filepath.Join(moved, "DE")
	p2, err := PrepareDataset(ctx, s, PrepareInput{Dataset: d, Field: "datasets[0]"})
	require.NoError(t, err)
	require.True(t, p2.Cached)
	require.Equal(t, p.Corpus, p2.Corpus)
}
