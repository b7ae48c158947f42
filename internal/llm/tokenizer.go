package llm

import (
	"fmt"
	"strings"

	tiktoken "github.com/pkoukk/tiktoken-go"

	"github.com/clirflow/clirflow/internal/tokens"
)

// Tokenizer counts the tokens of a text. It is used to estimate a request's
// tokens for the TokensPerMinute limit before the call, and to count tokens
// when a server's answer carries no usage. Implementations must be safe for
// concurrent use.
type Tokenizer interface {
	Count(text string) int
}

// TokenizerFunc adapts a function to Tokenizer.
type TokenizerFunc func(text string) int

// Count calls f.
func (f TokenizerFunc) Count(text string) int { return f(text) }

// WordTokenizer counts whitespace-separated words: a cheap, dependency-free
// approximation (and the count the llmtest server reports as usage).
var WordTokenizer Tokenizer = TokenizerFunc(func(text string) int { return len(strings.Fields(text)) })

// tiktokenCounter counts with a BPE encoding, ignoring special tokens (a
// "<|endoftext|>" in a passage is counted as ordinary text, never a panic).
type tiktokenCounter struct{ enc *tiktoken.Tiktoken }

func (t tiktokenCounter) Count(text string) int {
	if text == "" {
		return 0
	}
	return len(t.enc.EncodeOrdinary(text))
}

// NewTiktoken returns a Tokenizer for a tiktoken encoding ("cl100k_base",
// "o200k_base", …), loaded from the offline BPE files: no network. The
// encoding is the process's one copy (internal/tokens).
func NewTiktoken(encoding string) (Tokenizer, error) {
	enc, err := tokens.Encoding(encoding)
	if err != nil {
		return nil, fmt.Errorf("llm: tokenizer: %w", err)
	}
	return tiktokenCounter{enc: enc}, nil
}

// DefaultTokenizer is cl100k_base (GPT-3.5/4 and a fair estimate for the
// open models served by vLLM/Ollama).
func DefaultTokenizer() (Tokenizer, error) { return NewTiktoken("cl100k_base") }

// Per-message overhead of the chat format (OpenAI's published estimate for
// gpt-3.5/gpt-4: 3 tokens per message, 3 to prime the reply).
const (
	tokensPerMessage = 3
	tokensPerReply   = 3
)

// CountMessages estimates the prompt tokens of a chat request.
func CountMessages(t Tokenizer, msgs []Message) int {
	n := tokensPerReply
	for _, m := range msgs {
		n += tokensPerMessage + t.Count(m.Role) + t.Count(m.Content)
	}
	return n
}
