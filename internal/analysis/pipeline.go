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
	if p.whitespace {
		return p.appendWhitespace(dst, text, buf)
	}
	return p.appendStandard(dst, text, buf)
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

var asciiClass [128]uint8

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

// appendStandard tokenizes text (see the package documentation) and appends
// the normalized terms to dst.
func (p *pipeline) appendStandard(dst []string, text string, buf []byte) []string {
	i := 0
	n := len(text)
	for i < n {
		r, size := decode(text, i)
		cls := classOf(r)
		if cls == clsIdeo {
			dst = p.emit(dst, text[i:i+size], buf)
			i += size
			continue
		}
		if cls != clsLetter && cls != clsDigit {
			i += size
			continue
		}
		start := i
		prev := cls
		i += size
	scan:
		for i < n {
			r, size = decode(text, i)
			switch c := classOf(r); c {
			case clsLetter, clsDigit:
				prev = c
				i += size
			case clsMark:
				i += size
			case clsJoiner, clsUnderscore:
				if i+size >= n {
					break scan
				}
				r2, size2 := decode(text, i+size)
				c2 := classOf(r2)
				var ok bool
				if c == clsUnderscore {
					ok = c2 == clsLetter || c2 == clsDigit
				} else {
					f := joinFlags(r)
					ok = (prev == clsLetter && c2 == clsLetter && f&joinLetters != 0) ||
						(prev == clsDigit && c2 == clsDigit && f&joinDigits != 0)
				}
				if !ok {
					break scan
				}
				prev = c2
				i += size + size2
			default:
				break scan
			}
		}
		dst = p.emit(dst, text[start:i], buf)
	}
	return dst
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

func (p *pipeline) appendWhitespace(dst []string, text string, buf []byte) []string {
	i := 0
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
		buf = appendLower(buf[:0], text[start:i])
		if t, ok := p.cache.get(buf); ok {
			dst = append(dst, t)
			continue
		}
		t := string(buf)
		p.cache.put(t, t)
		dst = append(dst, t)
	}
	return dst
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
				return dst
			}
		}
	}
	buf = appendLower(buf[:0], raw)
	if p.elisions != nil {
		buf = p.stripElision(buf)
		if len(buf) == 0 {
			return dst
		}
	}
	if t, ok := p.cache.get(buf); ok {
		if t != "" {
			dst = append(dst, t)
		}
		return dst
	}
	key := string(buf)
	if _, stop := p.stop[key]; stop {
		p.cache.put(key, "")
		return dst
	}
	t := key
	if p.stem != nil {
		t = stem(p.stem, key)
	}
	p.cache.put(key, t)
	if t == "" {
		return dst
	}
	return append(dst, t)
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
