package rerank

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
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

// NormalizeSpace collapses every run of white space (unicode.IsSpace) to one space and trims the
// ends: strings.Join(strings.Fields(s), " ") in one pass and one allocation (it runs over every
// candidate passage of a run, which made it a fifth of preparing the candidates).
func NormalizeSpace(s string) string {
	b := make([]byte, 0, len(s))
	space := false // white space seen since the last word
	for i := 0; i < len(s); {
		c, size := s[i], 1
		isSpace := asciiSpace[c]
		if c >= utf8.RuneSelf {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			isSpace = unicode.IsSpace(r)
		}
		if isSpace {
			space = true
		} else {
			if space && len(b) > 0 {
				b = append(b, ' ')
			}
			space = false
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// asciiSpace is strings.Fields' ASCII white space.
var asciiSpace = [256]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

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
