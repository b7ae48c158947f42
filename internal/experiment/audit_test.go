package experiment

import (
	"context"
	"encoding/json"
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
