package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/llm"
	"github.com/clirflow/clirflow/internal/rerank"
	"github.com/clirflow/clirflow/internal/trec"
)

// rotator answers every window of three "[3] > [1] > [2]".
type rotator struct{}

func (rotator) ID() string { return "test/rotate" }

func (rotator) Chat(context.Context, llm.Request) (llm.Response, error) {
	return llm.Response{Content: "[3] > [1] > [2]", PromptTokens: 10, CompletionTokens: 5}, nil
}

// Windows run with AuditLater write nothing; SaveQuery then writes the
// query's records in one artifact, equal (but the time) to the records the
// windows write one by one, and refuses steps that do not match what was
// sent or that do not give the final order.
func TestSaveQueryWritesTheWindowsAuditRecords(t *testing.T) {
	ctx := context.Background()
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	file := candidatesFile{
		Passages: map[string]string{"d1": "one", "d2": "two", "d3": "three", "d4": "four", "d5": "five"},
		Queries:  []candidatesQuery{{QID: "q1", Query: "numbers", Docs: []string{"d1", "d2", "d3", "d4", "d5"}}},
	}
	b, err := json.Marshal(file)
	require.NoError(t, err)
	cands, err := artifact.Put(ctx, s, b)
	require.NoError(t, err)

	windows := rerank.SlidingWindows(5, 0, 5, 3, 2)
	require.Len(t, windows, 2)
	// Each window's record written by the window, the order passed on.
	var order []string
	var each []WindowResult
	for _, w := range windows {
		res, err := RerankWindow(ctx, s, rotator{}, WindowInput{Candidates: cands, QID: "q1", Order: order,
			Start: w.Start, End: w.End, Prompt: "rankgpt"})
		require.NoError(t, err)
		order = res.Order
		each = append(each, res)
	}
	// AuditLater: the windows applied so far passed on instead.
	var steps []WindowStep
	var applied []AppliedWindow
	for _, w := range windows {
		res, err := RerankWindow(ctx, s, rotator{}, WindowInput{Candidates: cands, QID: "q1", Applied: applied,
			Start: w.Start, End: w.End, Prompt: "rankgpt", AuditLater: true})
		require.NoError(t, err)
		require.Empty(t, res.Audit, "no record written by the window")
		require.Empty(t, res.Order)
		require.NotEmpty(t, res.PromptSHA)
		require.Equal(t, "[3] > [1] > [2]", res.Answer)
		applied = append(applied, AppliedWindow{Start: w.Start, End: w.End, Permutation: res.Permutation})
		steps = append(steps, res.Step(w.Start, w.End))
	}
	later := steps
	in := SaveQueryInput{Candidates: cands, QID: "q1", Prompt: "rankgpt", Windows: steps}
	ref, err := SaveQuery(ctx, s, "test/rotate", in)
	require.NoError(t, err)
	// Saved by a process that did not send the windows: every prompt is
	// rendered again and checked; the same artifact.
	sent := sentPrompts
	sentPrompts = newFIFOCache[[32]byte, string](1 << 15)
	again, err := SaveQuery(ctx, s, "test/rotate", in)
	sentPrompts = sent
	require.NoError(t, err)
	require.Equal(t, ref, again)

	// One artifact: read as a ranking, the order; as an audit, the windows.
	var qr QueryRanking
	rb, err := artifact.ReadAll(ctx, s, ref)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(rb, &qr))
	require.Equal(t, order, qr.Order)
	require.Empty(t, qr.Audit)
	var qa QueryAudit
	require.NoError(t, json.Unmarshal(rb, &qa))
	require.Equal(t, "q1", qa.QID)
	require.Equal(t, cands, qa.Candidates)
	require.Len(t, qa.Windows, len(each))
	for i, res := range each {
		var want AuditRecord
		wb, err := artifact.ReadAll(ctx, s, res.Audit)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(wb, &want))
		got := qa.Windows[i]
		require.Equal(t, later[i].At, got.At)
		require.Equal(t, later[i].PromptSHA, got.PromptSHA)
		require.Nil(t, got.Messages, "prompts are rendered again, not kept")
		msgs, err := qa.Messages(ctx, s, i)
		require.NoError(t, err)
		require.Equal(t, want.Messages, msgs)
		got.At, got.PromptSHA, got.Messages = want.At, "", msgs
		require.Equal(t, want, got, "window %d", i)
	}
	// A record whose documents do not give the prompt sent.
	qa.Windows[1].Docs[0], qa.Windows[1].Docs[1] = qa.Windows[1].Docs[1], qa.Windows[1].Docs[0]
	_, err = qa.Messages(ctx, s, 1)
	require.ErrorContains(t, err, "is not the one sent")

	// What SaveQuery refuses, each as bad input.
	bad := func(name string, edit func(in *SaveQueryInput), msg string) {
		t.Run(name, func(t *testing.T) {
			in := in
			in.Windows = append([]WindowStep(nil), in.Windows...)
			edit(&in)
			_, err := SaveQuery(ctx, s, "test/rotate", in)
			require.Error(t, err)
			require.True(t, inputerr.Is(err), "%v", err)
			require.ErrorContains(t, err, msg)
		})
	}
	bad("another prompt", func(in *SaveQueryInput) { in.Prompt = "rankzephyr" }, "is not the one sent")
	bad("another permutation before", func(in *SaveQueryInput) { in.Windows[0].Permutation = []int{0, 1, 2} }, "is not the one sent")
	bad("not a permutation", func(in *SaveQueryInput) { in.Windows[0].Permutation = []int{0, 0, 1} }, "is not a permutation")
	bad("window outside", func(in *SaveQueryInput) { in.Windows[0].End = 9 }, "outside 5 candidates")
	bad("steps out of order", func(in *SaveQueryInput) {
		in.Windows[0], in.Windows[1] = in.Windows[1], in.Windows[0]
	}, "is not the one sent")

	// A window's order from windows applied before it that are not windows.
	_, err = RerankWindow(ctx, s, rotator{}, WindowInput{Candidates: cands, QID: "q1", Start: 0, End: 3, Prompt: "rankgpt", AuditLater: true,
		Applied: []AppliedWindow{{Start: 2, End: 5, Permutation: []int{0, 1}}}})
	require.True(t, inputerr.Is(err), "%v", err)
	require.ErrorContains(t, err, "applied[0]: [0 1] is not a permutation of a window of 3")

	// No windows (a single candidate): a ranking without an audit artifact.
	ref, err = SaveQuery(ctx, s, "test/rotate", SaveQueryInput{Candidates: cands, QID: "q1", Prompt: "rankgpt"})
	require.NoError(t, err)
	rb, err = artifact.ReadAll(ctx, s, ref)
	require.NoError(t, err)
	require.JSONEq(t, `{"qid":"q1","order":null,"audit":null}`, string(rb))
}

// A query's last window with Save writes what SaveQuery writes for the same
// windows (the same ranking artifact, so the same bytes) and returns it; the
// windows before it are its steps. Save takes AuditLater and steps only.
func TestLastWindowSavesTheQuery(t *testing.T) {
	ctx := context.Background()
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	b, err := json.Marshal(candidatesFile{
		Passages: map[string]string{"d1": "one", "d2": "two", "d3": "three", "d4": "four", "d5": "five"},
		Queries:  []candidatesQuery{{QID: "q1", Query: "numbers", Docs: []string{"d1", "d2", "d3", "d4", "d5"}}},
	})
	require.NoError(t, err)
	cands, err := artifact.Put(ctx, s, b)
	require.NoError(t, err)
	windows := rerank.SlidingWindows(5, 0, 5, 3, 2)
	first, err := RerankWindow(ctx, s, rotator{}, WindowInput{Candidates: cands, QID: "q1",
		Start: windows[0].Start, End: windows[0].End, Prompt: "rankgpt", AuditLater: true})
	require.NoError(t, err)
	require.Empty(t, first.Ranking, "only a saving window saves")
	// Room after the step: the window must not append into the caller's
	// array (a workflow's state when run as a local activity).
	steps := append(make([]WindowStep, 0, 4), first.Step(windows[0].Start, windows[0].End))
	last, err := RerankWindow(ctx, s, rotator{}, WindowInput{Candidates: cands, QID: "q1",
		Start: windows[1].Start, End: windows[1].End, Prompt: "rankgpt", AuditLater: true, Save: true, Steps: steps})
	require.NoError(t, err)
	require.NotEmpty(t, last.Ranking)
	require.Zero(t, steps[:2][1], "the caller's steps are not appended to")
	want, err := SaveQuery(ctx, s, "test/rotate", SaveQueryInput{Candidates: cands, QID: "q1", Prompt: "rankgpt",
		Windows: append(steps, last.Step(windows[1].Start, windows[1].End))})
	require.NoError(t, err)
	require.Equal(t, want, last.Ranking)

	for name, in := range map[string]WindowInput{
		"without audit_later": {Save: true, Steps: steps},
		"with applied":        {Save: true, AuditLater: true, Applied: []AppliedWindow{{Start: 0, End: 3, Permutation: []int{0, 1, 2}}}},
		"with an order":       {Save: true, AuditLater: true, Order: []string{"d1", "d2", "d3", "d4", "d5"}},
	} {
		in.Candidates, in.QID, in.Start, in.End, in.Prompt = cands, "q1", 2, 5, "rankgpt"
		_, err := RerankWindow(ctx, s, rotator{}, in)
		require.True(t, inputerr.Is(err), "%s: %v", name, err)
		require.ErrorContains(t, err, "save", name)
	}
	// Steps that are not windows of these candidates.
	_, err = RerankWindow(ctx, s, rotator{}, WindowInput{Candidates: cands, QID: "q1", Start: 2, End: 5, Prompt: "rankgpt",
		AuditLater: true, Save: true, Steps: []WindowStep{{Start: 0, End: 3, Permutation: []int{0, 0, 1}}}})
	require.True(t, inputerr.Is(err), "%v", err)
	require.ErrorContains(t, err, "steps[0]")
}

// The candidates PrepareCandidates stores are put in the worker's cache as
// they would be loaded from the artifact; a passage that JSON would store
// altered (invalid UTF-8) keeps them out.
func TestPrimedCandidatesAreTheStoredOnes(t *testing.T) {
	ctx := context.Background()
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	file := candidatesFile{
		Passages: map[string]string{"d1": "uno <b>", "d2": "dos \u00e9"},
		Queries:  []candidatesQuery{{QID: "q1", Query: "n", Docs: []string{"d2", "d1"}, Rest: []string{"d9"}}},
	}
	b, err := json.Marshal(file)
	require.NoError(t, err)
	ref, err := artifact.Put(ctx, s, b)
	require.NoError(t, err)
	loaded, err := loadCandidates(ctx, s, ref)
	require.NoError(t, err)

	primed := artifact.Ref("sha256:" + strings.Repeat("0", 64)) // not in the store
	primeLoaded(primed, primable(file))
	q, err := LoadQuery(ctx, s, primed, "q1")
	require.NoError(t, err)
	require.Equal(t, loaded["q1"], q)

	bad := artifact.Ref("sha256:" + strings.Repeat("1", 64))
	file.Passages["d1"] = "uno \xff"
	primeLoaded(bad, primable(file))
	_, err = LoadQuery(ctx, s, bad, "q1")
	require.ErrorIs(t, err, artifact.ErrNotFound)
}

// Windows are keyed by everything that renders them.
func TestWindowKey(t *testing.T) {
	k := func(docs ...string) [32]byte { return windowKey("sha256:c", "q1", "rankgpt", docs) }
	require.Equal(t, k("d1", "d2"), k("d1", "d2"))
	require.NotEqual(t, k("d1", "d2"), k("d2", "d1"))
	require.NotEqual(t, k("d1d2"), k("d1", "d2"), "lengths are part of the key")
	require.NotEqual(t, windowKey("sha256:c", "q1", "rankzephyr", []string{"d1"}), k("d1"))
	require.NotEqual(t, windowKey("sha256:c", "q2", "rankgpt", []string{"d1"}), k("d1"))
	require.NotEqual(t, windowKey("sha256:d", "q1", "rankgpt", []string{"d1"}), k("d1"))
}

// AssembleRun indexes each query's audit trail: a SavedQuery is its own, a
// ranking saved with Audit references (PRP passes, runs saved before) names
// them.
func TestAssembleRunIndexesBothRankingForms(t *testing.T) {
	ctx := context.Background()
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	cands, r1, r2, pass := assembleFixture(t, s)
	// Read from the store, as in a worker that did not save q1 (the run in
	// s2 below takes it from this process's memory: the same results).
	_, ok := savedRankings.take(r1)
	require.True(t, ok, "SaveQuery keeps what it saved")

	out, err := AssembleRun(ctx, s, AssembleInput{Candidates: cands, Rankings: []artifact.Ref{r1, r2}, Tag: "t", RerankKey: "k"})
	require.NoError(t, err)
	var index map[string][]artifact.Ref
	ib, err := artifact.ReadAll(ctx, s, out.Audit)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(ib, &index))
	require.Equal(t, map[string][]artifact.Ref{"q1": {r1}, "q2": {pass}}, index)
	rb, err := artifact.ReadAll(ctx, s, out.Run.Ref)
	require.NoError(t, err)
	run, err := trec.ParseRun(bytes.NewReader(rb), "run")
	require.NoError(t, err)
	ids := func(qid string) []string {
		rs := append([]trec.Result(nil), run.Entries[qid]...)
		trec.SortResults(rs)
		var out []string
		for _, r := range rs {
			out = append(out, r.DocID)
		}
		return out
	}
	var saved SavedQuery
	sb, err := artifact.ReadAll(ctx, s, r1)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(sb, &saved))
	require.Len(t, saved.Windows, 2)
	require.Equal(t, saved.Order, ids("q1"))
	require.Equal(t, []string{"d5", "d4", "d1"}, ids("q2"), "the reranked top, then the rest")

	// Evaluated as built, the run scores exactly as read back: the same
	// per-query table (artifact) and summary.
	qrels, err := artifact.Put(ctx, s, []byte("q1 0 d3 1\nq1 0 d2 2\nq2 0 d1 1\nq2 0 d4 1\n"))
	require.NoError(t, err)
	evalIn := EvalInput{Qrels: qrels, Run: out.Run.Ref, Metrics: []string{"map", "ndcg_cut.3", "recip_rank", "runid"}}
	want, err := Evaluate(ctx, s, evalIn)
	require.NoError(t, err)
	s2, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	_, r1b, r2b, _ := assembleFixture(t, s2) // other times in q1's records
	qrels2, err := artifact.Put(ctx, s2, []byte("q1 0 d3 1\nq1 0 d2 2\nq2 0 d1 1\nq2 0 d4 1\n"))
	require.NoError(t, err)
	fin, err := AssembleAndEvaluate(ctx, s2, FinishInput{
		Assemble: AssembleInput{Candidates: cands, Rankings: []artifact.Ref{r1b, r2b}, Tag: "t", RerankKey: "k"},
		Eval:     EvalInput{Qrels: qrels2, Metrics: evalIn.Metrics},
	})
	require.NoError(t, err)
	require.Equal(t, out.Run, fin.Assembled.Run, "the same run file")
	require.False(t, fin.Eval.Cached, "evaluated, not looked up")
	require.Equal(t, want, fin.Eval)

	// Both results are memoized: the same step again computes nothing.
	finIn := FinishInput{
		Assemble: AssembleInput{Candidates: cands, Rankings: []artifact.Ref{r1b, r2b}, Tag: "t", RerankKey: "k"},
		Eval:     EvalInput{Qrels: qrels2, Metrics: evalIn.Metrics},
	}
	again, err := AssembleAndEvaluate(ctx, s2, finIn)
	require.NoError(t, err)
	require.True(t, again.Assembled.Run.Cached)
	require.True(t, again.Eval.Cached)
	require.Equal(t, fin.Eval.Summary, again.Eval.Summary)

	// A run assembled anew (in another store) whose file was evaluated
	// before takes that evaluation.
	s3, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	_, r1c, r2c, _ := assembleFixture(t, s3)
	qrels3, err := artifact.Put(ctx, s3, []byte("q1 0 d3 1\nq1 0 d2 2\nq2 0 d1 1\nq2 0 d4 1\n"))
	require.NoError(t, err)
	runBytes, err := artifact.ReadAll(ctx, s, out.Run.Ref)
	require.NoError(t, err)
	runRef, err := artifact.Put(ctx, s3, runBytes)
	require.NoError(t, err)
	_, err = Evaluate(ctx, s3, EvalInput{Qrels: qrels3, Run: runRef, Metrics: evalIn.Metrics})
	require.NoError(t, err)
	pre, err := AssembleAndEvaluate(ctx, s3, FinishInput{
		Assemble: AssembleInput{Candidates: cands, Rankings: []artifact.Ref{r1c, r2c}, Tag: "t", RerankKey: "k"},
		Eval:     EvalInput{Qrels: qrels3, Metrics: evalIn.Metrics},
	})
	require.NoError(t, err)
	require.False(t, pre.Assembled.Run.Cached)
	require.True(t, pre.Eval.Cached)
	require.Equal(t, want.Summary, pre.Eval.Summary)

	// Damaged qrels: an error naming them, and the run is not recorded as
	// finished (a later attempt assembles it again).
	s4, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	_, r1d, r2d, _ := assembleFixture(t, s4)
	bad, err := artifact.Put(ctx, s4, []byte("q1 0 d3\n"))
	require.NoError(t, err)
	_, err = AssembleAndEvaluate(ctx, s4, FinishInput{
		Assemble: AssembleInput{Candidates: cands, Rankings: []artifact.Ref{r1d, r2d}, Tag: "t", RerankKey: "k"},
		Eval:     EvalInput{Qrels: bad, Metrics: evalIn.Metrics},
	})
	require.ErrorContains(t, err, string(bad))
	var done AssembledRun
	ok, err = s4.GetMemo(ctx, rerankDoneKey(cands, "k"), &done)
	require.NoError(t, err)
	require.False(t, ok, "no finished run recorded")
}

// assembleFixture stores two queries' candidates and rankings in s: q1's
// a SavedQuery of two windows, q2's a ranking naming an audit artifact.
func assembleFixture(t *testing.T, s artifact.Store) (cands, r1, r2, pass artifact.Ref) {
	ctx := context.Background()
	b, err := json.Marshal(candidatesFile{
		Passages: map[string]string{"d1": "one", "d2": "two", "d3": "three", "d4": "four", "d5": "five"},
		Queries: []candidatesQuery{
			{QID: "q1", Query: "numbers", Docs: []string{"d1", "d2", "d3", "d4", "d5"}},
			{QID: "q2", Query: "more", Docs: []string{"d4", "d5"}, Rest: []string{"d1"}},
		},
	})
	require.NoError(t, err)
	cands, err = artifact.Put(ctx, s, b)
	require.NoError(t, err)
	var steps []WindowStep
	var applied []AppliedWindow
	for _, w := range rerank.SlidingWindows(5, 0, 5, 3, 2) {
		res, err := RerankWindow(ctx, s, rotator{}, WindowInput{Candidates: cands, QID: "q1", Applied: applied,
			Start: w.Start, End: w.End, Prompt: "rankgpt", AuditLater: true})
		require.NoError(t, err)
		applied = append(applied, AppliedWindow{Start: w.Start, End: w.End, Permutation: res.Permutation})
		steps = append(steps, res.Step(w.Start, w.End))
	}
	r1, err = SaveQuery(ctx, s, "test/rotate", SaveQueryInput{Candidates: cands, QID: "q1", Prompt: "rankgpt", Windows: steps})
	require.NoError(t, err)
	pass, err = putJSON(ctx, s, []string{"a PRP pass"})
	require.NoError(t, err)
	r2, err = SaveRanking(ctx, s, QueryRanking{QID: "q2", Order: []string{"d5", "d4"}, Audit: []artifact.Ref{pass}})
	require.NoError(t, err)
	return cands, r1, r2, pass
}

// The worker's caches keep the newest entries: a key put again keeps its
// place with its new value, a taken key is given once, and the places of
// taken keys do not pile up.
func TestFIFOCache(t *testing.T) {
	c := newFIFOCache[string, int](2)
	c.put("a", 1)
	c.put("b", 2)
	c.put("a", 10) // replaced, still the oldest
	v, ok := c.get("a")
	require.True(t, ok)
	require.Equal(t, 10, v)
	c.put("c", 3) // full: a goes
	_, ok = c.get("a")
	require.False(t, ok)
	v, ok = c.take("b")
	require.True(t, ok)
	require.Equal(t, 2, v)
	_, ok = c.take("b")
	require.False(t, ok, "taken once")
	c.put("d", 4)
	c.put("e", 5) // full again: c, the oldest left, goes
	_, ok = c.get("c")
	require.False(t, ok)
	for _, k := range []string{"d", "e"} {
		_, ok := c.get(k)
		require.True(t, ok, k)
	}
	for i := range 10 {
		k := fmt.Sprint(i)
		c.put(k, i)
		c.take(k)
	}
	require.LessOrEqual(t, len(c.order), 2*c.max)
}
