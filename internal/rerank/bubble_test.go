package rerank

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type bubbleVector struct {
	Initial             []string           `json:"initial"`
	K                   int                `json:"k"`
	Strength            map[string]float64 `json:"strength"`
	PositionBiasedPairs [][2]string        `json:"position_biased_pairs"`
	Final               []string           `json:"final"`
	ComparisonsInOrder  [][2]string        `json:"comparisons_in_order"`
}

func loadBubbleVectors(t *testing.T) []bubbleVector {
	t.Helper()
	var vs []bubbleVector
	data, err := os.ReadFile("testdata/bubblesort_vectors.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &vs))
	require.NotEmpty(t, vs)
	return vs
}

// simModel answers one PRP prompt (docA shown as Passage A) from hidden strengths; position-biased
// pairs answer "Passage A" whatever the order.
type simModel struct {
	strength map[string]float64
	biased   map[string]bool
	prompts  map[string]int // prompt key → times asked
}

func newSimModel(strength map[string]float64, biased [][2]string) *simModel {
	m := &simModel{strength: strength, biased: map[string]bool{}, prompts: map[string]int{}}
	for _, p := range biased {
		m.biased[pairKey(p[0], p[1])] = true
	}
	return m
}

func (m *simModel) answer(docA, docB string) string {
	m.prompts[promptKey(docA, docB)]++
	if m.biased[pairKey(docA, docB)] || m.strength[docA] > m.strength[docB] {
		return "Passage A"
	}
	return "Passage B"
}

// ask runs both prompts of a comparison and parses them, as an activity would.
func (m *simModel) ask(lower, upper string) (asA, asB Verdict) {
	asA, _ = ParsePairwise(m.answer(lower, upper))
	asB, _ = ParsePairwise(m.answer(upper, lower))
	return asA, asB
}

func (m *simModel) cmp(lower, upper string) (bool, bool, error) {
	l, _, inc := Decide(m.ask(lower, upper))
	return l, inc, nil
}

// referenceBubble transliterates llm-rankers' bubblesort loop without memo or state machine: the
// oracle for the state machine on random inputs.
func referenceBubble(initial []string, k int, cmp func(lower, upper string) bool) ([]string, [][2]string) {
	ranking := slices.Clone(initial)
	k = min(k, len(ranking))
	var asked [][2]string
	lastEnd := len(ranking) - 1
	for i := 0; i < k; i++ {
		cur := lastEnd
		changed := false
		for cur > i {
			lo, up := ranking[cur], ranking[cur-1]
			asked = append(asked, [2]string{lo, up})
			if cmp(lo, up) {
				ranking[cur-1], ranking[cur] = ranking[cur], ranking[cur-1]
				if !changed {
					changed = true
					if lastEnd != len(ranking)-1 {
						lastEnd++
					}
				}
			}
			if !changed {
				lastEnd--
			}
			cur--
		}
	}
	return topKThenInitial(ranking, initial, k), asked
}

func distinctPairs(seq [][2]string) [][2]string {
	seen := map[string]bool{}
	var out [][2]string
	for _, p := range seq {
		if k := pairKey(p[0], p[1]); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

func TestBubbleSortPeerVectors(t *testing.T) {
	for i, v := range loadBubbleVectors(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			m := newSimModel(v.Strength, v.PositionBiasedPairs)
			s := NewBubble(v.Initial, v.K)
			var seq, asked [][2]string
			s.Observe(func(lo, up string, fromMemo bool) { seq = append(seq, [2]string{lo, up}) })
			for {
				lo, up, done := s.Next()
				if done {
					break
				}
				asked = append(asked, [2]string{lo, up})
				asA, asB := m.ask(lo, up)
				s.RecordVerdicts(lo, up, asA, asB)
			}
			assert.Equal(t, v.Final, s.Final(), "final")
			assert.Equal(t, v.ComparisonsInOrder, seq, "full comparison sequence (memo hits included)")
			assert.Equal(t, distinctPairs(v.ComparisonsInOrder), asked, "distinct comparisons, first-ask order")
			for k, n := range m.prompts {
				assert.Equal(t, 1, n, "prompt %q asked once", k)
			}
			st := s.Stats()
			assert.Equal(t, len(v.ComparisonsInOrder), st.Comparisons)
			assert.Equal(t, len(asked), st.Asked)
			assert.Equal(t, st.Comparisons-st.Asked, st.MemoHits)
			assert.Equal(t, 2*len(asked), st.Prompts())
			assert.Equal(t, 2*len(v.ComparisonsInOrder), st.PromptsUnmemoized())

			// the plain driver gives the same
			final, st2, err := BubbleSort(v.Initial, v.K, newSimModel(v.Strength, v.PositionBiasedPairs).cmp)
			require.NoError(t, err)
			assert.Equal(t, v.Final, final)
			assert.Equal(t, st, st2)

			// and so does the un-memoized transliteration of llm-rankers
			ref, refAsked := referenceBubble(v.Initial, v.K, func(lo, up string) bool {
				l, _, _ := Decide(m.ask(lo, up))
				return l
			})
			assert.Equal(t, v.Final, ref)
			assert.Equal(t, v.ComparisonsInOrder, refAsked)
		})
	}
}

func randomCase(r *rand.Rand, n int) ([]string, map[string]float64, [][2]string) {
	initial := make([]string, n)
	strength := map[string]float64{}
	for i := range initial {
		initial[i] = fmt.Sprintf("d%03d", i)
		strength[initial[i]] = r.Float64()
	}
	var biased [][2]string
	for i := 0; i < n/5; i++ {
		biased = append(biased, [2]string{initial[r.IntN(n)], initial[r.IntN(n)]})
	}
	return initial, strength, biased
}

func TestBubbleSortMatchesReferenceOnRandomInputs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 300; trial++ {
		n := r.IntN(40)
		k := r.IntN(12) + 1
		initial, strength, biased := randomCase(r, n)
		m := newSimModel(strength, biased)
		ref, refSeq := referenceBubble(initial, k, func(lo, up string) bool {
			l, _, _ := Decide(m.ask(lo, up))
			return l
		})
		m2 := newSimModel(strength, biased)
		var asked [][2]string
		got, st, err := BubbleSort(initial, k, func(lo, up string) (bool, bool, error) {
			asked = append(asked, [2]string{lo, up})
			return m2.cmp(lo, up)
		})
		require.NoError(t, err)
		require.Equal(t, ref, got, "trial %d", trial)
		require.Equal(t, distinctPairs(refSeq), asked, "trial %d", trial)
		require.Equal(t, len(refSeq), st.Comparisons)
	}
}

// Resume from a JSON checkpoint after every single answer (mid-pass): same result, nothing asked twice.
func TestBubbleResumeFromJSON(t *testing.T) {
	vs := loadBubbleVectors(t)
	r := rand.New(rand.NewPCG(3, 4))
	initial, strength, biased := randomCase(r, 100)
	vs = append(vs, bubbleVector{Initial: initial, K: 10, Strength: strength, PositionBiasedPairs: biased})
	for i, v := range vs {
		straight, _, err := BubbleSort(v.Initial, v.K, newSimModel(v.Strength, v.PositionBiasedPairs).cmp)
		require.NoError(t, err)

		m := newSimModel(v.Strength, v.PositionBiasedPairs)
		s := NewBubble(v.Initial, v.K)
		steps := 0
		for {
			b, err := json.Marshal(s)
			require.NoError(t, err)
			s = &BubbleState{}
			require.NoError(t, json.Unmarshal(b, s))
			lo, up, done := s.Next()
			if done {
				break
			}
			steps++
			asA, asB := m.ask(lo, up)
			s.RecordVerdicts(lo, up, asA, asB)
		}
		assert.Equal(t, straight, s.Final(), "vector %d", i)
		for k, n := range m.prompts {
			require.Equal(t, 1, n, "vector %d: prompt %q asked twice", i, k)
		}
		assert.Equal(t, steps, s.Stats().Asked)
	}
}

// An activity runs one pass per call: it stops when PassDone and returns the checkpoint.
func TestBubblePassByPass(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	initial, strength, biased := randomCase(r, 100)
	want, wantSt, err := BubbleSort(initial, 10, newSimModel(strength, biased).cmp)
	require.NoError(t, err)

	m := newSimModel(strength, biased)
	checkpoint, err := json.Marshal(NewBubble(initial, 10))
	require.NoError(t, err)
	calls := 0
	var passes []int
	for {
		var s BubbleState
		require.NoError(t, json.Unmarshal(checkpoint, &s))
		if s.Done() {
			break
		}
		calls++
		require.LessOrEqual(t, calls, 10)
		for {
			lo, up, done := s.Next()
			if done {
				break
			}
			asA, asB := m.ask(lo, up)
			s.RecordVerdicts(lo, up, asA, asB)
			if s.PassDone() {
				break
			}
		}
		passes = append(passes, s.Pass())
		checkpoint, err = json.Marshal(&s)
		require.NoError(t, err)
		if s.Done() {
			assert.Equal(t, want, s.Final())
			assert.Equal(t, wantSt, s.Stats())
		}
	}
	var s BubbleState
	require.NoError(t, json.Unmarshal(checkpoint, &s))
	assert.Equal(t, want, s.Final())
	assert.True(t, slices.IsSorted(passes), "%v", passes)
}

func TestBubbleRecordAlreadyAnswered(t *testing.T) {
	s := NewBubble([]string{"a", "b", "c"}, 2)
	lo, up, done := s.Next()
	require.False(t, done)
	assert.Equal(t, [2]string{"c", "b"}, [2]string{lo, up})
	s.Record("c", "b", true, true) // c moves above b
	assert.Equal(t, 1, s.Stats().Asked)
	s.Record("c", "b", false, false) // answered again: ignored, the first answer stays
	assert.Equal(t, 1, s.Stats().Asked)
	assert.Equal(t, []string{"a", "c", "b"}, s.Order())
	// a pair answered ahead of time is applied from the memo when reached
	s.Record("c", "a", false, false)
	lo, up, done = s.Next()
	// pass 0 is done with (c, a) from memo; pass 1 compares (b, c) — already answered as (c, b)
	assert.True(t, done, "(b,c) is known from the (c,b) answer; pass 1 then ends the sort: %q %q", lo, up)
	st := s.Stats()
	assert.Equal(t, 2, st.Asked)
	assert.Equal(t, 3, st.Comparisons)
	assert.Equal(t, 1, st.MemoHits)
	assert.Equal(t, []string{"a", "c", "b"}, s.Final())
}

func TestBubbleReversedPairIsMemoized(t *testing.T) {
	// (x, y) asked with x lower, later needed with y lower: same two prompts, asked once.
	s := NewBubble([]string{"y", "x"}, 1)
	lo, up, _ := s.Next()
	require.Equal(t, [2]string{"x", "y"}, [2]string{lo, up})
	s.RecordVerdicts("x", "y", A, B) // x wins both
	assert.Equal(t, []string{"x", "y"}, s.Order())
	lw, inc, known := s.outcome("y", "x")
	assert.True(t, known)
	assert.False(t, lw)
	assert.False(t, inc)
	// Unknown verdicts stay distinct from a loss: inconsistent in both orientations
	s.RecordVerdicts("p", "q", Unknown, B)
	_, inc, _ = s.outcome("q", "p")
	assert.True(t, inc)
}

func TestBubbleEdgeCases(t *testing.T) {
	for _, initial := range [][]string{nil, {}, {"only"}} {
		s := NewBubble(initial, 10)
		_, _, done := s.Next()
		assert.True(t, done)
		assert.True(t, s.PassDone())
		assert.Equal(t, len(initial), len(s.Final()))
	}
	// k larger than the list: a full bubble sort
	got, _, err := BubbleSort([]string{"c", "a", "b"}, 50, func(lo, up string) (bool, bool, error) { return lo < up, false, nil })
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, got)
	// k <= 0 is DefaultK
	assert.Equal(t, DefaultK, NewBubble(make([]string, 30), 0).K())
	// duplicate ids
	_, _, err = BubbleSort([]string{"a", "a"}, 1, nil)
	assert.Error(t, err)
	// errors stop the sort
	_, _, err = BubbleSort([]string{"a", "b"}, 1, func(string, string) (bool, bool, error) { return false, false, fmt.Errorf("boom") })
	assert.EqualError(t, err, "boom")
	// a bad checkpoint
	assert.Error(t, json.Unmarshal([]byte(`{"initial":["a"],"order":["a","b"]}`), &BubbleState{}))
}

// No swap in a pass ends the sort: a perfect first stage costs n-1 comparisons.
func TestBubbleEarlyStop(t *testing.T) {
	initial := make([]string, 100)
	for i := range initial {
		initial[i] = fmt.Sprintf("d%03d", i)
	}
	got, st, err := BubbleSort(initial, 10, func(lo, up string) (bool, bool, error) { return lo < up, false, nil })
	require.NoError(t, err)
	assert.Equal(t, initial, got)
	assert.Equal(t, 99, st.Comparisons)
	assert.Equal(t, 1, st.Passes)
	assert.True(t, st.EarlyStop)

	// reversed first stage: every pass swaps all the way; 99+98+…+90 = 945 comparisons
	rev := slices.Clone(initial)
	slices.Reverse(rev)
	got, st, err = BubbleSort(rev, 10, func(lo, up string) (bool, bool, error) { return lo < up, false, nil })
	require.NoError(t, err)
	assert.Equal(t, initial[:10], got[:10])
	assert.Equal(t, rev[:90], got[10:], "the rest in first-stage order")
	assert.Equal(t, 945, st.Comparisons)
	assert.Equal(t, 945, st.Asked)
	assert.False(t, st.EarlyStop)
}

// Prompt counts per query, top-100, k = 10, random strength tables: un-memoized (llm-rankers) vs
// memoized.
func TestBubblePromptCounts(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const queries = 200
	var sumU, sumM, minU, maxU, minM, maxM int
	minU, minM = 1<<30, 1<<30
	for q := 0; q < queries; q++ {
		initial, strength, _ := randomCase(r, 100)
		_, st, err := BubbleSort(initial, 10, newSimModel(strength, nil).cmp)
		require.NoError(t, err)
		require.GreaterOrEqual(t, st.Comparisons, 99)
		require.LessOrEqual(t, st.Comparisons, 945)
		u, m := st.PromptsUnmemoized(), st.Prompts()
		sumU, sumM = sumU+u, sumM+m
		minU, maxU, minM, maxM = min(minU, u), max(maxU, u), min(minM, m), max(maxM, m)
	}
	t.Logf("top-100, k=10, %d random strength tables: prompts per query un-memoized mean %.1f (min %d, max %d); memoized mean %.1f (min %d, max %d); saved %.1f%%",
		queries, float64(sumU)/queries, minU, maxU, float64(sumM)/queries, minM, maxM, 100*float64(sumU-sumM)/float64(sumU))
	assert.Less(t, sumM, sumU)
}

func BenchmarkBubbleSortTop100(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	initial, strength, _ := randomCase(r, 100)
	var st Stats
	for b.Loop() {
		var err error
		_, st, err = BubbleSort(initial, 10, newSimModel(strength, nil).cmp)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.PromptsUnmemoized()), "prompts-unmemoized/query")
	b.ReportMetric(float64(st.Prompts()), "prompts-memoized/query")
}
