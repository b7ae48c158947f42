package rerank

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSlidingWindowsPeerCounts(t *testing.T) {
	var cases []struct {
		NumCandidates int `json:"num_candidates"`
		RankStart     int `json:"rank_start"`
		RankEnd       int `json:"rank_end"`
		WindowSize    int `json:"window_size"`
		Stride        int `json:"stride"`
		Windows       int `json:"windows"`
	}
	data, err := os.ReadFile("testdata/window_counts.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &cases))
	require.NotEmpty(t, cases)
	for _, c := range cases {
		got := SlidingWindows(c.NumCandidates, c.RankStart, c.RankEnd, c.WindowSize, c.Stride)
		assert.Len(t, got, c.Windows, "%+v → %v", c, got)
	}
}

func TestSlidingWindowsExact(t *testing.T) {
	var top100 []Window
	for s := 80; s >= 0; s -= 10 {
		top100 = append(top100, Window{s, s + 20})
	}
	for _, c := range []struct {
		name                          string
		n, rankStart, rankEnd, w, str int
		want                          []Window
	}{
		{"top100", 100, 0, 100, 20, 10, top100},
		{"rankEnd beyond candidates", 100, 0, 1000, 20, 10, top100},
		{"rankEnd 0 means all", 100, 0, 0, 20, 10, top100},
		{"partial window kept", 25, 0, 100, 20, 10, []Window{{5, 25}, {0, 15}}},
		{"window larger than the list", 8, 0, 100, 20, 10, []Window{{0, 8}}},
		{"window equal to the list", 20, 0, 20, 20, 10, []Window{{0, 20}}},
		{"rankStart > 0", 30, 5, 100, 20, 10, []Window{{10, 30}, {5, 20}}},
		{"rankStart > 0, aligned", 40, 10, 40, 20, 10, []Window{{20, 40}, {10, 30}}},
		{"rankEnd < candidates", 100, 0, 50, 20, 10, []Window{{30, 50}, {20, 40}, {10, 30}, {0, 20}}},
		{"stride = window", 60, 0, 60, 20, 20, []Window{{40, 60}, {20, 40}, {0, 20}}},
		{"negative rankStart", 8, -3, 100, 20, 10, []Window{{0, 8}}},
		{"one candidate", 1, 0, 100, 20, 10, []Window{{0, 1}}},
		{"no candidates", 0, 0, 100, 20, 10, nil},
		{"rankStart beyond", 10, 10, 100, 20, 10, nil},
		{"bad stride", 100, 0, 100, 20, 0, nil},
		{"bad window", 100, 0, 100, 0, 10, nil},
		{"stride > window", 100, 0, 100, 10, 20, nil},
		{"10 candidates (legacy loop: none)", 10, 0, 100, 20, 10, []Window{{0, 10}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, SlidingWindows(c.n, c.rankStart, c.rankEnd, c.w, c.str))
		})
	}
}

// legacyRankLLMWindows is rank_llm's older synchronous loop (sliding_windows), as ARCHITECTURE.md
// states it.
func legacyRankLLMWindows(n, rankStart, rankEnd, window, stride int) []Window {
	end := min(rankEnd, n)
	start := end - window
	var out []Window
	for end > rankStart && start+stride != rankStart {
		start = max(start, rankStart)
		out = append(out, Window{start, end})
		start -= stride
		end -= stride
	}
	return out
}

// The older formulation agrees wherever 0 < stride <= window, except that it emits nothing when the
// first window's start + stride lands exactly on rankStart.
func TestSlidingWindowsVersusLegacyFormulation(t *testing.T) {
	differ := 0
	for n := 0; n <= 60; n++ {
		for rs := 0; rs <= 12; rs++ {
			for _, re := range []int{5, 20, 37, 60, 100} {
				for w := 1; w <= 25; w += 3 {
					for str := 1; str <= w; str += 2 {
						legacy := legacyRankLLMWindows(n, rs, re, w, str)
						got := SlidingWindows(n, rs, re, w, str)
						if min(re, n)-w+str == rs && min(re, n) > rs {
							differ++
							require.Empty(t, legacy)
							require.NotEmpty(t, got)
							continue
						}
						require.Equal(t, legacy, got, "n=%d rs=%d re=%d w=%d s=%d", n, rs, re, w, str)
					}
				}
			}
		}
	}
	assert.Positive(t, differ)
	assert.Empty(t, legacyRankLLMWindows(10, 0, 100, 20, 10))
	assert.Equal(t, []Window{{0, 10}}, SlidingWindows(10, 0, 100, 20, 10))
}

func TestSlidingWindowPasses(t *testing.T) {
	one := SlidingWindows(25, 0, 100, 20, 10)
	assert.Equal(t, one, SlidingWindowPasses(25, 0, 100, 20, 10, 0))
	assert.Equal(t, append(append([]Window{}, one...), one...), SlidingWindowPasses(25, 0, 100, 20, 10, 2))
	assert.Len(t, SlidingWindowPasses(100, 0, 100, 20, 10, 3), 27)
}

func TestApplyWindow(t *testing.T) {
	order := []string{"a", "b", "c", "d", "e"}
	got := ApplyWindow(order, Window{1, 4}, []int{2, 0, 1})
	assert.Equal(t, []string{"a", "d", "b", "c", "e"}, got)
	assert.Equal(t, []string{"a", "b", "c", "d", "e"}, order, "input untouched")
	got[0] = "z"
	assert.Equal(t, "a", order[0], "new slice")

	assert.Equal(t, order, ApplyWindow(order, Window{0, 5}, identity(5)))
	assert.Panics(t, func() { ApplyWindow(order, Window{0, 3}, []int{0, 0, 1}) })
	assert.Panics(t, func() { ApplyWindow(order, Window{0, 3}, []int{0, 1}) })
	assert.Panics(t, func() { ApplyWindow(order, Window{3, 6}, []int{0, 1, 2}) })
}

// A full listwise run over the windows with answers parsed by ParsePermutation: an oracle that always
// answers the true order brings the best 10 of 100 to the top in one pass (window 20, stride 10).
func TestWindowsWithOracleAnswers(t *testing.T) {
	order := make([]string, 100)
	strength := map[string]int{}
	for i := range order {
		order[i] = string(rune('A'+i/26)) + string(rune('a'+i%26))
		strength[order[i]] = (i * 37) % 100 // a fixed shuffle of 0..99
	}
	for _, w := range SlidingWindows(len(order), 0, 100, 20, 10) {
		// answer "[i] > [j] > …" by strength
		ids := identity(w.Size())
		for a := 1; a < len(ids); a++ {
			for b := a; b > 0 && strength[order[w.Start+ids[b]]] > strength[order[w.Start+ids[b-1]]]; b-- {
				ids[b], ids[b-1] = ids[b-1], ids[b]
			}
		}
		ans := ""
		for i, x := range ids {
			if i > 0 {
				ans += " > "
			}
			ans += "[" + itoa(x+1) + "]"
		}
		perm, rep := ParsePermutation(ans, w.Size())
		require.Zero(t, rep.Total())
		order = ApplyWindow(order, w, perm)
	}
	for i := 0; i < 10; i++ {
		assert.Equal(t, 99-i, strength[order[i]], "rank %d", i)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
