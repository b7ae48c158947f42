package rerank

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePairwise(t *testing.T) {
	for _, c := range []struct {
		answer   string
		v        Verdict
		repaired bool
	}{
		{"Passage A", A, false},
		{"Passage B", B, false},
		{"  Passage B\n", B, false},
		{"A", A, false},
		{"B", B, false},
		{"Passage A.", A, true},
		{"Passage B is more relevant.", B, true},
		{"Passage B is more relevant than Passage A", B, true}, // first mention, as llm-rankers' regex
		{"Output: Passage A", A, true},
		{"**Passage B**", B, true},
		{"passage: b", B, true},
		{"PASSAGE A", A, true},
		{"<think>Passage A looks better… no.</think>\nPassage B", B, true},
		{"<think>hmm</think> A.", A, true},
		{"a", A, true},
		{"(B)", B, true},
		{"", Unknown, false},
		{"Both are equally relevant.", Unknown, false},
		{"Passage C", Unknown, false},
		{"Passages Alpha", Unknown, false},
		{"<think>Passage A</think>", Unknown, false},
	} {
		v, rep := ParsePairwise(c.answer)
		assert.Equal(t, c.v, v, "%q", c.answer)
		assert.Equal(t, c.repaired, rep, "%q", c.answer)
	}
}

func TestDecide(t *testing.T) {
	for _, c := range []struct {
		asA, asB        Verdict
		lower, upper, x bool
	}{
		{A, B, true, false, false},
		{B, A, false, true, false},
		{A, A, false, false, true},
		{B, B, false, false, true},
		{Unknown, B, false, false, true},
		{A, Unknown, false, false, true},
		{Unknown, Unknown, false, false, true},
	} {
		l, u, x := Decide(c.asA, c.asB)
		assert.Equal(t, [3]bool{c.lower, c.upper, c.x}, [3]bool{l, u, x}, "%v %v", c.asA, c.asB)
	}
}

func TestVerdictJSON(t *testing.T) {
	b, err := json.Marshal(map[string]Verdict{"x": A, "y": B, "z": Unknown})
	require.NoError(t, err)
	assert.JSONEq(t, `{"x":"A","y":"B","z":"?"}`, string(b))
	var back map[string]Verdict
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, map[string]Verdict{"x": A, "y": B, "z": Unknown}, back)
	var v Verdict
	assert.Error(t, json.Unmarshal([]byte(`"C"`), &v))
}
