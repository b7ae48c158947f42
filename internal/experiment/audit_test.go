package experiment

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/llm"
	"github.com/clirflow/clirflow/internal/rerank"
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

	var qr QueryRanking
	rb, err := artifact.ReadAll(ctx, s, ref)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(rb, &qr))
	require.Equal(t, order, qr.Order)
	require.Len(t, qr.Audit, 1)
	var qa QueryAudit
	ab, err := artifact.ReadAll(ctx, s, qr.Audit[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(ab, &qa))
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
	primeCandidates(primed, file)
	q, err := LoadQuery(ctx, s, primed, "q1")
	require.NoError(t, err)
	require.Equal(t, loaded["q1"], q)

	bad := artifact.Ref("sha256:" + strings.Repeat("1", 64))
	file.Passages["d1"] = "uno \xff"
	primeCandidates(bad, file)
	_, err = LoadQuery(ctx, s, bad, "q1")
	require.ErrorIs(t, err, artifact.ErrNotFound)
}
