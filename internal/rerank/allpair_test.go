package rerank

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAllPairComparisons(t *testing.T) {
	assert.Equal(t, [][2]string{{"a", "b"}, {"a", "c"}, {"b", "c"}}, AllPairComparisons([]string{"a", "b", "c"}))
	assert.Empty(t, AllPairComparisons([]string{"a"}))
	assert.Len(t, AllPairComparisons(make([]string, 100)), 4950)
}

func TestAllPairScores(t *testing.T) {
	// d beats everyone; a vs b inconsistent (0.5 each); c loses to a and b.
	outcome := map[string][2]bool{ // pair → (first wins both, inconsistent)
		"a\x00b": {false, true},
		"a\x00c": {true, false},
		"a\x00d": {false, false},
		"b\x00c": {true, false},
		"b\x00d": {false, false},
		"c\x00d": {false, false},
	}
	calls := 0
	got, st, err := AllPair([]string{"a", "b", "c", "d"}, 0, func(x, y string) (bool, bool, error) {
		calls++
		o, ok := outcome[x+"\x00"+y]
		require.True(t, ok, "asked in first-stage orientation: %s %s", x, y)
		return o[0], o[1], nil
	})
	require.NoError(t, err)
	// scores: d 3, a 1.5, b 1.5, c 0 → a before b by first-stage order
	assert.Equal(t, []string{"d", "a", "b", "c"}, got)
	assert.Equal(t, 6, calls)
	assert.Equal(t, Stats{Comparisons: 6, Asked: 6, Inconsistent: 1, Passes: 1}, st)

	// top k only, then first-stage order
	got, _, err = AllPair([]string{"a", "b", "c", "d"}, 1, func(x, y string) (bool, bool, error) {
		o := outcome[x+"\x00"+y]
		return o[0], o[1], nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"d", "a", "b", "c"}, got)

	_, _, err = AllPair([]string{"a", "a"}, 1, nil)
	assert.Error(t, err)
	_, _, err = AllPair([]string{"a", "b"}, 1, func(string, string) (bool, bool, error) { return false, false, fmt.Errorf("boom") })
	assert.Error(t, err)
}

// With a consistent model, allpair sorts the top k by strength and leaves the rest in first-stage order.
func TestAllPairWithStrengths(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	initial, strength, _ := randomCase(r, 30)
	m := newSimModel(strength, nil)
	got, st, err := AllPair(initial, 10, m.cmp)
	require.NoError(t, err)
	assert.Equal(t, 435, st.Asked)
	for i := 1; i < 10; i++ {
		assert.Greater(t, strength[got[i-1]], strength[got[i]])
	}
	bubble, _, err := BubbleSort(initial, 10, newSimModel(strength, nil).cmp)
	require.NoError(t, err)
	assert.Equal(t, bubble, got, "a consistent model: both methods agree")
}
