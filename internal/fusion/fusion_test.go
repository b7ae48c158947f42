package fusion_test

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/fusion"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/trec"
)

func parse(t *testing.T, name, text string) *trec.Run {
	t.Helper()
	r, err := trec.ParseRun(strings.NewReader(text), name)
	require.NoError(t, err)
	return r
}

// hit is a fused result as the tests spell it.
type hit struct {
	doc   string
	score float64
}

func check(t *testing.T, got *trec.Run, qid string, want ...hit) {
	t.Helper()
	res := got.Entries[qid]
	require.Len(t, res, len(want), "query %s: %v", qid, res)
	for i, w := range want {
		assert.Equal(t, w.doc, res[i].DocID, "query %s, rank %d", qid, i+1)
		assert.InDelta(t, w.score, res[i].Score, 1e-12, "query %s, %s", qid, w.doc)
		assert.Equal(t, i+1, res[i].Rank)
	}
}

// Two runs over query 1; only run A has query 2 (one document), only run B
// has query 3. Run A's file order differs from trec_eval's on purpose.
const runA = `
1 Q0 d2 1 2.0 a
1 Q0 d1 2 3.0 a
1 Q0 d3 3 1.0 a
2 Q0 d9 1 5.0 a
`

const runB = `
1 Q0 d3 1 10 b
1 Q0 d4 2 9 b
1 Q0 d1 3 8 b
3 Q0 x 1 0.5 b
3 Q0 y 2 0.5 b
`

func TestRRFByHand(t *testing.T) {
	a, b := parse(t, "a", runA), parse(t, "b", runB)
	got, err := fusion.RRF([]*trec.Run{a, b}, 0, fusion.Options{})
	require.NoError(t, err)
	// A in trec_eval order: d1 (3.0), d2, d3; B: d3, d4, d1.
	// d1 = 1/61 + 1/63 and d3 = 1/63 + 1/61 tie: id ascending; d2 and d4 tie at 1/62.
	check(t, got, "1", hit{"d1", 1.0/61 + 1.0/63}, hit{"d3", 1.0/61 + 1.0/63}, hit{"d2", 1.0 / 62}, hit{"d4", 1.0 / 62})
	// a query missing from one run gets the other run's contributions
	check(t, got, "2", hit{"d9", 1.0 / 61})
	// a tie inside an input run is ranked as trec_eval does: y (id descending) first
	check(t, got, "3", hit{"y", 1.0 / 61}, hit{"x", 1.0 / 62})
	assert.Len(t, got.Entries, 3)
	assert.Equal(t, "rrf_k=60", got.Tag)

	// another k
	got, err = fusion.RRF([]*trec.Run{a, b}, 1, fusion.Options{})
	require.NoError(t, err)
	check(t, got, "3", hit{"y", 1.0 / 2}, hit{"x", 1.0 / 3})

	// depth 2: A's d3 and B's d1 are not considered
	got, err = fusion.RRF([]*trec.Run{a, b}, 60, fusion.Options{Depth: 2})
	require.NoError(t, err)
	check(t, got, "1", hit{"d1", 1.0 / 61}, hit{"d3", 1.0 / 61}, hit{"d2", 1.0 / 62}, hit{"d4", 1.0 / 62})

	// cut 3: the fused list keeps its top 3
	got, err = fusion.RRF([]*trec.Run{a, b}, 60, fusion.Options{Cut: 3})
	require.NoError(t, err)
	check(t, got, "1", hit{"d1", 1.0/61 + 1.0/63}, hit{"d3", 1.0/61 + 1.0/63}, hit{"d2", 1.0 / 62})

	// three runs: a third copy of B adds its reciprocal ranks again
	got, err = fusion.RRF([]*trec.Run{a, b, b}, 60, fusion.Options{})
	require.NoError(t, err)
	check(t, got, "1", hit{"d3", 1.0/63 + 2.0/61}, hit{"d1", 1.0/61 + 2.0/63}, hit{"d4", 2.0 / 62}, hit{"d2", 1.0 / 62})
}

func TestRRFOfIdenticalRunsKeepsTheirOrder(t *testing.T) {
	a := parse(t, "a", runA)
	got, err := fusion.RRF([]*trec.Run{a, a}, 60, fusion.Options{})
	require.NoError(t, err)
	check(t, got, "1", hit{"d1", 2.0 / 61}, hit{"d2", 2.0 / 62}, hit{"d3", 2.0 / 63})
	check(t, got, "2", hit{"d9", 2.0 / 61})
}

func TestMinMaxByHand(t *testing.T) {
	a, b := parse(t, "a", runA), parse(t, "b", runB)
	got, err := fusion.Interpolate(a, b, 0.7, fusion.Options{})
	require.NoError(t, err)
	// A normalised: d1 1, d2 .5, d3 0; B: d3 1, d4 .5, d1 0
	check(t, got, "1", hit{"d1", 0.7}, hit{"d2", 0.35}, hit{"d3", 0.3}, hit{"d4", 0.15})
	// a single document (max == min) normalises to 1
	check(t, got, "2", hit{"d9", 0.7})
	// equal scores normalise to 1 too; the tie is broken by id ascending
	check(t, got, "3", hit{"x", 0.3}, hit{"y", 0.3})
	assert.Equal(t, "minmax_w=0.7,0.3", got.Tag)

	// depth 1: normalised over the whole list first, then only the top counts
	got, err = fusion.MinMax([]*trec.Run{a, b}, []float64{1, 2}, fusion.Options{Depth: 1})
	require.NoError(t, err)
	check(t, got, "1", hit{"d3", 2}, hit{"d1", 1})

	// weight 0: the run's documents are kept, with nothing added (as Pyserini's interpolation)
	got, err = fusion.Interpolate(a, b, 1, fusion.Options{})
	require.NoError(t, err)
	check(t, got, "1", hit{"d1", 1}, hit{"d2", 0.5}, hit{"d3", 0}, hit{"d4", 0})

	// identical runs with equal weights give the normalised run
	got, err = fusion.MinMax([]*trec.Run{a, a}, []float64{0.5, 0.5}, fusion.Options{})
	require.NoError(t, err)
	check(t, got, "1", hit{"d1", 1}, hit{"d2", 0.5}, hit{"d3", 0})
}

func TestMinMaxNegativeScores(t *testing.T) {
	a := parse(t, "a", "1 Q0 p 1 -1 a\n1 Q0 q 2 -3 a\n1 Q0 r 3 -2 a\n")
	b := parse(t, "b", "1 Q0 r 1 0.25 b\n")
	got, err := fusion.MinMax([]*trec.Run{a, b}, []float64{1, 1}, fusion.Options{})
	require.NoError(t, err)
	check(t, got, "1", hit{"r", 1.5}, hit{"p", 1}, hit{"q", 0})
}

func TestInvalidArguments(t *testing.T) {
	a, b := parse(t, "a", runA), parse(t, "b", runB)
	two := []*trec.Run{a, b}
	dup := &trec.Run{Name: "mem", Entries: map[string][]trec.Result{"1": {{DocID: "d", Score: 1}, {DocID: "d", Score: 0}}}}
	nan := &trec.Run{Name: "mem", Entries: map[string][]trec.Result{"1": {{DocID: "d", Score: math.NaN()}}}}
	rrf := func(runs []*trec.Run, k float64, o fusion.Options) func() error {
		return func() error { _, err := fusion.RRF(runs, k, o); return err }
	}
	minmax := func(runs []*trec.Run, w []float64, o fusion.Options) func() error {
		return func() error { _, err := fusion.MinMax(runs, w, o); return err }
	}
	interp := func(alpha float64) func() error {
		return func() error { _, err := fusion.Interpolate(a, b, alpha, fusion.Options{}); return err }
	}
	none := fusion.Options{}
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"one run", rrf([]*trec.Run{a}, 60, none), "runs: fusion needs at least 2 runs, got 1"},
		{"nil run", rrf([]*trec.Run{a, nil}, 60, none), "runs[1]: is nil"},
		{"negative k", rrf(two, -1, none), "k: must be a finite number > 0, got -1"},
		{"NaN k", rrf(two, math.NaN(), none), "k: must be a finite number > 0, got NaN"},
		{"negative depth", rrf(two, 60, fusion.Options{Depth: -1}), "depth: must be ≥ 0, got -1"},
		{"negative cut", rrf(two, 60, fusion.Options{Cut: -5}), "cut: must be ≥ 0, got -5"},
		{"duplicate document", rrf([]*trec.Run{a, dup}, 60, none), `runs[1]: run "mem", query "1": document "d" listed twice`},
		{"NaN score", minmax([]*trec.Run{nan, a}, []float64{1, 1}, none), `runs[0]: run "mem", query "1": document "d" has score NaN`},
		{"weight count", minmax(two, []float64{1}, none), "weights: 1 weights for 2 runs"},
		{"negative weight", minmax(two, []float64{1, -0.5}, none), "weights[1]: must be a finite number ≥ 0, got -0.5"},
		{"infinite weight", minmax(two, []float64{math.Inf(1), 1}, none), "weights[0]: must be a finite number ≥ 0, got +Inf"},
		{"zero weights", minmax(two, []float64{0, 0}, none), "weights: are all 0"},
		{"alpha", interp(1.5), "alpha: must be in [0, 1], got 1.5"},
		{"NaN alpha", interp(math.NaN()), "alpha: must be in [0, 1], got NaN"},
	} {
		err := tc.err()
		require.Error(t, err, tc.name)
		assert.True(t, inputerr.Is(err), tc.name)
		assert.Equal(t, tc.want, err.Error(), tc.name)
	}
}

func TestDefaultsAndEmptyRuns(t *testing.T) {
	// 1500 documents each: depth 1000 per run, cut 1000
	var sa, sb strings.Builder
	for i := range 1500 {
		sa.WriteString("1 Q0 a" + strconv.Itoa(i) + " 0 " + strconv.Itoa(1500-i) + " a\n")
		sb.WriteString("1 Q0 b" + strconv.Itoa(i) + " 0 " + strconv.Itoa(1500-i) + " b\n")
	}
	a, b := parse(t, "a", sa.String()), parse(t, "b", sb.String())
	got, err := fusion.RRF([]*trec.Run{a, b}, 0, fusion.Options{})
	require.NoError(t, err)
	res := got.Entries["1"]
	require.Len(t, res, 1000)
	assert.Equal(t, "a0", res[0].DocID) // a0 and b0 tie at 1/61: id ascending
	assert.Equal(t, "b0", res[1].DocID)
	assert.Equal(t, "b499", res[999].DocID)

	empty := &trec.Run{Name: "empty", Entries: map[string][]trec.Result{"1": nil}}
	got, err = fusion.RRF([]*trec.Run{empty, empty}, 0, fusion.Options{})
	require.NoError(t, err)
	assert.Empty(t, got.Entries)
}
