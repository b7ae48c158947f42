package llmtest

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The usage's word counts are len(strings.Fields(s)), for ASCII and Unicode
// white space and invalid UTF-8.
func TestWordCountIsFields(t *testing.T) {
	pieces := []string{" ", "\t", "\n", "a", "é", "\u00a0", "\u2028", "\u3000", "\xff", "\x85", "\xc2", "[1]", "\v"}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		require.Equal(t, len(strings.Fields(s)), wordCount(s), "%q", s)
	}
}
