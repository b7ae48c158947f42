package translate

import (
	"regexp"
	"strings"
	"unicode"
)

// ParagraphBreak is the element SplitSentences emits between paragraphs; Join
// turns it back into a newline. Batcher returns whitespace-only texts unchanged,
// so it passes through translation.
const ParagraphBreak = "\n"

var abbreviations = map[string][]string{
	"en": {"e.g.", "i.e.", "mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "etc.", "vs.", "no.", "nos.", "fig.",
		"approx.", "inc.", "ltd.", "jr.", "sr.", "cf.", "al.", "resp.", "ca.", "vol.", "ed.", "eds.", "u.s.", "a.k.a."},
	"de": {"z.b.", "bzw.", "usw.", "d.h.", "nr.", "ca.", "vgl.", "u.a.", "dr.", "prof.", "evtl.", "ggf.", "inkl.",
		"bspw.", "z.t.", "u.ä.", "sog.", "str.", "etc.", "s.", "abs.", "bd.", "hr.", "fr.", "geb.", "mio.", "mrd.", "zzgl.", "u.u.", "o.ä."},
	"es": {"p.ej.", "p.", "ej.", "sr.", "sra.", "srta.", "dr.", "dra.", "etc.", "ud.", "uds.", "pág.", "núm.", "art.",
		"aprox.", "vol.", "ee.uu.", "cf.", "vs.", "a.c.", "d.c.", "lic.", "ing."},
	"fr": {"m.", "mm.", "mme.", "mlle.", "dr.", "etc.", "p.ex.", "cf.", "env.", "av.", "apr.", "j.-c.", "n°.", "vol."},
	"it": {"sig.", "sigg.", "dott.", "ecc.", "es.", "pag.", "p.es.", "ca.", "prof.", "dr.", "etc.", "vol."},
	"nl": {"bijv.", "d.w.z.", "enz.", "o.a.", "dhr.", "mevr.", "dr.", "prof.", "etc.", "ca.", "nr."},
	"pt": {"p.ex.", "sr.", "sra.", "dr.", "dra.", "etc.", "pág.", "núm.", "vol."},
	"fi": {"esim.", "ns.", "mm.", "jne.", "tms.", "ym.", "n.", "t.", "prof.", "tri."},
	"sv": {"t.ex.", "bl.a.", "m.m.", "osv.", "etc.", "dvs.", "ca.", "nr."},
	"ru": {"т.е.", "т.д.", "т.п.", "др.", "пр.", "г.", "гг.", "см.", "им."},
}

var abbrevSets = func() map[string]map[string]bool {
	m := map[string]map[string]bool{}
	for lang, list := range abbreviations {
		s := map[string]bool{}
		for _, a := range list {
			s[a] = true
		}
		m[lang] = s
	}
	return m
}()

var paragraphRE = regexp.MustCompile(`\n[ \t\r\f\v]*\n\s*`)

func isTerminator(r rune) bool { return r == '.' || r == '!' || r == '?' || r == '…' }
func isCloser(r rune) bool {
	return strings.ContainsRune(`"'”’»)]}`, r)
}
func isOpener(r rune) bool { return strings.ContainsRune(`"'“‘„«([¿¡`, r) }

// SplitSentences splits text into sentences with language-specific rules
// (lang: ISO 639-1; unknown languages use the English abbreviations):
// a sentence ends after . ! ? … (plus any closing quotes/brackets) followed by
// whitespace and an uppercase letter or digit (optionally after an opening
// quote, bracket, ¿ or ¡), except after a known abbreviation of the language or
// a single-letter initial. Every line break also ends a sentence; a paragraph
// break (blank line) is emitted as a ParagraphBreak element. Empty sentences
// are dropped; output is deterministic.
func SplitSentences(lang, text string) []string {
	abbr := abbrevSets[strings.ToLower(lang)]
	if abbr == nil {
		abbr = abbrevSets["en"]
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var out []string
	for pi, para := range paragraphRE.Split(strings.TrimSpace(text), -1) {
		if pi > 0 && len(out) > 0 && out[len(out)-1] != ParagraphBreak {
			out = append(out, ParagraphBreak)
		}
		for _, line := range strings.Split(para, "\n") {
			out = append(out, splitLine(line, abbr)...)
		}
	}
	if n := len(out); n > 0 && out[n-1] == ParagraphBreak {
		out = out[:n-1]
	}
	return out
}

func splitLine(line string, abbr map[string]bool) []string {
	rs := []rune(line)
	var out []string
	start := 0
	emit := func(end int) {
		if s := strings.TrimSpace(string(rs[start:end])); s != "" {
			out = append(out, s)
		}
		start = end
	}
	for i := 0; i < len(rs); i++ {
		if !isTerminator(rs[i]) {
			continue
		}
		j := i + 1
		for j < len(rs) && (isTerminator(rs[j]) || isCloser(rs[j])) {
			j++
		}
		end := j
		if j >= len(rs) || !unicode.IsSpace(rs[j]) {
			i = j - 1
			continue
		}
		for j < len(rs) && unicode.IsSpace(rs[j]) {
			j++
		}
		k := j
		for k < len(rs) && isOpener(rs[k]) {
			k++
		}
		if k >= len(rs) || !(unicode.IsUpper(rs[k]) || unicode.IsDigit(rs[k])) {
			i = end - 1
			continue
		}
		if rs[i] == '.' && end == i+1 && isAbbreviation(rs[start:i+1], abbr) {
			i = end - 1
			continue
		}
		emit(end)
		i = end - 1
	}
	emit(len(rs))
	return out
}

// isAbbreviation reports whether the token ending at the final '.' of s is an
// abbreviation or a single-letter initial ("J.").
func isAbbreviation(s []rune, abbr map[string]bool) bool {
	b := len(s) - 1
	for b > 0 && !unicode.IsSpace(s[b-1]) && !isOpener(s[b-1]) {
		b--
	}
	tok := strings.ToLower(string(s[b:]))
	if abbr[tok] {
		return true
	}
	// "p. ej.", "z. B." written with a space: check the last two tokens.
	if b > 0 {
		c := b - 1
		for c > 0 && unicode.IsSpace(s[c-1]) == false {
			c--
		}
		if abbr[strings.ToLower(strings.ReplaceAll(string(s[c:]), " ", ""))] {
			return true
		}
	}
	word := []rune(strings.TrimSuffix(tok, "."))
	return len(word) == 1 && unicode.IsLetter(word[0])
}

// Join puts sentences back together with single spaces; ParagraphBreak
// elements (and any whitespace-only element containing a newline) become "\n".
func Join(sentences []string) string {
	var b strings.Builder
	sep := ""
	for _, s := range sentences {
		if strings.TrimSpace(s) == "" {
			if strings.Contains(s, "\n") && b.Len() > 0 {
				sep = "\n"
			}
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(strings.TrimSpace(s))
		sep = " "
	}
	return b.String()
}
