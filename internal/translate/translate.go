// Package translate translates queries and documents for cross-lingual IR:
// apertium (command or APy server), FreeDict dictionaries (query translation),
// OpenAI-compatible chat models and LibreTranslate-compatible HTTP servers, with
// a persistent cache and a batching front end.
//
// Languages are ISO 639-1 codes ("en", "es", "de"…) in the API; each
// implementation maps them to its own codes (apertium and FreeDict use ISO 639-3).
//
// Errors: *PermanentError / *inputerr.Error cannot be fixed by a retry
// (IsPermanent); everything else is transient. RetryAfter exposes a server's
// Retry-After for HTTP 429.
package translate

import (
	"context"
	"slices"
	"strings"
)

// Pair is a translation direction in ISO 639-1 codes.
type Pair struct{ Src, Tgt string }

func (p Pair) String() string { return p.Src + "→" + p.Tgt }

// Translator is one translation system.
type Translator interface {
	// ID identifies the system and everything that changes its output (package
	// version, model name, prompt hash…); it is part of cache keys.
	ID(p Pair) string
	// Pairs lists the supported pairs.
	Pairs(ctx context.Context) ([]Pair, error)
	// Translate translates each text independently; len(out) == len(texts).
	Translate(ctx context.Context, p Pair, texts []string) ([]string, error)
}

// iso3 maps ISO 639-1 to ISO 639-3 (the codes apertium and FreeDict use).
var iso3 = map[string]string{
	"af": "afr", "an": "arg", "ar": "ara", "ast": "ast", "be": "bel", "bg": "bul", "br": "bre",
	"ca": "cat", "cs": "ces", "cy": "cym", "da": "dan", "de": "deu", "el": "ell", "en": "eng",
	"eo": "epo", "es": "spa", "et": "est", "eu": "eus", "fa": "fas", "fi": "fin", "fr": "fra",
	"ga": "gle", "gd": "gla", "gl": "glg", "ha": "hau", "he": "heb", "hi": "hin", "hr": "hrv",
	"hu": "hun", "hy": "hye", "id": "ind", "is": "isl", "it": "ita", "ja": "jpn", "ka": "kat",
	"kk": "kaz", "ko": "kor", "la": "lat", "lt": "lit", "lv": "lav", "mk": "mkd", "ms": "msa",
	"mt": "mlt", "nb": "nob", "nl": "nld", "nn": "nno", "no": "nor", "oc": "oci", "pl": "pol",
	"pt": "por", "ro": "ron", "ru": "rus", "sc": "srd", "sk": "slk", "sl": "slv", "so": "som",
	"sq": "sqi", "sr": "srp", "sv": "swe", "sw": "swa", "tr": "tur", "tt": "tat", "uk": "ukr",
	"ur": "urd", "vi": "vie", "yo": "yor", "zh": "zho", "zu": "zul", "xh": "xho", "ig": "ibo",
	"am": "amh", "th": "tha", "lb": "ltz", "fy": "fry", "kmr": "kmr", "hbs": "hbs",
}

// iso1 is the inverse of iso3, plus bibliographic/alternative 3-letter codes.
var iso1 = func() map[string]string {
	m := make(map[string]string, len(iso3)+8)
	for k, v := range iso3 {
		m[v] = k
	}
	for k, v := range map[string]string{"ger": "de", "fre": "fr", "dut": "nl", "gre": "el", "cze": "cs",
		"slo": "sk", "rum": "ro", "chi": "zh", "per": "fa", "swh": "sw", "nob": "nb", "zsm": "ms"} {
		m[k] = v
	}
	return m
}()

// ISO3 returns the ISO 639-3 code of an ISO 639-1 code ("" when unknown).
// A 3-letter code is returned as is.
func ISO3(code string) string {
	code = strings.ToLower(code)
	if v, ok := iso3[code]; ok {
		return v
	}
	if len(code) == 3 {
		return code
	}
	return ""
}

// ISO1 returns the ISO 639-1 code of an ISO 639-3 code, or the code itself when
// no 2-letter code is known.
func ISO1(code string) string {
	code = strings.ToLower(code)
	if v, ok := iso1[code]; ok {
		return v
	}
	return code
}

// FormatPairs renders pairs for messages: "es→en, en→es".
func FormatPairs(pairs []Pair) string {
	s := make([]string, len(pairs))
	for i, p := range pairs {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

func sortPairs(ps []Pair) []Pair {
	slices.SortFunc(ps, func(a, b Pair) int {
		if c := strings.Compare(a.Src, b.Src); c != 0 {
			return c
		}
		return strings.Compare(a.Tgt, b.Tgt)
	})
	return slices.Compact(ps)
}

// unknownPair is the permanent error for a pair a system does not offer.
func unknownPair(system string, p Pair, offered []Pair) error {
	return &PermanentError{System: system, Msg: "unknown pair " + p.String() + "; " + system + " offers: " + FormatPairs(offered)}
}
