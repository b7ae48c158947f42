package rerank

import (
	"regexp"
	"strings"
)

// bracketNumber is rank_llm's _replace_number pattern \[(\d+)\]; Python's \d on str matches every
// Unicode decimal digit, hence \p{Nd}.
var bracketNumber = regexp.MustCompile(`\[(\p{Nd}+)\]`)

// ReplaceNumbers rewrites every "[n]" (decimal digits in square brackets) to "(n)", as rank_llm does to
// the query and the passages, so that passage text cannot be mistaken for an identifier.
func ReplaceNumbers(s string) string {
	if !strings.Contains(s, "[") {
		return s
	}
	return bracketNumber.ReplaceAllString(s, "($1)")
}

// NormalizeSpace collapses every run of white space to one space and trims the ends.
func NormalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// PassageText is the text of one candidate in a listwise prompt, following rank_llm's
// convert_doc_to_prompt_content: "Title: {title} Content: {text}" when there is a (non-blank) title,
// else the text; white space normalised; truncated to maxTokens tokens of tok (0 = no limit; a nil
// tok counts words, like rank_llm's max_passage_words); finally "[n]" rewritten to "(n)". rank_llm also
// runs ftfy.fix_text, which is not reproduced.
func PassageText(title, text string, maxTokens int, tok Tokenizer) string {
	s := text
	if strings.TrimSpace(title) != "" {
		s = "Title: " + title + " Content: " + text
	}
	s = NormalizeSpace(s)
	if maxTokens > 0 {
		if tok == nil {
			tok = Words()
		}
		s = tok.Truncate(s, maxTokens)
	}
	return ReplaceNumbers(s)
}

// PairwisePassageText is a candidate's text in a PRP prompt, as llm-rankers' run.py builds it:
// "{title} {text}" when there is a title, else the text; white space normalised; truncated to
// maxTokens tokens of tok (0 = no limit; nil tok counts words). "[n]" is left alone (llm-rankers does
// not rewrite it).
func PairwisePassageText(title, text string, maxTokens int, tok Tokenizer) string {
	s := text
	if strings.TrimSpace(title) != "" {
		s = title + " " + text
	}
	s = NormalizeSpace(s)
	if maxTokens > 0 {
		if tok == nil {
			tok = Words()
		}
		s = tok.Truncate(s, maxTokens)
	}
	return s
}
