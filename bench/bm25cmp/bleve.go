//go:build !nobleve

package bm25cmp

import (
	"fmt"

	"github.com/blevesearch/bleve/v2"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/it" // registers the "it" analyzer
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/clirflow/clirflow/internal/bm25"
)

// The bleve engines. The nobleve build tag leaves them, and bleve, out of
// the binary (see bench_test.go).
func init() {
	register("bleve", BuildBleve)
	register("bleve-default", BuildBleveDefault)
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
			text := d.Text
			if d.Title != "" { // one field: title + " " + text, as ours
				text = d.Title + " " + d.Text
			}
			if err := b.Index(d.ID, map[string]any{textField: text}); err != nil {
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
