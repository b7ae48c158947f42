package rerank

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplaceNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"see [1] and [23]":   "see (1) and (23)",
		"[a] [1a] [] [ 1 ]":  "[a] [1a] [] [ 1 ]",
		"[[2]]":              "[(2)]",
		"[٣] full [３]":       "(٣) full (３)", // Python's \d is Unicode-aware
		"no brackets 12":     "no brackets 12",
		"(4) stays":          "(4) stays",
		"[1][2]":             "(1)(2)",
		"nested [1] in [x1]": "nested (1) in [x1]",
	} {
		assert.Equal(t, want, ReplaceNumbers(in), in)
		assert.Equal(t, ReplaceNumbers(in), ReplaceNumbers(ReplaceNumbers(in)), "idempotent")
	}
}

func TestPassageTextShape(t *testing.T) {
	assert.Equal(t, "Title: Berlin Content: capital of Germany (1)", PassageText("Berlin", " capital \n of\tGermany [1] ", 0, nil))
	assert.Equal(t, "capital of Germany", PassageText("", "capital  of Germany", 0, nil))
	assert.Equal(t, "capital of Germany", PassageText("  ", "capital of Germany", 0, nil))
	assert.Equal(t, "Title: Berlin Content:", PassageText("Berlin", "", 0, nil))
	// nil tokenizer with a limit counts words
	assert.Equal(t, "Title: Berlin Content:", PassageText("Berlin", "capital of Germany", 3, nil))
}

func TestTiktoken(t *testing.T) {
	tok, err := NewTiktoken("")
	require.NoError(t, err)
	assert.Equal(t, 2, tok.Count("hello world"))
	assert.Equal(t, 0, tok.Count(""))
	assert.Equal(t, "hello", tok.Truncate("hello world", 1))
	assert.Equal(t, "hello world", tok.Truncate("hello world", 5))
	assert.Equal(t, "", tok.Truncate("hello world", 0))
	// special-token text is ordinary text
	assert.Greater(t, tok.Count("<|endoftext|>"), 1)

	o200, err := NewTiktoken("o200k_base")
	require.NoError(t, err)
	assert.Positive(t, o200.Count("Grüße aus Helsinki"))

	_, err = NewTiktoken("no_such_encoding")
	assert.Error(t, err)
}

func TestTiktokenTruncateLimits(t *testing.T) {
	tok, err := NewTiktoken("cl100k_base")
	require.NoError(t, err)
	texts := []string{
		strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40),
		strings.Repeat("Съешь же ещё этих мягких французских булок, да выпей чаю. ", 30),
		strings.Repeat("Ìgbà wo ni ọkọ̀ òfurufú máa gbéra? 東京都の天気は晴れ。🙂 ", 30),
	}
	for _, s := range texts {
		for _, n := range []int{1, 2, 3, 7, 64, 128, 256} {
			out := tok.Truncate(s, n)
			require.True(t, utf8.ValidString(out), "valid UTF-8 for n=%d", n)
			require.LessOrEqual(t, tok.Count(out), n)
			require.True(t, strings.HasPrefix(s, out), "a prefix")
			if n >= 7 {
				require.GreaterOrEqual(t, tok.Count(out), n-4, "not much shorter than asked")
			}
		}
	}
	p := PassageText("Helsinki", texts[0], 64, tok)
	assert.LessOrEqual(t, tok.Count(p), 64)
	assert.True(t, strings.HasPrefix(p, "Title: Helsinki Content: The quick brown fox"))
}

func TestTiktokenConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	counts := make([]int, 16)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := NewTiktoken("cl100k_base")
			if err != nil {
				t.Error(err)
				return
			}
			counts[i] = tok.Count(strings.Repeat("concurrent tokenization ", 50)) + len(tok.Truncate("a b c d e f", 3))
		}()
	}
	wg.Wait()
	for _, c := range counts {
		assert.Equal(t, counts[0], c)
	}
}

func TestWords(t *testing.T) {
	w := Words()
	assert.Equal(t, 3, w.Count(" a  b\nc "))
	assert.Equal(t, "a b", w.Truncate(" a  b\nc ", 2))
	assert.Equal(t, " a  b\nc ", w.Truncate(" a  b\nc ", 3))
	assert.Equal(t, "", w.Truncate("a b", 0))
}

func TestPairwisePassageText(t *testing.T) {
	assert.Equal(t, "Berlin capital of [1] Germany", PairwisePassageText("Berlin", " capital of\n[1] Germany", 0, nil))
	assert.Equal(t, "capital of", PairwisePassageText("", "capital of Germany", 2, nil))
	tok, err := NewTiktoken("")
	require.NoError(t, err)
	assert.LessOrEqual(t, tok.Count(PairwisePassageText("T", strings.Repeat("word ", 500), 128, tok)), 128)
}

// NormalizeSpace is strings.Fields joined by single spaces, for ASCII and
// Unicode white space, invalid UTF-8 and every mix of them.
func TestNormalizeSpaceIsFieldsJoined(t *testing.T) {
	cases := []string{"", " ", "a", " a ", "a  b", "\ta\nb\r\n", "a\u00a0b\u2003c\u0085d", "\u3000x\u3000",
		"\xff \xfe\x80", "a\x00b", "é  ü", "x\u200by", " \v\f "}
	pieces := []string{" ", "\t", "\n", "a", "é", "\u00a0", "\u2028", "\xff", "[1]", "\x85", "\xc2"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		if got, want := NormalizeSpace(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Fatalf("NormalizeSpace(%q) = %q, want %q", s, got, want)
		}
	}
	// normalizeJoin is NormalizeSpace of the parts joined, words spanning parts included, when no
	// character spans two parts: a title and a text between ASCII literals, as passages have them,
	// or run together when both are valid UTF-8.
	for i := range cases {
		title, text := cases[i], cases[(i*7+3)%len(cases)]
		joins := [][]string{{"Title: ", title, " Content: ", text}, {title, " ", text}, {"a", title, "b", text, "c"}}
		if utf8.ValidString(title) {
			joins = append(joins, []string{title, text})
		}
		for _, parts := range joins {
			if got, want := normalizeJoin(parts...), NormalizeSpace(strings.Join(parts, "")); got != want {
				t.Fatalf("normalizeJoin(%q) = %q, want %q", parts, got, want)
			}
		}
	}
}
