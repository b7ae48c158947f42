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
	b, _ := appendFields(make([]byte, 0, len(s)), false, s)
	if string(b) == s { // already normalized: no second copy
		return s
	}
	return string(b)
}

// normalizeJoin is NormalizeSpace(strings.Join(parts, "")) with one allocation, for parts that no
// character spans (a passage's title and text between ASCII literals): a passage is built and
// normalized at once, not concatenated and then copied again.
func normalizeJoin(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b, inWord := make([]byte, 0, n), false
	for _, p := range parts {
		b, inWord = appendFields(b, inWord, p)
	}
	return string(b)
}

// appendFields appends the words of s (split at unicode.IsSpace) to b, one space before each
// unless b is empty or inWord (b ends in a word that s continues); it reports whether s ends in a
// word.
func appendFields(b []byte, inWord bool, s string) ([]byte, bool) {
	word := -1 // start of the word being read, -1 between words
	if inWord {
		word = 0
	}
	for i := 0; i < len(s); {
		c, size := s[i], 1
		isSpace := asciiSpace[c]
		if c >= utf8.RuneSelf {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			isSpace = unicode.IsSpace(r)
		}
		switch {
		case isSpace && word >= 0: // a word ends: copy it whole
			b = append(b, s[word:i]...)
			word = -1
		case !isSpace && word < 0:
			if len(b) > 0 {
				b = append(b, ' ')
			}
			word = i
		}
		i += size
	}
	if word >= 0 {
		return append(b, s[word:]...), true
	}
	return b, false
}

// asciiSpace is strings.Fields' ASCII white space.
var asciiSpace = [256]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// PassageText is the text of one candidate in a listwise prompt, following rank_llm's
// convert_doc_to_prompt_content: "Title: {title} Content: {text}" when there is a (non-blank) title,
// else the text; white space normalised; truncated to maxTokens tokens of tok (0 = no limit; a nil
// tok counts words, like rank_llm's max_passage_words); finally "[n]" rewritten to "(n)". rank_llm also
// runs ftfy.fix_text, which is not reproduced.
func PassageText(title, text string, maxTokens int, tok Tokenizer) string {
	var s string
	if strings.TrimSpace(title) != "" {
		s = normalizeJoin("Title: ", title, " Content: ", text)
	} else {
		s = NormalizeSpace(text)
	}
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
	var s string
	if strings.TrimSpace(title) != "" {
		s = normalizeJoin(title, " ", text)
	} else {
		s = NormalizeSpace(text)
	}
	if maxTokens > 0 {
		if tok == nil {
			tok = Words()
		}
		s = tok.Truncate(s, maxTokens)
	}
	return s
}
