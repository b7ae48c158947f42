// Package analysis turns text into index terms for BM25 retrieval.
//
// The analyzers approximate the Lucene analyzers that Pyserini uses, with
// Snowball stemmers (github.com/blevesearch/snowballstem) instead of
// Lucene's light stemmers:
//
//   - Tokenization ("standard" analyzers) is a simplified Unicode UAX#29 word
//     segmentation, close to Lucene's StandardTokenizer:
//     a token is a maximal run of Unicode letters, decimal digits and
//     combining marks (Mn, Mc, Me). Some characters are kept when they are
//     inside a token (UAX#29 rules WB6/7, WB11/12, WB13):
//     an apostrophe (U+0027, U+2018, U+2019, U+FF07), a full stop
//     (U+002E, U+FE52, U+FF0E), a colon (U+003A) or a middle dot (U+00B7)
//     between two letters ("don't", "O'Neil", "U.S.A", "k:a");
//     an apostrophe, a full stop, a comma or a semicolon between two digits
//     ("3.14", "1,000"); an underscore between two token characters.
//     Han ideographs and Hiragana characters are emitted one per token, as
//     StandardTokenizer does. Unlike Lucene, over-long tokens (> 255 chars)
//     are not split, and the finer UAX#29 rules (Katakana, Hebrew letters,
//     emoji, regional indicators, ...) are not implemented.
//   - English (en) then follows Lucene's EnglishAnalyzer: the possessive
//     "'s" ("’s", "＇s") is dropped, tokens are lowercased, Lucene's 33
//     English stop words are removed and the Porter stemmer is applied
//     (Snowball's "porter" algorithm. Lucene's PorterStemmer follows
//     Porter's C implementation, which departs slightly from the published
//     algorithm in step 2, e.g. "bli"->"ble" and "logi"->"log"; such
//     differences are not reproduced).
//   - The other standard languages lowercase, remove the Snowball project's
//     stop words for the language (embedded from stopwords/*.txt) and stem
//     with the language's Snowball stemmer. French and Italian first strip
//     elided articles ("l'avion" -> "avion") like Lucene's ElisionFilter.
//   - Hausa (ha), Somali (so), Swahili (sw), Yoruba (yo) and the generic
//     codes "none" and "whitespace" only split on whitespace (Java's
//     Character.isWhitespace definition, like Lucene's WhitespaceTokenizer)
//     and lowercase.
//
// Analyzers are immutable apart from an internal, bounded, concurrency-safe
// cache of stemmed forms, and are safe for concurrent use.
package analysis

import (
	"embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	snowball "github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/danish"
	"github.com/blevesearch/snowballstem/dutch"
	"github.com/blevesearch/snowballstem/finnish"
	"github.com/blevesearch/snowballstem/french"
	"github.com/blevesearch/snowballstem/german"
	"github.com/blevesearch/snowballstem/hungarian"
	"github.com/blevesearch/snowballstem/italian"
	"github.com/blevesearch/snowballstem/norwegian"
	"github.com/blevesearch/snowballstem/porter"
	"github.com/blevesearch/snowballstem/portuguese"
	"github.com/blevesearch/snowballstem/russian"
	"github.com/blevesearch/snowballstem/spanish"
	"github.com/blevesearch/snowballstem/swedish"
)

// Analyzer turns a text into the sequence of terms that is indexed or
// searched. Implementations must be safe for concurrent use.
type Analyzer interface {
	// Language is the language code the analyzer was obtained for.
	Language() string
	// Analyze returns the terms of text, in order, duplicates included.
	Analyze(text string) []string
	// Version identifies the analyzer's behaviour. It changes whenever the
	// terms produced for some input change, and belongs in cache keys.
	Version() string
}

// TokenAppender is implemented by analyzers that can append the terms of a
// text to a caller-provided slice, avoiding the allocation of a new slice
// per call. The terms are the same as Analyze's.
type TokenAppender interface {
	AppendTokens(dst []string, text string) []string
}

// RawTokenizer is implemented by analyzers whose analysis is a tokenizer
// followed by a function of each token alone (nothing spans tokens): the
// terms of a text are, in order, Term(r) for each raw token r of
// AppendRawTokens that has a term. A caller may therefore memoize Term by
// raw token, as the BM25 index builder does. All analyzers of this package
// implement it.
type RawTokenizer interface {
	// AppendRawTokens appends the raw tokens of text (substrings of text,
	// in order) to dst and returns the extended slice.
	AppendRawTokens(dst []string, text string) []string
	// Term returns the term of one raw token, or false if it has none
	// (a stop word, for instance). It depends on raw alone.
	Term(raw string) (string, bool)
}

// analyzerFamilyVersion is bumped whenever the shared tokenization or
// normalization code changes behaviour.
const analyzerFamilyVersion = "1"

//go:embed stopwords/*.txt
var stopFS embed.FS

type langSpec struct {
	whitespace bool
	stopFile   string // file name under stopwords/, "" for none
	stem       func(*snowball.Env) bool
	stemmer    string // stemmer name, part of the version string
	possessive bool   // English possessive filter
	elisions   []string
}

var specs = map[string]langSpec{
	"en": {stopFile: "en.txt", stem: porter.Stem, stemmer: "porter", possessive: true},
	"de": {stopFile: "de.txt", stem: german.Stem, stemmer: "snowball-german"},
	"fr": {stopFile: "fr.txt", stem: french.Stem, stemmer: "snowball-french", elisions: []string{
		"l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu", "puisqu"}},
	"it": {stopFile: "it.txt", stem: italian.Stem, stemmer: "snowball-italian", elisions: []string{
		"c", "l", "all", "dall", "dell", "nell", "sull", "coll", "pell", "gl", "agl", "dagl",
		"degl", "negl", "sugl", "un", "m", "t", "s", "v", "d"}},
	"es": {stopFile: "es.txt", stem: spanish.Stem, stemmer: "snowball-spanish"},
	"fi": {stopFile: "fi.txt", stem: finnish.Stem, stemmer: "snowball-finnish"},
	"ru": {stopFile: "ru.txt", stem: russian.Stem, stemmer: "snowball-russian"},
	"nl": {stopFile: "nl.txt", stem: dutch.Stem, stemmer: "snowball-dutch"},
	"sv": {stopFile: "sv.txt", stem: swedish.Stem, stemmer: "snowball-swedish"},
	"pt": {stopFile: "pt.txt", stem: portuguese.Stem, stemmer: "snowball-portuguese"},
	"da": {stopFile: "da.txt", stem: danish.Stem, stemmer: "snowball-danish"},
	"no": {stopFile: "no.txt", stem: norwegian.Stem, stemmer: "snowball-norwegian"},
	"hu": {stopFile: "hu.txt", stem: hungarian.Stem, stemmer: "snowball-hungarian"},

	"ha":         {whitespace: true},
	"so":         {whitespace: true},
	"sw":         {whitespace: true},
	"yo":         {whitespace: true},
	"none":       {whitespace: true},
	"whitespace": {whitespace: true},
}

var (
	registryMu sync.Mutex
	registry   = map[string]*pipeline{}
)

// Languages returns the supported language codes, sorted.
func Languages() []string {
	out := make([]string, 0, len(specs))
	for k := range specs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ForLanguage returns the analyzer for a language code (case-insensitive,
// e.g. "en", "de"). Analyzers are shared: repeated calls for the same code
// return the same instance. An unknown code is an error that lists the
// supported codes.
func ForLanguage(lang string) (Analyzer, error) {
	code := strings.ToLower(strings.TrimSpace(lang))
	spec, ok := specs[code]
	if !ok {
		return nil, fmt.Errorf("analysis: unsupported language %q (supported: %s)",
			lang, strings.Join(Languages(), ", "))
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if p, ok := registry[code]; ok {
		return p, nil
	}
	p, err := newPipeline(code, spec)
	if err != nil {
		return nil, err
	}
	registry[code] = p
	return p, nil
}

func loadStopwords(file string) (map[string]struct{}, error) {
	data, err := stopFS.ReadFile("stopwords/" + file)
	if err != nil {
		return nil, fmt.Errorf("analysis: stop words %s: %w", file, err)
	}
	set := map[string]struct{}{}
	for _, line := range strings.Split(string(data), "\n") {
		w := strings.TrimSpace(line)
		if w == "" || strings.HasPrefix(w, "#") {
			continue
		}
		set[w] = struct{}{}
	}
	return set, nil
}

func newPipeline(code string, spec langSpec) (*pipeline, error) {
	p := &pipeline{
		lang:       code,
		whitespace: spec.whitespace,
		possessive: spec.possessive,
		stem:       spec.stem,
		cache:      newTermCache(),
	}
	if spec.whitespace {
		p.version = "whitespace-lowercase/" + analyzerFamilyVersion
		return p, nil
	}
	if spec.stopFile != "" {
		set, err := loadStopwords(spec.stopFile)
		if err != nil {
			return nil, err
		}
		p.stop = set
	}
	if len(spec.elisions) > 0 {
		p.elisions = map[string]struct{}{}
		for _, e := range spec.elisions {
			p.elisions[e] = struct{}{}
		}
	}
	p.version = fmt.Sprintf("standard-%s-%s/%s", code, spec.stemmer, analyzerFamilyVersion)
	return p, nil
}
