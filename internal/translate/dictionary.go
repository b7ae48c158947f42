package translate

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// DictionaryConfig configures the FreeDict (dictd) query translator.
type DictionaryConfig struct {
	// Dir holds freedict-SRC-TGT.index and .dict.dz (or .dict); default /usr/share/dictd.
	Dir string `json:"dir,omitempty" yaml:"dir,omitempty"`
	// Senses is how many senses to take per word (default 1).
	Senses int `json:"senses,omitempty" yaml:"senses,omitempty"`
	// KeepOriginal keeps the source word next to its translations (nil: true).
	// Measured on Debian descriptions: 1 sense + originals MAP 0.371, no
	// translation 0.301, 3 senses without originals 0.180.
	KeepOriginal *bool `json:"keep_original,omitempty" yaml:"keep_original,omitempty"`
	// MaxPhrase is the longest multi-word entry tried, in words (default 4).
	MaxPhrase int `json:"max_phrase,omitempty" yaml:"max_phrase,omitempty"`
}

// Dictionary translates QUERIES word by word with FreeDict dictionaries
// (Debian dict-freedict-SRC-TGT). It is not meant for documents.
//
// Algorithm: the query is tokenized into words (letters/digits, with inner
// - ' . kept: "e-mail", "x86.64"); from left to right the longest run of words
// (MaxPhrase down to 1) that is a headword (case-insensitive) is looked up,
// so "file system" is one unit. An entry body is parsed as: first line
// headword /pronunciation/ <pos>; translation lines; indented examples
// ("…" - …), Note:, Synonym(s):, see: lines, which are dropped. From a
// translation line, grammar markup (<neut>, <v, trans>), /pronunciation/,
// [domain] labels, (optional parts) and {references} are removed; the line is
// split at , and ; and the first synonym is kept. Each dictionary entry of a
// headword (and each numbered sense "1. …" inside one) is a sense; senses are
// ordered by entry size, largest first (a proxy for the main sense: it carries
// the most examples and compounds — "house" → Haus rather than Geschlecht),
// ties in dictionary order, and the first Senses are used.
//
// Output and weighting: one query string, terms separated by spaces. Per
// source unit it emits the original words (if KeepOriginal) and then one
// translation per sense, each distinct term (case-insensitive) once per unit,
// so a word whose translation is itself is not counted twice; a word repeated
// in the query is repeated in the output. BM25 then weighs terms by their
// count in the query. Words not in the dictionary (names, numbers, technical
// terms such as "linux") are kept as they are.
type Dictionary struct {
	cfg  DictionaryConfig
	keep bool
	mu   sync.Mutex
	dbs  map[string]*dictDB // "eng-deu"
}

type dictDB struct {
	once      sync.Once
	err       error
	index     map[string][]dictRef // lowercased headword → entries
	data      []byte
	maxPhrase int
}

type dictRef struct{ off, n int }

// NewDictionary validates cfg.
func NewDictionary(cfg DictionaryConfig) (*Dictionary, error) {
	if cfg.Dir == "" {
		cfg.Dir = "/usr/share/dictd"
	}
	if cfg.Senses < 0 {
		return nil, inputerr.Field("senses", "must be ≥ 1, got %d", cfg.Senses)
	}
	if cfg.Senses == 0 {
		cfg.Senses = 1
	}
	if cfg.MaxPhrase < 0 {
		return nil, inputerr.Field("max_phrase", "must be ≥ 1, got %d", cfg.MaxPhrase)
	}
	if cfg.MaxPhrase == 0 {
		cfg.MaxPhrase = 4
	}
	keep := cfg.KeepOriginal == nil || *cfg.KeepOriginal
	return &Dictionary{cfg: cfg, keep: keep, dbs: map[string]*dictDB{}}, nil
}

func dictName(p Pair) string { return ISO3(p.Src) + "-" + ISO3(p.Tgt) }

// ID is "freedict/SRC-TGT/VERSION/senses=N/keep=B/parser=1"; VERSION is the
// Debian package version when dpkg knows it, else the index file size.
func (d *Dictionary) ID(p Pair) string {
	name := dictName(p)
	v := "unknown"
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "dict-freedict-"+name).Output(); err == nil && len(out) > 0 {
		v = string(out)
	} else if st, err := os.Stat(filepath.Join(d.cfg.Dir, "freedict-"+name+".index")); err == nil {
		v = fmt.Sprintf("size%d", st.Size())
	}
	return fmt.Sprintf("freedict/%s/%s/senses=%d/keep=%t/parser=1", name, v, d.cfg.Senses, d.keep)
}

var dictFileRE = regexp.MustCompile(`^freedict-([a-z]{2,3})-([a-z]{2,3})\.index$`)

// Pairs lists the dictionaries installed in Dir.
func (d *Dictionary) Pairs(ctx context.Context) ([]Pair, error) {
	ents, err := os.ReadDir(d.cfg.Dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("dictionary: %w", err)
	}
	ps := []Pair{}
	for _, e := range ents {
		m := dictFileRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		base := filepath.Join(d.cfg.Dir, strings.TrimSuffix(e.Name(), ".index"))
		if fileExists(base+".dict.dz") || fileExists(base+".dict") {
			ps = append(ps, Pair{ISO1(m[1]), ISO1(m[2])})
		}
	}
	return sortPairs(ps), nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func (d *Dictionary) db(p Pair) (*dictDB, error) {
	if ISO3(p.Src) == "" || ISO3(p.Tgt) == "" {
		return nil, permanent("dictionary", "unknown language code in pair %s", p)
	}
	name := dictName(p)
	d.mu.Lock()
	db := d.dbs[name]
	if db == nil {
		db = &dictDB{}
		d.dbs[name] = db
	}
	d.mu.Unlock()
	db.once.Do(func() { db.err = db.load(d.cfg.Dir, name, d.cfg.MaxPhrase) })
	return db, db.err
}

func (db *dictDB) load(dir, name string, maxPhrase int) error {
	base := filepath.Join(dir, "freedict-"+name)
	missing := func(err error) error {
		return &PermanentError{System: "dictionary", Msg: fmt.Sprintf("FreeDict dictionary %s not found in %s: apt-get install dict-freedict-%s", name, dir, name), Err: err}
	}
	idx, err := os.ReadFile(base + ".index")
	if err != nil {
		return missing(err)
	}
	var r io.Reader
	f, err := os.Open(base + ".dict.dz")
	if err == nil {
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			return &PermanentError{System: "dictionary", Msg: base + ".dict.dz is not dictzip/gzip", Err: err}
		}
		r = gz
	} else if f2, err2 := os.Open(base + ".dict"); err2 == nil {
		defer f2.Close()
		r = f2
	} else {
		return missing(err)
	}
	if db.data, err = io.ReadAll(r); err != nil {
		return fmt.Errorf("dictionary: reading %s: %w", base, err)
	}
	db.index = make(map[string][]dictRef, 1<<19)
	db.maxPhrase = 1
	for ln, line := range strings.Split(string(idx), "\n") {
		if line == "" {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) < 3 {
			return inputerr.At(base+".index", ln+1, "want headword<TAB>offset<TAB>length")
		}
		off, ok1 := dictB64(parts[1])
		n, ok2 := dictB64(parts[2])
		if !ok1 || !ok2 || off+n > len(db.data) {
			return inputerr.At(base+".index", ln+1, "bad offset/length %q %q", parts[1], parts[2])
		}
		h := strings.ToLower(parts[0])
		if strings.HasPrefix(h, "00database") {
			continue
		}
		db.index[h] = append(db.index[h], dictRef{off, n})
		if w := strings.Count(h, " ") + 1; w > db.maxPhrase {
			db.maxPhrase = w
		}
	}
	db.maxPhrase = min(db.maxPhrase, maxPhrase)
	return nil
}

const dictB64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// dictB64 decodes dictd's base64 numbers (most significant digit first).
func dictB64(s string) (int, bool) {
	n := 0
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		k := strings.IndexByte(dictB64Alphabet, s[i])
		if k < 0 {
			return 0, false
		}
		n = n*64 + k
	}
	return n, true
}

// Lookup returns up to senses translations of a headword (case-insensitive).
func (d *Dictionary) Lookup(p Pair, headword string, senses int) ([]string, error) {
	db, err := d.db(p)
	if err != nil {
		return nil, err
	}
	return db.lookup(strings.ToLower(headword), senses), nil
}

func (db *dictDB) lookup(h string, senses int) []string {
	refs := db.index[h]
	if len(refs) == 0 {
		return nil
	}
	refs = slices.Clone(refs)
	slices.SortStableFunc(refs, func(a, b dictRef) int { return b.n - a.n })
	var out []string
	for _, r := range refs {
		for _, t := range parseEntry(string(db.data[r.off : r.off+r.n])) {
			if len(out) == senses {
				return out
			}
			out = append(out, t)
		}
	}
	return out
}

var (
	senseNumRE = regexp.MustCompile(`^(\d+)\.\s+`)
	markupRE   = regexp.MustCompile(`<[^>]*>|/[^/]*/|\[[^\]]*\]|\([^)]*\)|\{[^}]*\}`)
)

// parseEntry returns the first translation of each sense of one entry.
func parseEntry(body string) []string {
	lines := strings.Split(body, "\n")
	var out []string
	numbered := false
	for li, line := range lines {
		if li == 0 {
			continue // headword /pron/ <pos>
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		t := strings.TrimSpace(line)
		if t == "" || indent >= 2 || strings.HasPrefix(t, `"`) {
			continue
		}
		low := strings.ToLower(t)
		if strings.HasPrefix(low, "see:") || strings.HasPrefix(low, "synonym") || strings.HasPrefix(low, "antonym") ||
			strings.HasPrefix(low, "note:") || strings.HasPrefix(low, "syn:") || strings.HasPrefix(low, "ant:") {
			continue
		}
		if m := senseNumRE.FindString(t); m != "" {
			numbered = true
			t = t[len(m):]
		} else if len(out) > 0 && !numbered {
			continue // unnumbered entry: one sense, its first translation line
		}
		if s := firstSynonym(t); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func firstSynonym(t string) string {
	t = markupRE.ReplaceAllString(t, " ")
	for _, c := range strings.FieldsFunc(t, func(r rune) bool { return r == ',' || r == ';' }) {
		if k := strings.Index(c, "/"); k >= 0 { // "jdm./einer Sache": first alternative
			c = c[:k]
		}
		var ws []string
		for _, w := range strings.Fields(c) {
			if !placeholders[strings.ToLower(w)] {
				ws = append(ws, w)
			}
		}
		c = strings.Trim(strings.Join(ws, " "), " .:")
		if c != "" {
			return c
		}
	}
	return ""
}

// placeholders are the dictionaries' stand-ins for objects ("etw. tun").
var placeholders = map[string]bool{"jdm.": true, "jdn.": true, "jds.": true, "jd.": true, "etw.": true,
	"sb.": true, "sth.": true, "sb.'s": true, "sth.'s": true, "sb": true, "sth": true}

var wordRE = regexp.MustCompile(`[\p{L}\p{N}]+(?:['’\-.][\p{L}\p{N}]+)*`)

// TranslateQuery translates one query (see Dictionary).
func (d *Dictionary) TranslateQuery(p Pair, query string) (string, error) {
	db, err := d.db(p)
	if err != nil {
		return "", err
	}
	words := wordRE.FindAllString(query, -1)
	var out []string
	for i := 0; i < len(words); {
		n, tr := 1, []string(nil)
		for k := min(db.maxPhrase, len(words)-i); k >= 1; k-- {
			if t := db.lookup(strings.ToLower(strings.Join(words[i:i+k], " ")), d.cfg.Senses); len(t) > 0 {
				n, tr = k, t
				break
			}
		}
		seen := map[string]bool{}
		add := func(terms ...string) {
			for _, s := range terms {
				if l := strings.ToLower(s); !seen[l] {
					seen[l] = true
					out = append(out, s)
				}
			}
		}
		if len(tr) == 0 || d.keep {
			add(words[i : i+n]...)
		}
		for _, t := range tr {
			add(strings.Join(strings.Fields(t), " "))
		}
		i += n
	}
	return strings.Join(out, " "), nil
}

// Translate translates each text as a query.
func (d *Dictionary) Translate(ctx context.Context, p Pair, texts []string) ([]string, error) {
	if _, err := d.db(p); err != nil {
		return nil, err
	}
	out := make([]string, len(texts))
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := d.TranslateQuery(p, t)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}
