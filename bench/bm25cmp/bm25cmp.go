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
// BuildBM25Index does (a json.Decoder over a 64 KB buffered reader, title
// and text apart), holding one batch at a time: an engine built from it holds no
// corpus, so the process's peak RSS is the cost of the indexing itself.
func Stream(dir string) Source {
	return func(fn func([]bm25.Doc) error) error {
		f, err := os.Open(filepath.Join(dir, "corpus.jsonl"))
		if err != nil {
			return err
		}
		defer f.Close()
		dec := json.NewDecoder(bufio.NewReaderSize(f, 64<<10))
		batch := make([]bm25.Doc, 0, BatchSize)
		for {
			var rec record
			if err := dec.Decode(&rec); err == io.EOF {
				break
			} else if err != nil {
				return fmt.Errorf("%s: %v", f.Name(), err)
			}
			// As the product's reader: title and text apart, each engine
			// indexing them as title + " " + text (bleve's adapter joins
			// them; clirflow's builder indexes them so without a copy).
			batch = append(batch, bm25.Doc{ID: rec.ID, Title: rec.Title, Text: rec.Text})
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

// doc is the document the product indexes, title + " " + text, joined
// once when the corpus is loaded (both engines then index the same text).
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

// WriteTo serializes the index as the product stores it.
func (e clirflowEngine) WriteTo(w io.Writer) (int64, error) { return e.ix.WriteTo(w) }

// Index returns the clirflow index of an Engine from BuildClirflow.
func Index(e Engine) *bm25.Index {
	if c, ok := e.(clirflowEngine); ok {
		return c.ix
	}
	return nil
}

// Build builds the named engine: "clirflow" or, unless built with the
// nobleve tag, "bleve" or "bleve-default".
func Build(name string, src Source) (Engine, error) {
	if build, ok := builders[name]; ok {
		return build(src)
	}
	return nil, fmt.Errorf("unknown engine %q", name)
}

// Engines are the engines the benchmarks run, in table order. The bleve
// engines are in bleve.go: a test binary built with -tags nobleve has only
// clirflow's, so that the peak RSS of a clirflow build is measured in a
// process that does not link bleve (as bleve's is measured in one that does
// not run clirflow's build).
var Engines = []string{"clirflow"}

var builders = map[string]func(Source) (Engine, error){"clirflow": BuildClirflow}

func register(name string, build func(Source) (Engine, error)) {
	Engines = append(Engines, name)
	builders[name] = build
}

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
