package activities_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/clirflow/clirflow/activities"
	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/dataset"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/llm"
	"github.com/clirflow/clirflow/internal/rerank"
	"github.com/clirflow/clirflow/internal/translate"
)

// The bad-input corpus (issue 7, R3): every kind of broken input a researcher
// can hand clirflow, each run through the code path that meets it in
// production — config.Load + Validate + CheckFiles (what the starter and the
// Experiment workflow run) or the real activity in Temporal's test activity
// environment over a filesystem artifact store. Each case must be handled:
//
//   - nothing panics;
//   - a failure names the place (FILE:LINE for file content, the config field
//     path for configs) — the case gives the substring;
//   - an activity failure is a non-retryable ApplicationError of type
//     InvalidInput (retrying a bad file cannot help), unless the case says why
//     a retry is the right answer;
//   - a failure leaves nothing that looks complete: no new memo entry, an
//     empty tmp/ in the store, every object intact (its content hashes to its
//     name), and a second attempt fails the same way instead of returning a
//     cached success;
//   - inputs that are legal but suspicious succeed with the warning or repair
//     counted, which the case checks.
//
// Small inputs live in testdata/badinput (good/ is the valid dataset every
// case breaks in one way); big and binary ones are generated in t.TempDir().

const badDir = "testdata/badinput"

// badCase is one row of the corpus.
type badCase struct {
	name string
	// input builds the input and returns the attempt to make.
	input func(h *harness) attempt
	// want is the substring a failure must contain (the place, then the
	// problem); empty when the input must be accepted.
	want string
	// retry, when set, says why the failure is retryable on purpose.
	retry string
	// ok checks the result of an accepted input (warnings, repairs, counts).
	ok func(t *testing.T, h *harness, v converter.EncodedValue)
}

// attempt runs the code under test once; it is called twice for failures.
type attempt struct {
	activity bool // false: a config check (Load, Validate, CheckFiles)
	run      func() (converter.EncodedValue, error)
}

func TestBadInput(t *testing.T) {
	cases := badCases()
	tried, handled := 0, 0
	start := time.Now()
	for _, c := range cases {
		tried++
		if t.Run(c.name, func(t *testing.T) { runBadCase(t, c) }) {
			handled++
		}
	}
	t.Run("summary", func(t *testing.T) {
		t.Logf("bad input: %d cases tried, %d handled (%s)", tried, handled, time.Since(start).Round(time.Millisecond))
		require.GreaterOrEqual(t, tried, 30, "the corpus has at least 30 cases")
		require.Equal(t, tried, handled, "every bad input is handled")
	})
}

func runBadCase(t *testing.T, c badCase) {
	h := newHarness(t)
	a := c.input(h)
	before := h.memos()
	v, err := protect(t, a.run)
	if c.want == "" {
		require.NoError(t, err, "this input must be accepted")
		if c.ok != nil {
			c.ok(t, h, v)
		}
		if a.activity {
			h.requireNoPartial(false)
		}
		return
	}
	require.Error(t, err, "this input must be refused")
	msg := err.Error()
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		t.Logf("refused: %s", ae.Message())
	} else {
		t.Logf("refused: %s", msg)
	}
	require.Contains(t, msg, c.want, "the error names the place")
	if a.activity {
		require.True(t, errors.As(err, &ae), "want a *temporal.ApplicationError, got %T: %v", err, err)
		if c.retry == "" {
			require.True(t, ae.NonRetryable(), "retrying cannot fix bad input: %v", err)
			require.Equal(t, activities.ErrTypeInvalidInput, ae.Type())
		} else {
			require.False(t, ae.NonRetryable(), "retry is the answer here: %s", c.retry)
		}
		require.Equal(t, before, h.memos(), "no memo entry for a failed stage")
		h.requireNoPartial(true)
	} else {
		// The starter reports input errors and stops; the workflow fails the
		// experiment at once on them (anything else would be retried).
		require.True(t, inputerr.Is(err), "want an *inputerr.Error, got %T: %v", err, err)
	}
	_, err2 := protect(t, a.run)
	require.Error(t, err2, "a second attempt must not return a cached success")
	require.Equal(t, msg, err2.Error(), "a second attempt fails the same way")
}

// protect runs an attempt and fails the test if it panicked, in the test's
// goroutine (config code) or in the activity (Temporal reports a PanicError).
func protect(t *testing.T, run func() (converter.EncodedValue, error)) (converter.EncodedValue, error) {
	t.Helper()
	var (
		v        converter.EncodedValue
		err      error
		panicked any
	)
	func() {
		defer func() { panicked = recover() }()
		v, err = run()
	}()
	require.Nil(t, panicked, "the code under test panicked")
	var pe *temporal.PanicError
	require.False(t, errors.As(err, &pe), "the activity panicked: %v", err)
	return v, err
}

// harness is one case's world: a fresh artifact store and activity
// environments for the CPU and LLM workers.
type harness struct {
	t     *testing.T
	dir   string
	store *artifact.FS
	env   *testsuite.TestActivityEnvironment
	lenv  *testsuite.TestActivityEnvironment
	acts  *activities.Activities
	lacts *activities.LLMActivities
	// translator answers Translate calls of the fake translation system.
	translator func(texts []string) []string
	// answer is the fake LLM's reply to every window.
	answer string
}

var quietLogger = log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

func newHarness(t *testing.T) *harness {
	dir := t.TempDir()
	store, err := artifact.NewFS(filepath.Join(dir, "store"))
	require.NoError(t, err)
	h := &harness{t: t, dir: dir, store: store}
	h.acts = &activities.Activities{
		Store:            store,
		TranslationCache: &translate.MemCache{},
		Translators: func(config.Translator) (translate.Translator, error) {
			return &fakeTranslator{h: h}, nil
		},
		Tokenizer: rerank.Words(),
	}
	h.lacts = &activities.LLMActivities{
		Store:   store,
		Clients: func(config.Endpoint) (experiment.Chatter, error) { return &fakeChatter{h: h}, nil },
	}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quietLogger)
	h.env = s.NewTestActivityEnvironment()
	h.env.RegisterActivity(h.acts)
	h.lenv = s.NewTestActivityEnvironment()
	h.lenv.RegisterActivity(h.lacts)
	return h
}

// fakeTranslator is the translation system of the translator cases.
type fakeTranslator struct{ h *harness }

func (f *fakeTranslator) ID(p translate.Pair) string { return "fake/" + p.String() }
func (f *fakeTranslator) Pairs(context.Context) ([]translate.Pair, error) {
	return []translate.Pair{{Src: "en", Tgt: "es"}, {Src: "es", Tgt: "en"}}, nil
}
func (f *fakeTranslator) Translate(_ context.Context, _ translate.Pair, texts []string) ([]string, error) {
	return f.h.translator(texts), nil
}

// fakeChatter is the LLM endpoint of the reranking cases.
type fakeChatter struct{ h *harness }

func (f *fakeChatter) ID() string { return "fake-llm/model" }
func (f *fakeChatter) Chat(context.Context, llm.Request) (llm.Response, error) {
	return llm.Response{Content: f.h.answer, PromptTokens: 100, CompletionTokens: 10, Model: "model"}, nil
}

// good returns the path of a file of the valid dataset.
func good(name string) string { return abs(filepath.Join(badDir, "good", name)) }

// bad returns the path of a file under testdata/badinput.
func bad(rel string) string { return abs(filepath.Join(badDir, rel)) }

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

// write creates a generated input file.
func (h *harness) write(name string, data []byte) string {
	p := filepath.Join(h.dir, "in", name)
	require.NoError(h.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(h.t, os.WriteFile(p, data, 0o644))
	return p
}

// tinyDataset is the valid dataset with the files of change replaced.
func tinyDataset(change func(d *config.Dataset)) config.Dataset {
	d := config.Dataset{Name: "tiny", Corpus: good("corpus.jsonl"), CorpusFormat: "jsonl", Topics: good("topics.tsv"),
		TopicsFormat: "auto", Qrels: good("qrels.txt"), QueryLang: "en", DocLang: "es"}
	if change != nil {
		change(&d)
	}
	return d
}

// prepare is the PrepareDataset activity over a dataset.
func (h *harness) prepare(d config.Dataset) attempt {
	return attempt{activity: true, run: func() (converter.EncodedValue, error) {
		return h.env.ExecuteActivity(h.acts.PrepareDataset, experiment.PrepareInput{Dataset: d, Field: "datasets[0]"})
	}}
}

// prepared runs PrepareDataset on the valid dataset (a precondition).
func (h *harness) prepared() experiment.PreparedDataset {
	v, err := h.prepare(tinyDataset(nil)).run()
	require.NoError(h.t, err)
	var out experiment.PreparedDataset
	require.NoError(h.t, v.Get(&out))
	return out
}

// importRun is the ImportRun activity over a run file.
func (h *harness) importRun(path string) attempt {
	return attempt{activity: true, run: func() (converter.EncodedValue, error) {
		return h.env.ExecuteActivity(h.acts.ImportRun, activities.ImportRunInput{Path: path, Field: "first_stages[1].path"})
	}}
}

// window prepares candidates from the valid run and returns the attempt to
// rerank the window [0,5) of q1 with the fake LLM answering answer.
func (h *harness) window(answer string) attempt {
	ds := h.prepared()
	v, err := h.importRun(good("run.trec")).run()
	require.NoError(h.t, err)
	var run experiment.RunInfo
	require.NoError(h.t, v.Get(&run))
	v, err = h.env.ExecuteActivity(h.acts.PrepareCandidates, experiment.CandidatesInput{
		Run: run.Ref, Corpus: ds.Corpus, Topics: ds.Topics, Top: 100, RerankKey: "fake"})
	require.NoError(h.t, err)
	var cands experiment.CandidatesInfo
	require.NoError(h.t, v.Get(&cands))
	h.answer = answer
	return attempt{activity: true, run: func() (converter.EncodedValue, error) {
		return h.lenv.ExecuteActivity(h.lacts.RerankWindow, experiment.WindowInput{
			Candidates: cands.Ref, QID: "q1", Start: 0, End: 5, Prompt: "rankgpt", Endpoint: config.Endpoint{Name: "fake"}})
	}}
}

// translateAttempt translates the valid dataset's queries (or documents) with
// the fake translator answering with fn.
func (h *harness) translateAttempt(what string, fn func(texts []string) []string) attempt {
	ds := h.prepared()
	h.translator = fn
	src, from, to := ds.Topics, "en", "es"
	if what == config.TranslateDocuments {
		src, from, to = ds.Corpus, "es", "en"
	}
	in := experiment.TranslateInput{Source: src, What: what, Src: from, Tgt: to, Field: "first_stages[1]",
		Translator: config.Translator{Name: "fake", Kind: config.TranslatorHTTP, BatchSize: 32, Concurrency: 1}}
	return attempt{activity: true, run: func() (converter.EncodedValue, error) {
		return h.env.ExecuteActivity(h.acts.Translate, in)
	}}
}

// loadConfig is what the starter runs on a config file (and the workflow
// runs Validate again): Load, Validate, CheckFiles; the first error counts.
func loadConfig(path string) attempt {
	return attempt{run: func() (converter.EncodedValue, error) {
		e, err := config.Load(path, abs(badDir))
		if err != nil {
			return nil, err
		}
		if err := e.Validate(); err != nil {
			return nil, err
		}
		return nil, e.CheckFiles()
	}}
}

// jsonInput is a workflow input typed into the Temporal UI.
func jsonInput(doc string) attempt {
	return attempt{run: func() (converter.EncodedValue, error) {
		var e config.Experiment
		if err := json.Unmarshal([]byte(doc), &e); err != nil {
			return nil, err
		}
		return nil, e.Validate()
	}}
}

// memos lists the store's memo entries.
func (h *harness) memos() []string {
	var out []string
	root := filepath.Join(h.store.Root(), "memo")
	require.NoError(h.t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	}))
	sort.Strings(out)
	return out
}

var (
	objectName = regexp.MustCompile(`^objects/[0-9a-f]{2}/[0-9a-f]{64}$`)
	memoName   = regexp.MustCompile(`^memo/[0-9a-f]{2}/[0-9a-f]{64}\.json$`)
)

// requireNoPartial checks the store holds nothing half-written: tmp/ holds no file
// and (with rehash) every object's content hashes to its name. Every name in
// the store is a hash (no document id or other user string became a path).
func (h *harness) requireNoPartial(rehash bool) {
	root := h.store.Root()
	var tmp []string
	require.NoError(h.t, filepath.WalkDir(filepath.Join(root, "tmp"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			tmp = append(tmp, p)
		}
		return err
	}))
	require.Empty(h.t, tmp, "no write in progress is left behind (tmp/ and its shards)")
	require.NoError(h.t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch {
		case memoName.MatchString(rel):
		case objectName.MatchString(rel) && !rehash:
		case objectName.MatchString(rel):
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			sum := sha256.New()
			if _, err := io.Copy(sum, f); err != nil {
				return err
			}
			if hex.EncodeToString(sum.Sum(nil)) != filepath.Base(p) {
				return fmt.Errorf("object %s does not match its content: a partial result", rel)
			}
		default:
			return fmt.Errorf("unexpected file %s in the store", rel)
		}
		return nil
	}))
}

func get[T any](t *testing.T, v converter.EncodedValue) T {
	var out T
	require.NoError(t, v.Get(&out))
	return out
}

// peakHeap runs fn while sampling the live heap and returns its growth.
func peakHeap(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := read()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

func badCases() []badCase {
	cfg := func(name string) func(*harness) attempt {
		return func(*harness) attempt { return loadConfig(bad("config/" + name + ".yaml")) }
	}
	withFile := func(field string, path func(h *harness) string) func(*harness) attempt {
		return func(h *harness) attempt {
			p := path(h)
			return h.prepare(tinyDataset(func(d *config.Dataset) {
				switch field {
				case "corpus":
					d.Corpus = p
				case "topics":
					d.Topics = p
				case "qrels":
					d.Qrels = p
				}
			}))
		}
	}
	file := func(rel string) func(*harness) string { return func(*harness) string { return bad(rel) } }
	repairs := func(check func(t *testing.T, r experiment.WindowResult)) func(*testing.T, *harness, converter.EncodedValue) {
		return func(t *testing.T, h *harness, v converter.EncodedValue) {
			r := get[experiment.WindowResult](t, v)
			require.Len(t, r.Order, 5, "the window keeps every candidate")
			require.ElementsMatch(t, []string{"d1", "d2", "d3", "d4", "d5"}, r.Order)
			require.Equal(t, r.Repairs.Total(), r.Stats.Repairs, "repairs are counted in the call's stats")
			ok, err := h.store.Exists(context.Background(), r.Audit)
			require.NoError(t, err)
			require.True(t, ok, "the answer is kept in the audit record")
			check(t, r)
		}
	}
	const apiKey1 = "sk-proj-Zx81QaLmP0oW3eR5tY7uI9oPaS2dF4gH6jK8lZ0xC"
	const apiKey2 = "hf_QzXwVuTsRqPoNmLkJiHgFeDcBa1234567890"

	return []badCase{
		// ---- config: config.Load + Validate + CheckFiles ----
		{name: "config/the base config is valid (control)", input: cfg("base")},
		{name: "config/variable names in api_key_env are accepted", input: cfg("api_key_env_ok")},
		{name: "config/unknown key in YAML", input: cfg("unknown_key"), want: `unknown_key.yaml:10: datasets[0].colour: unknown field "colour"`},
		{name: "config/unknown key in the UI's JSON input", input: func(*harness) attempt {
			return jsonInput(`{"name":"x","datasets":[{"name":"d","corpus":"c","topics":"t","qrels":"q","query_lang":"en","doc_lang":"es","colour":"red"}],
				"first_stages":[{"name":"bm25","kind":"bm25"}],"metrics":["map"]}`)
		}, want: "datasets[0].colour: unknown key"},
		{name: "config/wrong type", input: cfg("wrong_type"), want: "wrong_type.yaml:11: first_stages[0].k1: cannot unmarshal string into float64"},
		{name: "config/missing file", input: cfg("missing_file"), want: "datasets[0].qrels: cannot read"},
		{name: "config/directory for the topics file", input: cfg("dir_as_file"), want: "datasets[0].topics: " + bad("good") + " is a directory, expected a file"},
		{name: "config/directory for a run file", input: cfg("run_dir"), want: "first_stages[1].path: " + bad("good") + " is a directory"},
		{name: "config/unknown metric", input: cfg("unknown_metric"), want: `metrics[1]: unknown measure "ndcg_cutt"`},
		{name: "config/negative depth", input: cfg("negative_depth"), want: "first_stages[0].depth: must be between 1 and 10000, got -5"},
		{name: "config/negative k1", input: cfg("negative_k1"), want: "first_stages[1].k1: must be a finite number ≥ 0"},
		{name: "config/API key as endpoint api_key_env", input: func(*harness) attempt {
			return noSecret(loadConfig(bad("config/api_key_endpoint.yaml")), apiKey1)
		}, want: "endpoints[0].api_key_env: must be the NAME of an environment variable"},
		{name: "config/API key as translator api_key_env", input: func(*harness) attempt {
			return noSecret(loadConfig(bad("config/api_key_translator.yaml")), apiKey2)
		}, want: "translators[0].api_key_env: must be the NAME of an environment variable"},
		{name: "config/YAML syntax error", input: cfg("syntax"), want: "syntax.yaml:7"},

		// ---- topics: PrepareDataset ----
		{name: "topics/binary file", input: withFile("topics", func(h *harness) string {
			b := append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"), bytes.Repeat([]byte{0x00, 0xff, 0x10, 0x8b, '\n'}, 2000)...)
			return h.write("topics.bin", b)
		}), want: "topics.bin:1: invalid UTF-8 (byte 17 of the file)"},
		{name: "topics/NUL-filled file", input: withFile("topics", func(h *harness) string {
			return h.write("zeros.tsv", make([]byte, 4096))
		}), want: "zeros.tsv:1: malformed topic line"},
		{name: "topics/ISO-8859-1 declared as UTF-8", input: func(h *harness) attempt {
			p := h.write("latin1.tsv", []byte("q1\tfile manager\nq2\tcaf\xe9 and cr\xe8me br\xfbl\xe9e\n"))
			return h.prepare(tinyDataset(func(d *config.Dataset) { d.Topics, d.Encoding = p, "utf-8" }))
		}, want: "latin1.tsv:2: invalid UTF-8"},
		{name: "topics/empty query", input: withFile("topics", file("topics/empty_query.tsv")), want: `empty_query.tsv:2: topic "q2" has an empty query`},
		{name: "topics/duplicate ids", input: withFile("topics", file("topics/duplicate_ids.tsv")), want: `duplicate_ids.tsv:3: duplicate topic id "q1" (first at line 1)`},
		{name: "topics/100,000 queries", input: func(h *harness) attempt {
			var b bytes.Buffer
			for i := 1; i <= 100_000; i++ {
				fmt.Fprintf(&b, "q%d\tquery number %d about file managers\n", i, i)
			}
			a := withFile("topics", func(h *harness) string { return h.write("topics100k.tsv", b.Bytes()) })(h)
			return timed(h, a, 10*time.Second)
		}, ok: func(t *testing.T, _ *harness, v converter.EncodedValue) {
			out := get[experiment.PreparedDataset](t, v)
			require.Equal(t, 100_000, out.NumTopics)
			require.Len(t, out.Warnings, 1)
			require.Contains(t, out.Warnings[0], "99998 of 100000 topics have no judgements")
		}},

		// ---- qrels: PrepareDataset ----
		{name: "qrels/malformed line", input: withFile("qrels", file("qrels/malformed.txt")), want: "malformed.txt:2: qrels line needs 4 fields"},
		{name: "qrels/non-integer relevance", input: withFile("qrels", file("qrels/nonint.txt")), want: `nonint.txt:3: relevance "high" is not an integer`},
		{name: "qrels/unknown query: a warning", input: withFile("qrels", file("qrels/unknown_query.txt")),
			ok: func(t *testing.T, _ *harness, v converter.EncodedValue) {
				out := get[experiment.PreparedDataset](t, v)
				require.Len(t, out.Warnings, 1)
				require.Contains(t, out.Warnings[0], "1 judged queries have no topic")
				require.Contains(t, out.Warnings[0], "q999")
				require.Equal(t, 3, out.NumJudged)
			}},
		{name: "qrels/docno with a NUL byte", input: withFile("qrels", func(h *harness) string {
			return h.write("nul.qrels", []byte("q1 0 d1 1\nq2 0 d\x002 1\n"))
		}), want: `nul.qrels:2: document id "d\x002" contains U+0000`},
		{name: "qrels/duplicate judgement", input: withFile("qrels", file("qrels/duplicate.txt")), want: `duplicate.txt:3: duplicate judgment for document "d1" in query "q1"`},

		// ---- corpora: PrepareDataset ----
		{name: "corpus/duplicate doc ids", input: withFile("corpus", file("corpus/duplicate_ids.jsonl")), want: `duplicate_ids.jsonl:3: duplicate document id "d1" (first at line 1)`},
		{name: "corpus/doc id ../../etc/passwd is data", input: func(h *harness) attempt {
			ds := withFile("corpus", file("corpus/path_id.jsonl"))(h)
			// The id must survive as data through the stages that use ids:
			// prepare, import a run naming it, render the reranker's candidates.
			run := h.write("passwd.trec", []byte("q1 Q0 ../../etc/passwd 1 3 given\nq1 Q0 d1 2 2 given\n"))
			return attempt{activity: true, run: func() (converter.EncodedValue, error) {
				v, err := ds.run()
				if err != nil {
					return nil, err
				}
				prep := get[experiment.PreparedDataset](h.t, v)
				if v, err = h.importRun(run).run(); err != nil {
					return nil, err
				}
				ri := get[experiment.RunInfo](h.t, v)
				return h.env.ExecuteActivity(h.acts.PrepareCandidates, experiment.CandidatesInput{
					Run: ri.Ref, Corpus: prep.Corpus, Topics: prep.Topics, Top: 10, RerankKey: "k"})
			}}
		}, ok: func(t *testing.T, h *harness, v converter.EncodedValue) {
			ci := get[experiment.CandidatesInfo](t, v)
			q, err := experiment.LoadQuery(context.Background(), h.store, ci.Ref, "q1")
			require.NoError(t, err)
			require.Equal(t, []string{"../../etc/passwd", "d1"}, q.IDs())
			p, _ := q.Passage("../../etc/passwd")
			require.Contains(t, p, "root:x:0:0")
			h.requireNoPartial(true) // every name in the store is a hash
			_, err = os.Stat(filepath.Join(h.store.Root(), "objects", "..", "..", "etc", "passwd"))
			require.True(t, os.IsNotExist(err))
		}},
		{name: "corpus/doc id with a NUL byte", input: withFile("corpus", file("corpus/nul_id.jsonl")), want: `nul_id.jsonl:2: document id "d\x002" contains U+0000`},
		{name: "corpus/doc id with whitespace", input: withFile("corpus", file("corpus/space_id.jsonl")), want: `space_id.jsonl:3: document id "doc 3" contains U+0020`},
		{name: "corpus/a 50 MB document", input: func(h *harness) attempt {
			const size = 50 << 20
			var b bytes.Buffer
			b.Grow(size + 200)
			b.WriteString(`{"id":"d1","text":"El gestor de archivos."}` + "\n" + `{"id":"huge","text":"`)
			words := []string{"gestor ", "de ", "archivos ", "editor ", "texto ", "juego ", "estrategia ", "correo "}
			for i := 0; b.Len() < size; i++ {
				b.WriteString(words[i%len(words)])
			}
			b.WriteString("\"}\n")
			a := withFile("corpus", func(h *harness) string { return h.write("huge.jsonl", b.Bytes()) })(h)
			b = bytes.Buffer{}
			return bounded(h, timed(h, a, 10*time.Second), 8*size)
		}, ok: func(t *testing.T, _ *harness, v converter.EncodedValue) {
			require.Equal(t, 2, get[experiment.PreparedDataset](t, v).NumDocs)
		}},
		{name: "corpus/empty file", input: withFile("corpus", file("corpus/empty.jsonl")), want: "empty.jsonl: empty corpus: no documents"},
		{name: "corpus/blank lines only", input: withFile("corpus", func(h *harness) string { return h.write("blank.jsonl", []byte("\n  \n\r\n")) }), want: "blank.jsonl: empty corpus"},
		{name: "corpus/truncated JSON line", input: withFile("corpus", file("corpus/truncated.jsonl")), want: "truncated.jsonl:3: invalid JSON"},
		{name: "corpus/CLEF file named .gz that is not gzip", input: func(h *harness) attempt {
			p := h.write("clef/fr/fr0101.sgml.gz", append([]byte("PK\x03\x04\x14\x00\x00\x00"), bytes.Repeat([]byte{0xc3, 0x28, 0xa0, 0xa1}, 64)...))
			return h.prepare(tinyDataset(func(d *config.Dataset) { d.Corpus, d.CorpusFormat = filepath.Dir(filepath.Dir(p)), "clef" }))
		}, want: "fr0101.sgml.gz: byte 8: invalid UTF-8 (the file is named .gz but is not gzip data)"},
		{name: "corpus/CLEF gzip truncated", input: func(h *harness) attempt {
			var z bytes.Buffer
			zw, err := gzip.NewWriterLevel(&z, gzip.NoCompression) // stored blocks: the cut is at a known line
			require.NoError(h.t, err)
			for i := 0; i < 2000; i++ {
				fmt.Fprintf(zw, "<DOC>\n<DOCNO>FR-%05d</DOCNO>\n<TEXT>Le gestionnaire de fichiers numéro %d.</TEXT>\n</DOC>\n", i, i)
			}
			require.NoError(h.t, zw.Close())
			p := h.write("clef/fr0102.sgml.gz", z.Bytes()[:z.Len()/2])
			return h.prepare(tinyDataset(func(d *config.Dataset) { d.Corpus, d.CorpusFormat = filepath.Dir(p), "clef" }))
		}, want: "fr0102.sgml.gz:4025: read error in the gzip data (truncated or damaged file): unexpected EOF"},

		// ---- run files: ImportRun ----
		{name: "run/negative scores are legal", input: func(h *harness) attempt { return h.importRun(bad("run/negative.trec")) },
			ok: func(t *testing.T, _ *harness, v converter.EncodedValue) {
				require.Equal(t, 2, get[experiment.RunInfo](t, v).NumQueries)
			}},
		{name: "run/NaN score", input: func(h *harness) attempt { return h.importRun(bad("run/nan.trec")) }, want: `nan.trec:2: score "NaN" is not a finite number`},
		{name: "run/missing columns", input: func(h *harness) attempt { return h.importRun(bad("run/missing_columns.trec")) }, want: "missing_columns.trec:2: run line needs 6 fields"},
		{name: "run/duplicate docs per query", input: func(h *harness) attempt { return h.importRun(bad("run/duplicate_docs.trec")) }, want: `duplicate_docs.trec:3: duplicate document "d1" in query "q1"`},
		{name: "run/docid with a NUL byte", input: func(h *harness) attempt {
			return h.importRun(h.write("nul.trec", []byte("q1 Q0 d1 1 9.5 given\nq1 Q0 d\x002 2 7.25 given\n")))
		}, want: `nul.trec:2: document id "d\x002" contains U+0000`},
		{name: "run/file deleted after the starter checked it", input: func(h *harness) attempt { return h.importRun(filepath.Join(h.dir, "gone.trec")) },
			want: "first_stages[1].path: cannot read"},

		// ---- LLM answers: RerankWindow (repaired and counted) ----
		{name: "llm/garbage answer", input: func(h *harness) attempt { return h.window("I'm sorry, as an AI I cannot rank passages.") },
			ok: repairs(func(t *testing.T, r experiment.WindowResult) {
				require.True(t, r.Repairs.Empty)
				require.Equal(t, 5, r.Repairs.Missing)
				require.Equal(t, 1, r.Stats.Unusable)
				require.Equal(t, []string{"d1", "d2", "d3", "d4", "d5"}, r.Order, "an unusable answer keeps the order")
			})},
		{name: "llm/empty answer", input: func(h *harness) attempt { return h.window("") },
			ok: repairs(func(t *testing.T, r experiment.WindowResult) {
				require.True(t, r.Repairs.Empty)
				require.Equal(t, 1, r.Stats.Unusable)
			})},
		{name: "llm/out-of-range ids", input: func(h *harness) attempt { return h.window("[3] > [42] > [1] > [0] > [7]") },
			ok: repairs(func(t *testing.T, r experiment.WindowResult) {
				require.Equal(t, 3, r.Repairs.OutOfRange)
				require.Equal(t, 3, r.Repairs.Missing)
				require.Equal(t, []string{"d3", "d1", "d2", "d4", "d5"}, r.Order)
				require.Equal(t, 6, r.Stats.Repairs)
			})},
		{name: "llm/duplicates after a think block", input: func(h *harness) attempt {
			return h.window("<think>[5] is best</think> [2] > [2] > [5] > [2] > [1] > [3] > [4]")
		}, ok: repairs(func(t *testing.T, r experiment.WindowResult) {
			require.True(t, r.Repairs.ThinkDropped)
			require.Equal(t, 2, r.Repairs.Duplicates)
			require.Equal(t, []string{"d2", "d5", "d1", "d3", "d4"}, r.Order)
		})},

		// ---- translator output: Translate with a fake translation system ----
		// A translator answering with the wrong number of texts breaks its
		// contract; the same batch would get the same answer again, so this
		// is not retried (batches that succeeded stay in the sentence cache).
		{name: "translator/fewer lines than inputs", input: func(h *harness) attempt {
			return h.translateAttempt(config.TranslateQueries, func(texts []string) []string { return texts[:len(texts)-1] })
		}, want: "fake/en→es: returned 1 texts for 2"},
		{name: "translator/no output at all", input: func(h *harness) attempt {
			return h.translateAttempt(config.TranslateDocuments, func([]string) []string { return nil })
		}, want: "fake/es→en: returned 0 texts for"},
		{name: "translator/empty translations of queries", input: func(h *harness) attempt {
			return h.translateAttempt(config.TranslateQueries, func(texts []string) []string { return make([]string, len(texts)) })
		}, ok: func(t *testing.T, h *harness, v converter.EncodedValue) {
			info := get[experiment.TranslationInfo](t, v)
			require.Equal(t, 2, info.Texts)
			topics, err := experiment.LoadTopics(context.Background(), h.store, info.Ref)
			require.NoError(t, err)
			require.Equal(t, []dataset.Topic{{ID: "q1", Query: "file manager"}, {ID: "q2", Query: "text editor"}}, topics,
				"a query translated to nothing keeps its text rather than retrieving nothing")
			require.Equal(t, 2, info.Untranslated)
		}},
		{name: "translator/empty translations of documents", input: func(h *harness) attempt {
			return h.translateAttempt(config.TranslateDocuments, func(texts []string) []string { return make([]string, len(texts)) })
		}, ok: func(t *testing.T, h *harness, v converter.EncodedValue) {
			info := get[experiment.TranslationInfo](t, v)
			require.Positive(t, info.Untranslated, "counted, and shown in the report's translation note")
			require.Equal(t, info.Texts, info.Untranslated)
			require.Contains(t, experiment.TranslationNote("fake", "es", "en", info), "came back empty and kept their original text")
		}},
	}
}

// noSecret wraps a config attempt: the error must not repeat the API key.
func noSecret(a attempt, secret string) attempt {
	run := a.run
	a.run = func() (converter.EncodedValue, error) {
		v, err := run()
		if err != nil && strings.Contains(err.Error(), secret) {
			return v, fmt.Errorf("the error repeats the API key: %v", err)
		}
		return v, err
	}
	return a
}

// timed fails an attempt that takes longer than limit.
func timed(h *harness, a attempt, limit time.Duration) attempt {
	run := a.run
	a.run = func() (converter.EncodedValue, error) {
		start := time.Now()
		v, err := run()
		took := time.Since(start)
		h.t.Logf("took %s", took.Round(time.Millisecond))
		require.Less(h.t, took, limit, "big inputs work or fail within seconds")
		return v, err
	}
	return a
}

// bounded fails an attempt whose live heap grows by more than limit bytes.
func bounded(h *harness, a attempt, limit uint64) attempt {
	run := a.run
	a.run = func() (v converter.EncodedValue, err error) {
		grew := peakHeap(func() { v, err = run() })
		h.t.Logf("heap grew by %d MB", grew>>20)
		require.Less(h.t, grew, limit, "a big document must not blow memory")
		return v, err
	}
	return a
}
