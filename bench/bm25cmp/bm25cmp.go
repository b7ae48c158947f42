// Package bm25cmp puts clirflow's BM25 index (internal/bm25) beside bleve v2
// on the same corpus and queries: in-memory indexes, Italian analyzers, BM25
// scoring with the same k1 and b, top 100, documents added in batches of the
// same size. Only this module depends on bleve; the product does not.
package bm25cmp

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/it" // registers the "it" analyzer
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/clirflow/clirflow/internal/analysis"
	"github.com/clirflow/clirflow/internal/bm25"
)

// DataEnv names the directory with corpus.jsonl and topics.tsv (a collection
// written by `starter build-demo`).
const DataEnv = "CLIRFLOW_BENCH_DATA"

// DefaultData is where `make bench` builds the Italian DDTP collection,
// relative to this package's directory.
const DefaultData = "../../.clirflow/bench-data/ddtp-it"

// BatchSize is the product's batch (internal/experiment buildIndex), used for
// both engines.
const BatchSize = 2048

// Depth is the number of hits per query.
const Depth = 100

// Params are Pyserini's BM25 defaults, which the demo uses; bleve is set to
// the same k1 and b.
var Params = bm25.DefaultParams

// Data is a collection: documents (title + " " + text, as the product indexes
// them) and query texts.
type Data struct {
	Dir     string
	Docs    []bm25.Doc
	Queries []string
}

// DataDir is $CLIRFLOW_BENCH_DATA or DefaultData.
func DataDir() string {
	if d := os.Getenv(DataEnv); d != "" {
		return d
	}
	return DefaultData
}

// Load reads dir/corpus.jsonl and dir/topics.tsv.
func Load(dir string) (*Data, error) {
	d := &Data{Dir: dir}
	f, err := os.Open(filepath.Join(dir, "corpus.jsonl"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		var rec record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", f.Name(), line, err)
		}
		d.Docs = append(d.Docs, rec.doc())
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	tb, err := os.ReadFile(filepath.Join(dir, "topics.tsv"))
	if err != nil {
		return nil, err
	}
	for _, l := range strings.Split(string(tb), "\n") {
		if _, q, ok := strings.Cut(l, "\t"); ok && strings.TrimSpace(q) != "" {
			d.Queries = append(d.Queries, q)
		}
	}
	if len(d.Docs) == 0 || len(d.Queries) == 0 {
		return nil, fmt.Errorf("%s: %d documents, %d queries", dir, len(d.Docs), len(d.Queries))
	}
	return d, nil
}

// Source hands an engine its documents, BatchSize at a time, in corpus order.
// The batch slice is only valid during the call (a streaming source reuses
// it); the strings in it may be kept.
type Source func(fn func(batch []bm25.Doc) error) error

// InMemory is a Source over documents already in memory.
func InMemory(docs []bm25.Doc) Source {
	return func(fn func([]bm25.Doc) error) error {
		for lo := 0; lo < len(docs); lo += BatchSize {
			if err := fn(docs[lo:min(lo+BatchSize, len(docs))]); err != nil {
				return err
			}
		}
		return nil
	}
}

// Stream is a Source that reads dir/corpus.jsonl as the product's
// BuildBM25Index does (a json.Decoder over a 1 MB buffered reader, title +
// " " + text), holding one batch at a time: an engine built from it holds no
// corpus, so the process's peak RSS is the cost of the indexing itself.
func Stream(dir string) Source {
	return func(fn func([]bm25.Doc) error) error {
		f, err := os.Open(filepath.Join(dir, "corpus.jsonl"))
		if err != nil {
			return err
		}
		defer f.Close()
		dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
		batch := make([]bm25.Doc, 0, BatchSize)
		for {
			var rec record
			if err := dec.Decode(&rec); err == io.EOF {
				break
			} else if err != nil {
				return fmt.Errorf("%s: %v", f.Name(), err)
			}
			batch = append(batch, rec.doc())
			if len(batch) == BatchSize {
				if err := fn(batch); err != nil {
					return err
				}
				clear(batch)
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			return fn(batch)
		}
		return nil
	}
}

type record struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// doc is the document the product indexes: title + " " + text.
func (r record) doc() bm25.Doc {
	if r.Title != "" {
		return bm25.Doc{ID: r.ID, Text: r.Title + " " + r.Text}
	}
	return bm25.Doc{ID: r.ID, Text: r.Text}
}

// Engine is one BM25 implementation.
type Engine interface {
	// Search returns the ids of the top Depth documents.
	Search(q string) ([]string, error)
	Close() error
}

// Lang is the language of the documents (and the analyzers).
const Lang = "it"

// BuildClirflow indexes the documents with internal/bm25 exactly as the
// product's BuildBM25Index activity does (AddBatch in batches of BatchSize,
// then Build).
func BuildClirflow(src Source) (Engine, error) {
	a, err := analysis.ForLanguage(Lang)
	if err != nil {
		return nil, err
	}
	b := bm25.NewBuilder(a)
	if err := src(b.AddBatch); err != nil {
		return nil, err
	}
	ix, err := b.Build()
	if err != nil {
		return nil, err
	}
	return clirflowEngine{ix}, nil
}

type clirflowEngine struct{ ix *bm25.Index }

func (e clirflowEngine) Search(q string) ([]string, error) {
	hits := e.ix.Search(q, Depth, Params)
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.DocID
	}
	return ids, nil
}

func (clirflowEngine) Close() error { return nil }

// Index returns the clirflow index of an Engine from BuildClirflow.
func Index(e Engine) *bm25.Index {
	if c, ok := e.(clirflowEngine); ok {
		return c.ix
	}
	return nil
}

// textField is the one indexed field of the bleve documents.
const textField = "text"

// BuildBleve indexes the documents into an in-memory scorch index (path "":
// no persister, no merger, unsafe batches) with bleve's Italian analyzer
// (unicode tokenizer, lowercase, elision, stop words, light stemmer), BM25
// scoring (index mapping ScoringModel "bm25", k1 and b as Params), term
// vectors, doc values and stored fields off — the least work bleve can do
// for a BM25 top-k. Documents go in through Batch, BatchSize at a time.
func BuildBleve(src Source) (Engine, error) {
	return buildBleve(src, leanMapping())
}

// BuildBleveDefault is BuildBleve with bleve's default document mapping
// (dynamic: the text field stored, with term vectors, doc values and in the
// _all field), as bleve's documentation indexes documents; BM25 and the
// Italian analyzer are set as in BuildBleve. Not part of `make bench`: for
// the README's note on what bleve costs as commonly configured.
func BuildBleveDefault(src Source) (Engine, error) {
	m := bleve.NewIndexMapping()
	m.ScoringModel = index.BM25Scoring
	m.DefaultAnalyzer = Lang
	return buildBleve(src, m)
}

func leanMapping() *mapping.IndexMappingImpl {
	m := bleve.NewIndexMapping()
	m.ScoringModel = index.BM25Scoring
	m.DefaultAnalyzer = Lang
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	m.IndexDynamic = false
	dm := bleve.NewDocumentStaticMapping()
	fm := mapping.NewTextFieldMapping()
	fm.Analyzer = Lang
	fm.Store = false
	fm.IncludeTermVectors = false
	fm.IncludeInAll = false
	fm.DocValues = false
	dm.AddFieldMappingsAt(textField, fm)
	m.DefaultMapping = dm
	return m
}

func buildBleve(src Source, m *mapping.IndexMappingImpl) (Engine, error) {
	search.BM25_k1, search.BM25_b = Params.K1, Params.B
	ix, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, err
	}
	added := 0
	err = src(func(docs []bm25.Doc) error {
		b := ix.NewBatch()
		for _, d := range docs {
			if err := b.Index(d.ID, map[string]any{textField: d.Text}); err != nil {
				return err
			}
		}
		added += len(docs)
		return ix.Batch(b)
	})
	if err != nil {
		ix.Close()
		return nil, err
	}
	n, err := ix.DocCount()
	if err == nil && n != uint64(added) {
		err = fmt.Errorf("bleve: %d documents indexed, want %d", n, added)
	}
	if err != nil {
		ix.Close()
		return nil, err
	}
	return bleveEngine{ix}, nil
}

type bleveEngine struct{ ix bleve.Index }

func (e bleveEngine) Search(q string) ([]string, error) {
	mq := bleve.NewMatchQuery(q)
	mq.SetField(textField)
	mq.Analyzer = Lang
	req := bleve.NewSearchRequestOptions(mq, Depth, 0, false)
	res, err := e.ix.Search(req)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	return ids, nil
}

func (e bleveEngine) Close() error { return e.ix.Close() }

// Build builds the named engine ("clirflow", "bleve" or "bleve-default").
func Build(name string, src Source) (Engine, error) {
	switch name {
	case "clirflow":
		return BuildClirflow(src)
	case "bleve":
		return BuildBleve(src)
	case "bleve-default":
		return BuildBleveDefault(src)
	}
	return nil, fmt.Errorf("unknown engine %q", name)
}

// Engines are the engines the benchmarks run, in table order.
var Engines = []string{"clirflow", "bleve", "bleve-default"}

// PeakRSS is this process's peak resident set size (VmHWM) in bytes.
func PeakRSS() (int64, error) { return ProcStatus(os.Getpid(), "VmHWM") }

// ProcStatus reads a "kB" field (VmHWM, VmRSS …) of /proc/PID/status in bytes.
func ProcStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("/proc/" + strconv.Itoa(pid) + "/status: no " + field)
}
