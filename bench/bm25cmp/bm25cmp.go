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
		var rec struct {
			ID    string `json:"id"`
			Title string `json:"title"`
			Text  string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", f.Name(), line, err)
		}
		text := rec.Text
		if rec.Title != "" {
			text = rec.Title + " " + rec.Text
		}
		d.Docs = append(d.Docs, bm25.Doc{ID: rec.ID, Text: text})
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
func BuildClirflow(docs []bm25.Doc) (Engine, error) {
	a, err := analysis.ForLanguage(Lang)
	if err != nil {
		return nil, err
	}
	b := bm25.NewBuilder(a)
	for lo := 0; lo < len(docs); lo += BatchSize {
		if err := b.AddBatch(docs[lo:min(lo+BatchSize, len(docs))]); err != nil {
			return nil, err
		}
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
func BuildBleve(docs []bm25.Doc) (Engine, error) {
	return buildBleve(docs, leanMapping())
}

// BuildBleveDefault is BuildBleve with bleve's default document mapping
// (dynamic: the text field stored, with term vectors, doc values and in the
// _all field), as bleve's documentation indexes documents; BM25 and the
// Italian analyzer are set as in BuildBleve. Not part of `make bench`: for
// the README's note on what bleve costs as commonly configured.
func BuildBleveDefault(docs []bm25.Doc) (Engine, error) {
	m := bleve.NewIndexMapping()
	m.ScoringModel = index.BM25Scoring
	m.DefaultAnalyzer = Lang
	return buildBleve(docs, m)
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

func buildBleve(docs []bm25.Doc, m *mapping.IndexMappingImpl) (Engine, error) {
	search.BM25_k1, search.BM25_b = Params.K1, Params.B
	ix, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, err
	}
	for lo := 0; lo < len(docs); lo += BatchSize {
		b := ix.NewBatch()
		for _, d := range docs[lo:min(lo+BatchSize, len(docs))] {
			if err := b.Index(d.ID, map[string]any{textField: d.Text}); err != nil {
				ix.Close()
				return nil, err
			}
		}
		if err := ix.Batch(b); err != nil {
			ix.Close()
			return nil, err
		}
	}
	n, err := ix.DocCount()
	if err == nil && n != uint64(len(docs)) {
		err = fmt.Errorf("bleve: %d documents indexed, want %d", n, len(docs))
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
func Build(name string, docs []bm25.Doc) (Engine, error) {
	switch name {
	case "clirflow":
		return BuildClirflow(docs)
	case "bleve":
		return BuildBleve(docs)
	case "bleve-default":
		return BuildBleveDefault(docs)
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
