package embed

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	tiktoken "github.com/pkoukk/tiktoken-go"

	"github.com/clirflow/clirflow/internal/tokens"
)

// Tokenizer counts tokens and truncates texts to a number of tokens.
//
// The encoders' own tokenizers (XLM-R SentencePiece for e5, BGE-M3 and mGTE;
// Llama/Mistral for RepLLaMA and NV-Embed) are not available in Go, so the
// default is tiktoken's cl100k_base, an approximation: for Latin-script text
// it is close, for other scripts it usually counts more tokens than
// SentencePiece, which makes truncation cut earlier than needed, never later
// than intended by much. Servers that truncate themselves (vLLM's
// truncate_prompt_tokens, TEI's truncate) stay the exact safety net.
type Tokenizer interface {
	Count(text string) int
	// Truncate returns the longest prefix of text that has at most n tokens
	// (n ≥ 1), cut at a token boundary, and its token count.
	Truncate(text string, n int) (string, int)
}

// WordTokenizer counts whitespace-separated words (the llmtest server's
// usage count); Truncate keeps the first n words and the text between them.
var WordTokenizer Tokenizer = wordTokenizer{}

type wordTokenizer struct{}

func (wordTokenizer) Count(text string) int { return len(strings.Fields(text)) }

func (wordTokenizer) Truncate(text string, n int) (string, int) {
	words, inWord := 0, false
	for i, r := range text {
		if unicode.IsSpace(r) {
			if inWord && words == n {
				return text[:i], n
			}
			inWord = false
		} else if !inWord {
			inWord = true
			words++
		}
	}
	return text, words
}

type tiktokenizer struct{ enc *tiktoken.Tiktoken }

// NewTiktoken returns a Tokenizer for a tiktoken encoding ("cl100k_base",
// "o200k_base"): the process's one copy, loaded offline (internal/tokens).
func NewTiktoken(encoding string) (Tokenizer, error) {
	enc, err := tokens.Encoding(encoding)
	if err != nil {
		return nil, fmt.Errorf("embed: tokenizer: %w", err)
	}
	return tiktokenizer{enc: enc}, nil
}

// DefaultTokenizer is cl100k_base (exact for OpenAI's embedding models).
func DefaultTokenizer() (Tokenizer, error) { return NewTiktoken("cl100k_base") }

// Special tokens such as "</s>" or "<|endoftext|>" are counted as ordinary text.
func (t tiktokenizer) Count(text string) int {
	if text == "" {
		return 0
	}
	return len(t.enc.EncodeOrdinary(text))
}

func (t tiktokenizer) Truncate(text string, n int) (string, int) {
	if len(text) <= n { // every token has at least one byte
		return text, t.Count(text)
	}
	toks := t.enc.EncodeOrdinary(text)
	if len(toks) <= n {
		return text, len(toks)
	}
	// The tokens of a prefix decode to a byte prefix of text; a token may end
	// inside a multi-byte character, whose partial bytes are dropped.
	kept := text[:min(len(t.enc.Decode(toks[:n])), len(text))]
	for i := 0; i < utf8.UTFMax-1 && kept != ""; i++ {
		if r, size := utf8.DecodeLastRuneInString(kept); r != utf8.RuneError || size != 1 {
			break
		}
		kept = kept[:len(kept)-1]
	}
	return kept, n
}
