package rerank

import (
	"fmt"
	"regexp"
	"strings"
)

// Verdict is the answer to one PRP prompt: which passage the model chose.
type Verdict uint8

// Verdicts. The zero value is Unknown.
const (
	Unknown Verdict = iota
	A
	B
)

func (v Verdict) String() string {
	switch v {
	case A:
		return "A"
	case B:
		return "B"
	default:
		return "?"
	}
}

// MarshalText encodes a verdict as "A", "B" or "?".
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText decodes "A", "B" or "?" (also "").
func (v *Verdict) UnmarshalText(b []byte) error {
	switch string(b) {
	case "A":
		*v = A
	case "B":
		*v = B
	case "?", "":
		*v = Unknown
	default:
		return fmt.Errorf("rerank: verdict %q", b)
	}
	return nil
}

var (
	passageExact = regexp.MustCompile(`Passage ([AB])\b`)
	passageLoose = regexp.MustCompile(`(?i)\bpassage\W{0,3}([AB])\b`)
)

// ParsePairwise reads the model's answer to a PRP prompt. Canonical answers are "Passage A" and
// "Passage B" (surrounding white space ignored) and, as llm-rankers' OpenAI ranker accepts, a bare "A"
// or "B"; then repaired is false. Otherwise, as llm-rankers' OpenAI ranker does, the first
// "Passage A"/"Passage B" in the answer decides ("Passage B is more relevant than Passage A" → B),
// after dropping everything up to the last "</think>"; failing that a case-insensitive "passage: a",
// "**Passage B**" or a bare letter with punctuation ("A.") is accepted; repaired is then true. An
// answer naming no passage is Unknown (llm-rankers falls back to "A" there; Unknown never moves a
// document), with repaired false.
func ParsePairwise(answer string) (v Verdict, repaired bool) {
	s := strings.TrimSpace(answer)
	switch s {
	case "Passage A", "A":
		return A, false
	case "Passage B", "B":
		return B, false
	}
	if i := strings.LastIndex(s, "</think>"); i >= 0 {
		s = strings.TrimSpace(s[i+len("</think>"):])
	}
	if m := passageExact.FindStringSubmatch(s); m != nil {
		return letter(m[1]), true
	}
	if m := passageLoose.FindStringSubmatch(s); m != nil {
		return letter(strings.ToUpper(m[1])), true
	}
	bare := strings.ToUpper(strings.Trim(s, " \t\r\n.:;,!*\"'`()[]{}<>"))
	if bare == "A" || bare == "B" {
		return letter(bare), true
	}
	return Unknown, false
}

func letter(s string) Verdict {
	if s == "A" {
		return A
	}
	return B
}

// Decide combines the two prompts of one comparison the llm-rankers way. asA is the verdict of the
// prompt with the lower-ranked document as Passage A (upper as B); asB the verdict of the prompt with
// the upper document as Passage A (lower as B). The lower document wins only when it wins both
// (asA == A and asB == B); the upper wins when it wins both; anything else is inconsistent.
func Decide(asA, asB Verdict) (lowerWins, upperWins, inconsistent bool) {
	switch {
	case asA == A && asB == B:
		return true, false, false
	case asA == B && asB == A:
		return false, true, false
	default:
		return false, false, true
	}
}
