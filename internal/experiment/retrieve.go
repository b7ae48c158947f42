package experiment

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/clirflow/clirflow/internal/analysis"
	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/bm25"
	"github.com/clirflow/clirflow/internal/dataset"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/trec"
)

// IndexInput selects the corpus and the analyzer language of a BM25 index.
type IndexInput struct {
	Corpus   artifact.Ref `json:"corpus"`
	Language string       `json:"language"`
}

// BuildIndex builds (or finds) the BM25 index of a prepared corpus. Norms do not
// depend on k1 and b, so one index serves every BM25 setting. progress, if not
// nil, is called every few thousand documents (activities heartbeat from it).
func BuildIndex(ctx context.Context, s artifact.Store, in IndexInput, progress func(docs int)) (IndexInfo, error) {
	an, err := analysis.ForLanguage(in.Language)
	if err != nil {
		return IndexInfo{}, inputerr.Field("analyzer", "%v", err)
	}
	key := artifact.KeyOf(indexVersion, string(in.Corpus), in.Language, an.Version())
	out, hit, err := lookup(ctx, s, key, func(o IndexInfo) []artifact.Ref { return []artifact.Ref{o.Ref} })
	if err != nil {
		return out, err
	}
	if hit {
		out.Cached = true
		return out, nil
	}
	ix, err := buildIndex(ctx, s, in.Corpus, an, progress)
	if err != nil {
		return IndexInfo{}, err
	}
	w, err := s.Create(ctx)
	if err != nil {
		return IndexInfo{}, err
	}
	// WriteTo hands over 64 KB pieces; the buffer joins its header and trailer to them.
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := ix.WriteTo(bw); err != nil {
		_ = w.Abort()
		return IndexInfo{}, err
	}
	if err := bw.Flush(); err != nil {
		_ = w.Abort()
		return IndexInfo{}, err
	}
	ref, err := w.Commit()
	if err != nil {
		return IndexInfo{}, err
	}
	indexCache.put(ref, ix)
	out = IndexInfo{Ref: ref, Language: in.Language, NumDocs: ix.NumDocs(), AvgDL: float64(ix.AvgDocLen())}
	return out, s.PutMemo(ctx, key, out)
}

// buildIndex reads a prepared corpus and builds its BM25 index in memory.
func buildIndex(ctx context.Context, s artifact.Store, corpus artifact.Ref, an analysis.Analyzer, progress func(docs int)) (*bm25.Index, error) {
	b := bm25.NewBuilder(an)
	// Batches are analysed in parallel by the builder, which indexes a
	// batch's postings while the next one is read; order is kept, so the
	// index (and Lucene-style tie order) is the same as adding one by one.
	// The builder keeps no reference to a batch, which is reused (as
	// bench/bm25cmp's Stream source does).
	const batchSize = 2048
	batch := make([]bm25.Doc, 0, batchSize)
	n := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := b.AddBatch(batch)
		n += len(batch)
		// Cleared, not only truncated: the texts would stay reachable
		// until overwritten, a batch's worth of live heap while the next
		// one is read.
		clear(batch)
		batch = batch[:0]
		if progress != nil {
			progress(n)
		}
		return err
	}
	err := forEachDocument(ctx, s, corpus, func(d dataset.Document) error {
		// CIRAL and BEIR convention for BM25: title + " " + text (the
		// builder indexes them so, without a joined copy).
		batch = append(batch, bm25.Doc{ID: d.ID, Title: d.Title, Text: d.Text})
		if len(batch) == batchSize {
			if err := flush(); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, err
	}
	return b.Build()
}

func forEachDocument(ctx context.Context, s artifact.Store, corpus artifact.Ref, fn func(dataset.Document) error) error {
	rc, err := s.Open(ctx, corpus)
	if err != nil {
		return err
	}
	defer rc.Close()
	// The decoder buffers what it reads; a larger reader buffer would only
	// add to an index build's live heap (and so to its peak).
	dec := json.NewDecoder(bufio.NewReaderSize(rc, 64<<10))
	for {
		var d dataset.Document
		if err := dec.Decode(&d); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("corpus artifact %s is damaged: %w", corpus, err)
		}
		if err := fn(d); err != nil {
			return err
		}
	}
}

// RetrieveInput is one BM25 first stage over one dataset.
type RetrieveInput struct {
	Index  artifact.Ref `json:"index"`
	Topics artifact.Ref `json:"topics"`
	K1     float64      `json:"k1"`
	B      float64      `json:"b"`
	Depth  int          `json:"depth"`
	Tag    string       `json:"tag"`
}

// Retrieve runs every topic against a BM25 index and stores the TREC run.
func Retrieve(ctx context.Context, s artifact.Store, in RetrieveInput) (RunInfo, error) {
	key := artifact.KeyOf(retrieveVersion, string(in.Index), string(in.Topics),
		strconv.FormatFloat(in.K1, 'g', -1, 64), strconv.FormatFloat(in.B, 'g', -1, 64), strconv.Itoa(in.Depth), in.Tag)
	out, hit, err := lookup(ctx, s, key, func(o RunInfo) []artifact.Ref { return []artifact.Ref{o.Ref} })
	if err != nil {
		return out, err
	}
	if hit {
		out.Cached = true
		return out, nil
	}
	ix, err := loadIndex(ctx, s, in.Index)
	if err != nil {
		return RunInfo{}, err
	}
	topics, err := LoadTopics(ctx, s, in.Topics)
	if err != nil {
		return RunInfo{}, err
	}
	p := bm25.Params{K1: in.K1, B: in.B}
	rankings := make([]trec.Ranking, 0, len(topics))
	for _, t := range topics {
		if err := ctx.Err(); err != nil {
			return RunInfo{}, err
		}
		hits := ix.Search(t.Query, in.Depth, p)
		if len(hits) == 0 {
			out.EmptyQueries++
			continue
		}
		r := trec.Ranking{QID: t.ID, Hits: make([]trec.Result, len(hits))}
		for i, h := range hits {
			r.Hits[i] = trec.Result{DocID: h.DocID, Score: float64(h.Score)}
		}
		rankings = append(rankings, r)
	}
	var buf bytes.Buffer
	if err := trec.WriteRun(&buf, in.Tag, rankings); err != nil {
		return RunInfo{}, err
	}
	if out.Ref, err = artifact.Put(ctx, s, buf.Bytes()); err != nil {
		return RunInfo{}, err
	}
	primeRun(out.Ref, in.Tag, rankings)
	out.NumQueries = len(rankings)
	return out, s.PutMemo(ctx, key, out)
}

// LoadTopics reads a prepared topics artifact.
func LoadTopics(ctx context.Context, s artifact.Store, ref artifact.Ref) ([]dataset.Topic, error) {
	b, err := artifact.ReadAll(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	var out []dataset.Topic
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var t dataset.Topic
		if err := dec.Decode(&t); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("topics artifact %s is damaged: %w", ref, err)
		}
		out = append(out, t)
	}
}

// ImportRun validates a TREC run produced elsewhere and stores it unchanged
// (scores keep their original text, so ties are exactly the user's).
func ImportRun(ctx context.Context, s artifact.Store, path, field string) (RunInfo, error) {
	h, err := hashFile(path)
	if err != nil {
		return RunInfo{}, inputerr.Field(field, "%v", err)
	}
	key := artifact.KeyOf(importVersion, h)
	out, hit, err := lookup(ctx, s, key, func(o RunInfo) []artifact.Ref { return []artifact.Ref{o.Ref} })
	if err != nil {
		return out, err
	}
	if hit {
		out.Cached = true
		return out, nil
	}
	run, err := trec.ReadRun(path)
	if err != nil {
		return RunInfo{}, err
	}
	b, err := readFile(path)
	if err != nil {
		return RunInfo{}, err
	}
	if out.Ref, err = artifact.Put(ctx, s, b); err != nil {
		return RunInfo{}, err
	}
	out.NumQueries = len(run.Entries)
	return out, s.PutMemo(ctx, key, out)
}

// indexCache keeps recently used indexes in memory: retrieving many settings
// from one index should not re-read it from the store each time. Indexes are
// immutable and named by content, so sharing is safe.
var indexCache = &lru{max: 2}

type lru struct {
	mu    sync.Mutex
	max   int
	order []artifact.Ref
	items map[artifact.Ref]*bm25.Index
}

func (c *lru) get(ref artifact.Ref) *bm25.Index {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.items[ref]
}

func (c *lru) put(ref artifact.Ref, ix *bm25.Index) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = map[artifact.Ref]*bm25.Index{}
	}
	if _, ok := c.items[ref]; ok {
		return
	}
	c.items[ref] = ix
	c.order = append(c.order, ref)
	for len(c.order) > c.max {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
}

func loadIndex(ctx context.Context, s artifact.Store, ref artifact.Ref) (*bm25.Index, error) {
	if ix := indexCache.get(ref); ix != nil {
		return ix, nil
	}
	rc, err := s.Open(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	ix, err := bm25.Read(rc) // it buffers what it reads
	if err != nil {
		return nil, fmt.Errorf("index artifact %s: %w", ref, err)
	}
	indexCache.put(ref, ix)
	return ix, nil
}
