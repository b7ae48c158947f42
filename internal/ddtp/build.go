package ddtp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clirflow/clirflow/internal/dataset"
	"github.com/clirflow/clirflow/internal/inputerr"
)

// QueryPrefix is put before the package name to form a qid ("q-0ad"), so that
// qids and docids (bare package names) are never confused in runs and qrels.
const QueryPrefix = "q-"

// DefaultQueries is the default number of sampled queries.
const DefaultQueries = 200

// Options controls sampling.
type Options struct {
	Queries int    // number of queries to sample; 0 means DefaultQueries
	MaxDocs int    // keep at most this many documents (relevant ones always kept); 0: all
	Seed    string // mixed into the sampling hash; "" reproduces the committed samples
}

// Qrel is one relevance judgement.
type Qrel struct {
	QID   string
	DocID string
	Rel   int
}

// Stats describes a build.
type Stats struct {
	EnStanzas, XXStanzas   int // stanzas read
	EnPackages, XXPackages int // distinct packages
	EmptyLong              int // X packages skipped for an empty long description
	NoEnglish              int // X documents whose package has no English description
	MD5Fallback            int // X stanzas whose Description-md5 has no English stanza (first English stanza of the package used)
	AllDocs                int // documents before sampling
	Candidates             int // packages eligible as queries
	Ambiguous              int // packages not eligible because their short description is ambiguous
	DuplicateQueries       int // sampled candidates skipped because their query text was already taken
	Docs, Queries, Qrels   int // in the collection
	RelevantKeptOverMax    bool
	MaxRelevant            int // largest number of relevant documents of one query
}

// AvgRelevant is the mean number of relevant documents per query.
func (s Stats) AvgRelevant() float64 {
	if s.Queries == 0 {
		return 0
	}
	return float64(s.Qrels) / float64(s.Queries)
}

// Collection is a built test collection; all slices are sorted by id.
type Collection struct {
	Lang   string
	Docs   []dataset.Document
	Topics []dataset.Topic
	Qrels  []Qrel
	Stats  Stats
}

type xxDoc struct {
	pkg       string
	text      string
	enShort   string // English short description ("" if unknown)
	enLongKey string // Normalize(English long description) ("" if unknown or empty)
}

// Build makes the collection for the language of xx (stanzas of Translation-xx)
// from the English stanzas en (Translation-en of the same suite):
//
//   - A document is a package's long description in xx (docid = package name), as
//     rendered by Stanza.LongText; packages whose long description is empty are
//     skipped. No title: the translated short description would give the task
//     away.
//   - A package appearing in several stanzas (several Description-md5 versions)
//     is taken from its first stanza in file order. Its English counterpart is the
//     English stanza with the same package and Description-md5 (the md5 identifies
//     the English text that was translated); if there is none, the first English
//     stanza of the package.
//   - Query candidates are the documents' packages with a non-empty English short
//     and long description, except ambiguous ones: a short description (after
//     Normalize) that document packages with different English long descriptions
//     share, such as "transitional package", is not a query. Candidates are
//     ordered by FNV-1a 64 of Seed+"\x00"+package (ties by name) and taken in
//     that order, skipping a candidate whose query text (normalised) was already
//     taken, until opts.Queries. qid = QueryPrefix + package, query = the English
//     short description, whitespace collapsed.
//   - Relevant (rel 1) to a query: every document whose package's English long
//     description equals (after Normalize) the query package's English long
//     description, the query's own package included. As ambiguous short
//     descriptions are not queries, all packages with the query text share the
//     long description and are relevant, so deduplicating queries by text loses
//     no judgement.
//   - With opts.MaxDocs > 0, all relevant documents are kept, plus the other
//     documents in order of FNV-1a 64 of Seed+"\x00doc\x00"+package, up to
//     MaxDocs documents in all.
func Build(en, xx []Stanza, opts Options) (*Collection, error) {
	if opts.Queries <= 0 {
		opts.Queries = DefaultQueries
	}
	if len(xx) == 0 {
		return nil, fmt.Errorf("ddtp: no translated stanzas")
	}
	for _, s := range en {
		if s.Lang != "en" {
			return nil, inputerr.At(s.File, s.Line, "package %s: Description-%s where English (Description-en) was expected", s.Package, s.Lang)
		}
	}
	var st Stats
	st.EnStanzas, st.XXStanzas = len(en), len(xx)
	lang := xx[0].Lang

	type key struct{ pkg, md5 string }
	enByKey := make(map[key]*Stanza, len(en))
	enByPkg := make(map[string]*Stanza, len(en))
	for i := range en {
		s := &en[i]
		if _, ok := enByKey[key{s.Package, s.MD5}]; !ok {
			enByKey[key{s.Package, s.MD5}] = s
		}
		if _, ok := enByPkg[s.Package]; !ok {
			enByPkg[s.Package] = s
		}
	}
	st.EnPackages = len(enByPkg)

	seen := make(map[string]bool)
	var docs []xxDoc
	for i := range xx {
		s := &xx[i]
		if s.Lang != lang {
			return nil, inputerr.At(s.File, s.Line, "package %s: Description-%s after Description-%s stanzas (one language per file)", s.Package, s.Lang, lang)
		}
		if seen[s.Package] {
			continue
		}
		seen[s.Package] = true
		text := s.LongText()
		if text == "" {
			st.EmptyLong++
			continue
		}
		d := xxDoc{pkg: s.Package, text: text}
		e := enByKey[key{s.Package, s.MD5}]
		if e == nil {
			e = enByPkg[s.Package]
			if e != nil {
				st.MD5Fallback++
			}
		}
		if e == nil {
			st.NoEnglish++
		} else {
			d.enShort = strings.Join(strings.Fields(e.Short), " ")
			d.enLongKey = Normalize(e.LongText())
		}
		docs = append(docs, d)
	}
	st.XXPackages = len(seen)
	st.AllDocs = len(docs)
	if len(docs) == 0 {
		return nil, inputerr.At(xx[0].File, 0, "no documents: every long description is empty")
	}

	// packages by English long description; long descriptions by short description
	byLong := make(map[string][]string)
	longsOfShort := make(map[string]map[string]bool)
	var cands []xxDoc
	for _, d := range docs {
		if d.enLongKey == "" {
			continue
		}
		byLong[d.enLongKey] = append(byLong[d.enLongKey], d.pkg)
		if d.enShort == "" {
			continue
		}
		sk := Normalize(d.enShort)
		if longsOfShort[sk] == nil {
			longsOfShort[sk] = make(map[string]bool)
		}
		longsOfShort[sk][d.enLongKey] = true
		cands = append(cands, d)
	}
	unambiguous := cands[:0]
	for _, d := range cands {
		if len(longsOfShort[Normalize(d.enShort)]) > 1 {
			st.Ambiguous++
			continue
		}
		unambiguous = append(unambiguous, d)
	}
	cands = unambiguous
	st.Candidates = len(cands)
	sortByHash(cands, func(d xxDoc) string { return d.pkg }, opts.Seed+"\x00")

	relevant := make(map[string]bool)
	taken := make(map[string]bool)
	var c Collection
	c.Lang = lang
	for _, d := range cands {
		if len(c.Topics) == opts.Queries {
			break
		}
		sk := Normalize(d.enShort)
		if taken[sk] {
			st.DuplicateQueries++
			continue
		}
		taken[sk] = true
		qid := QueryPrefix + d.pkg
		c.Topics = append(c.Topics, dataset.Topic{ID: qid, Query: d.enShort})
		rel := byLong[d.enLongKey]
		for _, p := range rel {
			c.Qrels = append(c.Qrels, Qrel{QID: qid, DocID: p, Rel: 1})
			relevant[p] = true
		}
		st.MaxRelevant = max(st.MaxRelevant, len(rel))
	}

	keep := docs
	if opts.MaxDocs > 0 && len(docs) > opts.MaxDocs {
		keep = nil
		var others []xxDoc
		for _, d := range docs {
			if relevant[d.pkg] {
				keep = append(keep, d)
			} else {
				others = append(others, d)
			}
		}
		if len(keep) > opts.MaxDocs {
			st.RelevantKeptOverMax = true
		}
		sortByHash(others, func(d xxDoc) string { return d.pkg }, opts.Seed+"\x00doc\x00")
		if n := opts.MaxDocs - len(keep); n > 0 {
			keep = append(keep, others[:n]...)
		}
	}
	for _, d := range keep {
		c.Docs = append(c.Docs, dataset.Document{ID: d.pkg, Text: d.text})
	}
	sort.Slice(c.Docs, func(i, j int) bool { return c.Docs[i].ID < c.Docs[j].ID })
	sort.Slice(c.Topics, func(i, j int) bool { return c.Topics[i].ID < c.Topics[j].ID })
	sort.Slice(c.Qrels, func(i, j int) bool {
		if c.Qrels[i].QID != c.Qrels[j].QID {
			return c.Qrels[i].QID < c.Qrels[j].QID
		}
		return c.Qrels[i].DocID < c.Qrels[j].DocID
	})
	st.Docs, st.Queries, st.Qrels = len(c.Docs), len(c.Topics), len(c.Qrels)
	c.Stats = st
	return &c, nil
}

// sortByHash orders items by FNV-1a 64 of salt+name, ties broken by name.
func sortByHash[T any](items []T, name func(T) string, salt string) {
	h := func(s string) uint64 {
		f := fnv.New64a()
		f.Write([]byte(salt))
		f.Write([]byte(s))
		return f.Sum64()
	}
	keys := make(map[string]uint64, len(items))
	for _, it := range items {
		keys[name(it)] = h(name(it))
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := name(items[i]), name(items[j])
		if keys[a] != keys[b] {
			return keys[a] < keys[b]
		}
		return a < b
	})
}

// File names written by Collection.Write.
const (
	CorpusFile = "corpus.jsonl"
	TopicsFile = "topics.tsv"
	QrelsFile  = "qrels.txt"
)

// Write writes corpus.jsonl ({"id","text"} per line), topics.tsv (qid<TAB>query)
// and qrels.txt ("qid 0 docid rel") into dir, creating it if needed. Each file is
// written to a temporary file in dir and renamed into place.
func (c *Collection) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	err := writeAtomic(filepath.Join(dir, CorpusFile), func(w *bufio.Writer) error {
		for _, d := range c.Docs {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(d); err != nil {
				return err
			}
			if _, err := w.Write(buf.Bytes()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = writeAtomic(filepath.Join(dir, TopicsFile), func(w *bufio.Writer) error {
		for _, t := range c.Topics {
			if _, err := fmt.Fprintf(w, "%s\t%s\n", t.ID, t.Query); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, QrelsFile), func(w *bufio.Writer) error {
		for _, q := range c.Qrels {
			if _, err := fmt.Fprintf(w, "%s 0 %s %d\n", q.QID, q.DocID, q.Rel); err != nil {
				return err
			}
		}
		return nil
	})
}

func writeAtomic(path string, fill func(*bufio.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<16)
	if err = fill(w); err != nil {
		return err
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
