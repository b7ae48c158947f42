package rerank

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go"

	"github.com/clirflow/clirflow/internal/tokens"
)

// Tokenizer counts and truncates text in tokens. Implementations are deterministic and safe for
// concurrent use.
type Tokenizer interface {
	// Count is the number of tokens of s.
	Count(s string) int
	// Truncate returns the longest prefix of s with at most n tokens (s itself when it fits).
	Truncate(s string, n int) string
}

// DefaultEncoding is the tiktoken encoding NewTiktoken uses for "".
const DefaultEncoding = "cl100k_base"

// NewTiktoken returns a tokenizer for a tiktoken encoding ("cl100k_base" when empty; "o200k_base",
// "p50k_base", "r50k_base" …), loaded from the offline vocabulary files compiled into
// tiktoken-go-loader — no network. Encodings are built once per process and shared. Special-token
// text such as "<|endoftext|>" is encoded as ordinary text.
func NewTiktoken(encoding string) (Tokenizer, error) {
	if encoding == "" {
		encoding = DefaultEncoding
	}
	enc, err := tokens.Encoding(encoding)
	if err != nil {
		return nil, fmt.Errorf("rerank: %w", err)
	}
	return tiktokenTokenizer{enc}, nil
}

type tiktokenTokenizer struct{ enc *tiktoken.Tiktoken }

func (t tiktokenTokenizer) Count(s string) int {
	if s == "" {
		return 0
	}
	return len(t.enc.EncodeOrdinary(s))
}

func (t tiktokenTokenizer) Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n { // every token is at least a byte: nothing to cut
		return s
	}
	toks := t.enc.EncodeOrdinary(s)
	if len(toks) <= n {
		return s
	}
	for m := n; m > 0; m-- {
		out := trimPartialRune(t.enc.Decode(toks[:m]))
		out = strings.TrimRight(out, " \t\r\n")
		if t.Count(out) <= n {
			return out
		}
	}
	return ""
}

// trimPartialRune drops invalid UTF-8 at the end of s: a token boundary can split a multi-byte
// character.
func trimPartialRune(s string) string {
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return strings.ToValidUTF8(s, "")
}

// Words is the tokenizer rank_llm uses by default: white-space separated words (truncating joins the
// first n words with single spaces).
func Words() Tokenizer { return wordTokenizer{} }

type wordTokenizer struct{}

func (wordTokenizer) Count(s string) int { return len(strings.Fields(s)) }

func (wordTokenizer) Truncate(s string, n int) string {
	f := strings.Fields(s)
	if len(f) <= n {
		return s
	}
	return strings.Join(f[:max(n, 0)], " ")
}
