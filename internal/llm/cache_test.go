package llm

import (
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// SumJSON hashes exactly json.Marshal's bytes: HTML characters, U+2028,
// invalid UTF-8, control characters, large prompts, nil and empty values.
func TestSumJSONIsTheHashOfMarshal(t *testing.T) {
	big := strings.Repeat("passage <b>&amp;</b> \u2028 ü \x00\xff\n", 2000)
	for _, v := range []any{
		nil, "", "x", []Message{}, []Message(nil),
		[]Message{{Role: "system", Content: "<rank> & \"quote\" \\ \t"}, {Role: "user", Content: big}},
		canonicalRequest{V: keyV, Model: "m", Messages: []Message{{Role: "user", Content: "\xc3\x28 bad utf-8"}}, Temperature: "0", Stop: []string{"\n"}},
		map[string]int{"b": 2, "a": 1},
	} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		got, err := SumJSON(v)
		require.NoError(t, err)
		require.Equal(t, sha256.Sum256(b), got, "%q", b[:min(len(b), 80)])
	}
	_, err := SumJSON(func() {})
	require.Error(t, err)
}
