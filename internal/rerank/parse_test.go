package rerank

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePermutationPeerVectors(t *testing.T) {
	var cases []struct {
		Answer      string `json:"answer"`
		Window      int    `json:"window"`
		Permutation []int  `json:"permutation"`
	}
	data, err := os.ReadFile("testdata/parse_vectors.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &cases))
	require.NotEmpty(t, cases)
	for _, c := range cases {
		got, rep := ParsePermutation(c.Answer, c.Window)
		assert.Equal(t, c.Permutation, got, "%q", c.Answer)
		assert.True(t, IsPermutation(got, c.Window))
		assert.GreaterOrEqual(t, rep.Total(), 0)
	}
}

func TestParsePermutationRepairs(t *testing.T) {
	for _, c := range []struct {
		answer string
		n      int
		perm   []int
		rep    Repairs
	}{
		{"[3] > [1] > [2]", 3, []int{2, 0, 1}, Repairs{}},
		{"  [2] > [1] > [3]\n", 3, []int{1, 0, 2}, Repairs{}},
		{"", 4, []int{0, 1, 2, 3}, Repairs{Empty: true, Missing: 4}},
		{"I cannot rank these passages.", 3, []int{0, 1, 2}, Repairs{Empty: true, Missing: 3}},
		{"[2] > [2] > [1]", 3, []int{1, 0, 2}, Repairs{Duplicates: 1, Missing: 1}},
		{"[9] > [0] > [2]", 3, []int{1, 0, 2}, Repairs{OutOfRange: 2, Missing: 2}},
		{"[9] > [9]", 2, []int{0, 1}, Repairs{Duplicates: 1, OutOfRange: 1, Missing: 2}},
		{"<think>[9] > [1]</think>[2] > [1]", 3, []int{1, 0, 2}, Repairs{ThinkDropped: true, Missing: 1}},
		{"<think>a</think><think>b</think> [1] > [2]", 2, []int{0, 1}, Repairs{ThinkDropped: true}},
		{"<think>[2] > [1]", 2, []int{1, 0}, Repairs{}}, // no closing tag: rank_llm parses all of it
		{"① > ③ > ②", 3, []int{0, 2, 1}, Repairs{NonASCIIDigits: 3}},
		{"３ > [1] > ２", 3, []int{2, 0, 1}, Repairs{NonASCIIDigits: 2}},
		{"[¹²] > [³]", 12, append([]int{11, 2, 0, 1}, 3, 4, 5, 6, 7, 8, 9, 10), Repairs{NonASCIIDigits: 3, Missing: 10}},
		{"[₂] > [❶] > [🄃]", 3, []int{1, 0, 2}, Repairs{NonASCIIDigits: 3}},
		{"[٣] > [١] > [٢]", 3, []int{2, 0, 1}, Repairs{NonASCIIDigits: 3}}, // Arabic-Indic: Python's int() reads them
		{"⑩ > ❶", 10, identity(10), Repairs{NonASCIIDigits: 1, Missing: 9}},
		{"[2] > ⑴", 3, []int{0, 1, 2}, Repairs{Unparsable: true, Missing: 3}}, // int('⑴') raises in rank_llm
		{"[99999999999999999999] > [1]", 2, []int{0, 1}, Repairs{OutOfRange: 1, Missing: 1}},
		{"[01] > [02]", 2, []int{0, 1}, Repairs{}},
		{"[1] > [2]", 0, []int{}, Repairs{OutOfRange: 2}},
	} {
		perm, rep := ParsePermutation(c.answer, c.n)
		assert.Equal(t, c.perm, perm, "%q", c.answer)
		assert.Equal(t, c.rep, rep, "%q", c.answer)
	}
}

func TestParsePermutationGarbageIsIdentityAllMissing(t *testing.T) {
	for _, ans := range []string{"", "   ", "no idea", "[] > [] > []", "</think>", "<think>[1] > [2]</think>"} {
		perm, rep := ParsePermutation(ans, 20)
		assert.Equal(t, identity(20), perm, "%q", ans)
		assert.True(t, rep.Empty, "%q", ans)
		assert.Equal(t, 20, rep.Missing, "%q", ans)
	}
}

func TestRepairsTotal(t *testing.T) {
	assert.Equal(t, 0, Repairs{}.Total())
	assert.Equal(t, 1+2+3+4+5+1+1, Repairs{true, 2, 3, 4, 5, true, true}.Total())
}

func TestParsePermutationAlwaysAPermutation(t *testing.T) {
	answers := []string{"[3] > [3] > [30] > ③ > [0]", "1 2 3 4 5 6 7 8 9 10 11", "[a] > [b]", "[20] > [19] > [1]"}
	for _, a := range answers {
		for n := 0; n <= 21; n++ {
			perm, rep := ParsePermutation(a, n)
			require.True(t, IsPermutation(perm, n), "%q n=%d → %v", a, n, perm)
			require.LessOrEqual(t, rep.Missing, n)
		}
	}
}
