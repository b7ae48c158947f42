package analysis

import (
	"sync"
	"unicode"
	"unicode/utf8"

	snowball "github.com/blevesearch/snowballstem"
)

// pipeline is the Analyzer implementation shared by all languages.
type pipeline struct {
	lang       string
	version    string
	whitespace bool
	possessive bool
	stop       map[string]struct{}
	elisions   map[string]struct{}
	stem       func(*snowball.Env) bool
	cache      *termCache
}

func (p *pipeline) Language() string { return p.lang }
func (p *pipeline) Version() string  { return p.version }

func (p *pipeline) Analyze(text string) []string {
	return p.AppendTokens(nil, text)
}

// AppendTokens appends the terms of text to dst and returns the extended
// slice. Terms come from an interning cache, so a term seen before costs no
// allocation.
func (p *pipeline) AppendTokens(dst []string, text string) []string {
	var scratch [64]byte
	buf := scratch[:0]
	for i := 0; ; {
		start, end := p.next(text, i)
		if start < 0 {
			return dst
		}
		dst = p.emit(dst, text[start:end], buf)
		i = end
	}
}

// AppendRawTokens appends the raw tokens of text (substrings of it, in
// order) to dst and returns the extended slice.
func (p *pipeline) AppendRawTokens(dst []string, text string) []string {
	if p.whitespace {
		for i := 0; ; {
			start, end := nextWhitespace(text, i)
			if start < 0 {
				return dst
			}
			dst = append(dst, text[start:end])
			i = end
		}
	}
	n := len(text)
	for i := 0; i < n; {
		// The common case inline: an ASCII word that an ASCII character
		// other than a joiner or an underscore ends (or the text's end), as
		// nextStandard would find it.
		if c := text[i]; c < utf8.RuneSelf {
			if !wordByte[c] {
				i++
				continue
			}
			j := i + 1
			for j < n && wordByte[text[j]] {
				j++
			}
			if j == n || (text[j] < utf8.RuneSelf && asciiClass[text[j]] == clsOther) {
				dst = append(dst, text[i:j])
				i = j + 1
				continue
			}
		}
		start, end := nextStandard(text, i)
		if start < 0 {
			break
		}
		dst = append(dst, text[start:end])
		i = end
	}
	return dst
}

// Term returns the term of one raw token, false for none (a stop word, an
// elided article alone). It does not use the analyzer's cache.
func (p *pipeline) Term(raw string) (string, bool) {
	var scratch [64]byte
	if p.whitespace {
		return string(appendLower(scratch[:0], raw)), true
	}
	buf, ok := p.prepare(raw, scratch[:0])
	if !ok {
		return "", false
	}
	t := p.finish(string(buf))
	return t, t != ""
}

// next returns the bounds of the first raw token of text at or after byte i,
// (-1, -1) when there is none.
func (p *pipeline) next(text string, i int) (int, int) {
	if p.whitespace {
		return nextWhitespace(text, i)
	}
	return nextStandard(text, i)
}

// character classes used by the tokenizer.
const (
	clsOther = iota
	clsLetter
	clsDigit
	clsMark   // combining mark: continues a token
	clsIdeo   // Han / Hiragana: a token by itself
	clsJoiner // may join two letters or two digits, see joinFlags
	clsUnderscore
)

// flags for joiner characters.
const (
	joinLetters = 1 << iota // MidLetter or MidNumLet: between letters
	joinDigits              // MidNum or MidNumLet: between digits
)

var (
	asciiClass [128]uint8
	wordByte   [256]bool // ASCII letters and digits
)

func init() {
	for c := 0; c < 128; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			asciiClass[c] = clsLetter
		case c >= '0' && c <= '9':
			asciiClass[c] = clsDigit
		case c == '\'' || c == '.' || c == ':' || c == ',' || c == ';':
			asciiClass[c] = clsJoiner
		case c == '_':
			asciiClass[c] = clsUnderscore
		}
		wordByte[c] = asciiClass[c] == clsLetter || asciiClass[c] == clsDigit
	}
}

func joinFlags(r rune) uint8 {
	switch r {
	case '\'', '.', '\u2018', '\u2019', '\uFE52', '\uFF07', '\uFF0E': // Single_Quote, MidNumLet
		return joinLetters | joinDigits
	case ':', '\u00B7', '\u0387', '\u05F4', '\u2027', '\uFE13', '\uFE55', '\uFF1A': // MidLetter
		return joinLetters
	case ',', ';', '\u037E', '\u0589', '\u060C', '\u060D', '\u066C', '\u07F8', '\u2044', '\uFE10', '\uFE14', '\uFE50', '\uFE54', '\uFF0C', '\uFF1B': // MidNum
		return joinDigits
	}
	return 0
}

func classOf(r rune) uint8 {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	switch {
	case unicode.IsLetter(r):
		if unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) {
			return clsIdeo
		}
		return clsLetter
	case unicode.IsDigit(r):
		return clsDigit
	case unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me):
		return clsMark
	case r == '\u203F' || r == '\u2040' || r == '\u2054' || r == '\uFE33' || r == '\uFE34' || r == '\uFE4D' || r == '\uFE4E' || r == '\uFE4F' || r == '\uFF3F' || r == '\u202F':
		return clsUnderscore // ExtendNumLet
	case joinFlags(r) != 0:
		return clsJoiner
	}
	return clsOther
}

func decode(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// classAt returns the class, the rune and the size of the character at
// byte i of s.
func classAt(s string, i int) (uint8, rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return asciiClass[c], rune(c), 1
	}
	return classAtSlow(s, i)
}

// twoByteClass is the class of the characters U+0080 to U+07FF (two bytes
// in UTF-8: Latin-1, Latin Extended, Greek, Cyrillic, ...).
var twoByteClass [0x800 - 0x80]uint8

func init() {
	for r := rune(0x80); r < 0x800; r++ {
		twoByteClass[r-0x80] = classOf(r)
	}
}

func classAtSlow(s string, i int) (uint8, rune, int) {
	if c := s[i]; c >= 0xC2 && c < 0xE0 && i+1 < len(s) {
		if c1 := s[i+1]; c1&0xC0 == 0x80 {
			r := rune(c&0x1F)<<6 | rune(c1&0x3F)
			return twoByteClass[r-0x80], r, 2
		}
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	return classOf(r), r, size
}

// nextStandard is the tokenizer of the standard analyzers (see the package
// documentation): the bounds of the first token at or after byte i of text,
// (-1, -1) when there is none.
func nextStandard(text string, i int) (int, int) {
	n := len(text)
	for i < n {
		// ASCII characters outside tokens, the common case.
		if c := text[i]; c < utf8.RuneSelf {
			if ac := asciiClass[c]; ac != clsLetter && ac != clsDigit {
				i++
				continue
			}
		}
		cls, _, size := classAt(text, i)
		if cls == clsIdeo {
			return i, i + size
		}
		if cls != clsLetter && cls != clsDigit {
			i += size
			continue
		}
		start := i
		prev := cls
		i += size
		for i < n {
			// ASCII letters and digits, the common case.
			if j := i; wordByte[text[j]] {
				for j++; j < n && wordByte[text[j]]; j++ {
				}
				prev = asciiClass[text[j-1]]
				if i = j; i == n {
					break
				}
			}
			c, r, size := classAt(text, i)
			switch c {
			case clsLetter, clsDigit:
				prev = c
				i += size
				continue
			case clsMark:
				i += size
				continue
			case clsJoiner, clsUnderscore:
				if i+size >= n {
					return start, i
				}
				c2, _, size2 := classAt(text, i+size)
				var ok bool
				if c == clsUnderscore {
					ok = c2 == clsLetter || c2 == clsDigit
				} else {
					f := joinFlags(r)
					ok = (prev == clsLetter && c2 == clsLetter && f&joinLetters != 0) ||
						(prev == clsDigit && c2 == clsDigit && f&joinDigits != 0)
				}
				if !ok {
					return start, i
				}
				prev = c2
				i += size + size2
				continue
			}
			return start, i
		}
		return start, i
	}
	return -1, -1
}

// javaWhitespace reports Java's Character.isWhitespace(r), the definition
// used by Lucene's WhitespaceTokenizer.
func javaWhitespace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || (r >= '\t' && r <= '\r') || (r >= 0x1C && r <= 0x1F)
	}
	switch r {
	case '\u00A0', '\u2007', '\u202F':
		return false
	}
	return unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp)
}

// nextWhitespace is the tokenizer of the whitespace analyzers: the bounds of
// the first run of non-whitespace characters at or after byte i of text,
// (-1, -1) when there is none.
func nextWhitespace(text string, i int) (int, int) {
	n := len(text)
	for i < n {
		r, size := decode(text, i)
		if javaWhitespace(r) {
			i += size
			continue
		}
		start := i
		i += size
		for i < n {
			r, size = decode(text, i)
			if javaWhitespace(r) {
				break
			}
			i += size
		}
		return start, i
	}
	return -1, -1
}

func appendLower(buf []byte, s string) []byte {
	for j := 0; j < len(s); {
		c := s[j]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf = append(buf, c)
			j++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[j:])
		buf = utf8.AppendRune(buf, unicode.ToLower(r))
		j += size
	}
	return buf
}

// emit normalizes one raw token and appends the resulting term, if any.
func (p *pipeline) emit(dst []string, raw string, buf []byte) []string {
	if p.whitespace {
		buf = appendLower(buf[:0], raw)
		if t, ok := p.cache.get(buf); ok {
			return append(dst, t)
		}
		t := string(buf)
		p.cache.put(t, t)
		return append(dst, t)
	}
	buf, ok := p.prepare(raw, buf[:0])
	if !ok {
		return dst
	}
	if t, ok := p.cache.get(buf); ok {
		if t != "" {
			dst = append(dst, t)
		}
		return dst
	}
	key := string(buf)
	t := p.finish(key)
	p.cache.put(key, t)
	if t == "" {
		return dst
	}
	return append(dst, t)
}

// prepare applies the filters of a standard analyzer that precede stop
// words and stemming to a raw token: the possessive filter, lowercasing and
// elision. The result is appended to buf; false when nothing remains.
func (p *pipeline) prepare(raw string, buf []byte) ([]byte, bool) {
	if p.possessive && len(raw) >= 2 {
		if last := raw[len(raw)-1]; last == 's' || last == 'S' {
			body := raw[:len(raw)-1]
			switch {
			case len(body) >= 1 && body[len(body)-1] == '\'':
				raw = body[:len(body)-1]
			case len(body) >= 3 && (body[len(body)-3:] == "\u2019" || body[len(body)-3:] == "\uFF07"):
				raw = body[:len(body)-3]
			}
			if raw == "" {
				return buf, false
			}
		}
	}
	buf = appendLower(buf, raw)
	if p.elisions != nil {
		buf = p.stripElision(buf)
		if len(buf) == 0 {
			return buf, false
		}
	}
	return buf, true
}

// finish maps a prepared token to its term: "" for a stop word, else its
// stem.
func (p *pipeline) finish(key string) string {
	if _, stop := p.stop[key]; stop {
		return ""
	}
	if p.stem != nil {
		return stem(p.stem, key)
	}
	return key
}

// stripElision removes a leading elided article ("l'", "qu'", ...) like
// Lucene's ElisionFilter: the text before the first apostrophe is removed
// when it is one of the language's articles.
func (p *pipeline) stripElision(buf []byte) []byte {
	for j := 0; j < len(buf); j++ {
		var alen int
		switch {
		case buf[j] == '\'':
			alen = 1
		case buf[j] == 0xE2 && j+2 < len(buf) && buf[j+1] == 0x80 && buf[j+2] == 0x99: // U+2019
			alen = 3
		default:
			continue
		}
		if _, ok := p.elisions[string(buf[:j])]; ok {
			return append(buf[:0], buf[j+alen:]...)
		}
		return buf
	}
	return buf
}

var envPool = sync.Pool{New: func() any { return snowball.NewEnv("") }}

// stem runs a Snowball stemmer on s. A stemmer that panics (it should not)
// leaves the term unstemmed.
func stem(f func(*snowball.Env) bool, s string) (out string) {
	env := envPool.Get().(*snowball.Env)
	defer func() {
		if recover() != nil {
			out = s
			return
		}
		envPool.Put(env)
	}()
	env.SetCurrent(s)
	f(env)
	return env.Current()
}

// termCache maps lowercased tokens to their final term ("" for a stop
// word). It is sharded, bounded and safe for concurrent use; when a shard is
// full an arbitrary entry is evicted.
type termCache struct {
	shards [cacheShards]cacheShard
}

const (
	cacheShards   = 64
	cacheShardCap = 4096
)

type cacheShard struct {
	mu sync.RWMutex
	m  map[string]string
	_  [32]byte // keep shards on separate cache lines
}

func newTermCache() *termCache {
	c := &termCache{}
	for i := range c.shards {
		c.shards[i].m = make(map[string]string)
	}
	return c
}

func shardOf[T string | []byte](b T) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(b); i++ {
		h ^= uint32(b[i])
		h *= 16777619
	}
	return h % cacheShards
}

func (c *termCache) get(key []byte) (string, bool) {
	s := &c.shards[shardOf(key)]
	s.mu.RLock()
	v, ok := s.m[string(key)]
	s.mu.RUnlock()
	return v, ok
}

func (c *termCache) put(key, val string) {
	s := &c.shards[shardOf(key)]
	s.mu.Lock()
	if len(s.m) >= cacheShardCap {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
	s.m[key] = val
	s.mu.Unlock()
}
