// Package bm25 is an in-memory inverted index with Lucene 9's BM25Similarity
// scoring, reproduced exactly (as used by Pyserini):
//
//   - a document's length is the number of terms its analyzer emits, stored
//     lossily in one byte (Lucene's SmallFloat.intToByte4) and decoded at
//     search time (byte4ToInt);
//   - docCount is the number of documents with at least one term,
//     avgdl = float32(sumTotalTermFreq / float64(docCount)),
//     idf = float32(ln(1 + (docCount - df + 0.5) / (df + 0.5)));
//   - per norm byte, cache = 1 / (k1 * ((1 - b) + b * length / avgdl)) in
//     float32, and a term scores weight - weight / (1 + freq * cache[norm])
//     in float32, where weight = boost * idf and boost is the number of times
//     the term occurs in the analysed query (Pyserini's bag-of-words query);
//   - a document's score is the float32 of the float64 sum of its term
//     scores; hits are ordered by score, then by insertion order.
package bm25

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/clirflow/clirflow/internal/analysis"
)

// Params are the BM25 parameters. They are applied at search time.
type Params struct {
	K1 float64
	B  float64
}

// DefaultParams are Pyserini's defaults (k1 = 0.9, b = 0.4).
var DefaultParams = Params{K1: 0.9, B: 0.4}

// Hit is one search result.
type Hit struct {
	DocID string
	Score float32
}

type pair struct{ term, doc, freq uint32 }

const pairBlock = 1 << 16

// Builder accumulates documents for an Index. Add may be called from several
// goroutines (analysis runs outside the builder's lock; the insertion order
// is then the order in which the calls take the lock).
type Builder struct {
	a        analysis.Analyzer
	appender analysis.TokenAppender
	bufPool  sync.Pool

	mu      sync.Mutex
	built   bool
	ids     map[string]struct{}
	docIDs  []string
	norms   []byte
	withTok int   // documents with at least one term
	sumTTF  int64 // total number of terms
	terms   map[string]uint32
	termStr []string
	df      []uint32 // per term: number of documents
	// postings in insertion order, one entry per (document, term), in
	// fixed-size blocks (no copying as the corpus grows)
	pairs  [][]pair
	nPairs int
	// per-document scratch
	tf      []uint32
	touched []uint32
}

// NewBuilder returns a Builder that analyses documents with a.
func NewBuilder(a analysis.Analyzer) *Builder {
	b := &Builder{
		a:     a,
		ids:   map[string]struct{}{},
		terms: map[string]uint32{},
	}
	b.appender, _ = a.(analysis.TokenAppender)
	b.bufPool.New = func() any { s := make([]string, 0, 256); return &s }
	return b
}

// Add analyses text and adds it as document docID. An empty or duplicate
// docID is an error.
func (b *Builder) Add(docID, text string) error {
	if docID == "" {
		return errors.New("bm25: empty document id")
	}
	bufp := b.bufPool.Get().(*[]string)
	var toks []string
	if b.appender != nil {
		toks = b.appender.AppendTokens((*bufp)[:0], text)
	} else {
		toks = b.a.Analyze(text)
	}

	b.mu.Lock()
	err := b.addLocked(docID, toks)
	b.mu.Unlock()

	if b.appender != nil {
		clear(toks)
		*bufp = toks[:0]
	}
	b.bufPool.Put(bufp)
	return err
}

// Doc is a document for AddBatch.
type Doc struct {
	ID   string
	Text string
}

// AddBatch adds docs in order, analysing them in parallel on up to
// GOMAXPROCS goroutines. The batch is checked first: if a document id is
// empty or duplicated (within the batch or with documents already added),
// nothing is added and an error is returned.
func (b *Builder) AddBatch(docs []Doc) error {
	seen := make(map[string]struct{}, len(docs))
	b.mu.Lock()
	for _, d := range docs {
		if d.ID == "" {
			b.mu.Unlock()
			return errors.New("bm25: empty document id")
		}
		_, dup1 := seen[d.ID]
		_, dup2 := b.ids[d.ID]
		if dup1 || dup2 {
			b.mu.Unlock()
			return fmt.Errorf("bm25: duplicate document id %q", d.ID)
		}
		seen[d.ID] = struct{}{}
	}
	b.mu.Unlock()

	toks := make([][]string, len(docs))
	workers := min(runtime.GOMAXPROCS(0), len(docs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(docs) {
					return
				}
				if b.appender != nil {
					toks[i] = b.appender.AppendTokens(nil, docs[i].Text)
				} else {
					toks[i] = b.a.Analyze(docs[i].Text)
				}
			}
		}()
	}
	wg.Wait()

	b.mu.Lock()
	defer b.mu.Unlock()
	for i, d := range docs {
		if err := b.addLocked(d.ID, toks[i]); err != nil {
			return err // only if Add ran concurrently with the same ids
		}
	}
	return nil
}

func (b *Builder) addLocked(docID string, toks []string) error {
	if b.built {
		return errors.New("bm25: Add after Build")
	}
	if _, dup := b.ids[docID]; dup {
		return fmt.Errorf("bm25: duplicate document id %q", docID)
	}
	if len(b.docIDs) >= math.MaxUint32-1 {
		return errors.New("bm25: too many documents")
	}
	docID = strings.Clone(docID)
	b.ids[docID] = struct{}{}
	doc := uint32(len(b.docIDs))
	b.docIDs = append(b.docIDs, docID)
	b.norms = append(b.norms, intToByte4(len(toks)))
	if len(toks) == 0 {
		return nil
	}
	b.withTok++
	b.sumTTF += int64(len(toks))
	for _, t := range toks {
		id, ok := b.terms[t]
		if !ok {
			id = uint32(len(b.termStr))
			t = strings.Clone(t)
			b.terms[t] = id
			b.termStr = append(b.termStr, t)
			b.df = append(b.df, 0)
			b.tf = append(b.tf, 0)
		}
		if b.tf[id] == 0 {
			b.touched = append(b.touched, id)
		}
		b.tf[id]++
	}
	for _, id := range b.touched {
		last := len(b.pairs) - 1
		if last < 0 || len(b.pairs[last]) == cap(b.pairs[last]) {
			b.pairs = append(b.pairs, make([]pair, 0, pairBlock))
			last++
		}
		b.pairs[last] = append(b.pairs[last], pair{term: id, doc: doc, freq: b.tf[id]})
		b.df[id]++
		b.tf[id] = 0
	}
	b.nPairs += len(b.touched)
	b.touched = b.touched[:0]
	return nil
}

// Build returns the index. The Builder cannot be used afterwards. A builder
// without documents is an error.
func (b *Builder) Build() (*Index, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.built {
		return nil, errors.New("bm25: Build called twice")
	}
	if len(b.docIDs) == 0 {
		return nil, errors.New("bm25: empty corpus")
	}
	b.built = true

	nTerms := len(b.termStr)
	off := make([]uint64, nTerms+1)
	for t, df := range b.df {
		off[t+1] = off[t] + uint64(df)
	}
	n := b.nPairs
	docs := make([]uint32, n)
	freqs := make([]uint32, n)
	pos := make([]uint64, nTerms)
	copy(pos, off[:nTerms])
	for bi, blk := range b.pairs {
		for _, pr := range blk {
			p := pos[pr.term]
			docs[p] = pr.doc
			freqs[p] = pr.freq
			pos[pr.term] = p + 1
		}
		b.pairs[bi] = nil // release as we go
	}
	idx := &Index{
		analyzer:  b.a,
		lang:      b.a.Language(),
		anaVer:    b.a.Version(),
		docIDs:    b.docIDs,
		norms:     b.norms,
		docCount:  b.withTok,
		sumTTF:    b.sumTTF,
		terms:     b.terms,
		termStr:   b.termStr,
		postOff:   off,
		postDocs:  docs,
		postFreqs: freqs,
	}
	idx.init()
	// Release the builder's memory.
	b.ids, b.docIDs, b.norms, b.terms, b.termStr = nil, nil, nil, nil, nil
	b.df, b.pairs, b.tf, b.touched = nil, nil, nil, nil
	return idx, nil
}

// Index is an immutable BM25 index. Its methods are safe for concurrent use.
type Index struct {
	analyzer analysis.Analyzer
	lang     string
	anaVer   string
	docIDs   []string
	norms    []byte
	docCount int   // documents with at least one term
	sumTTF   int64 // sum of the documents' lengths (real, not quantised)
	terms    map[string]uint32
	termStr  []string
	// postings of term t: postDocs/postFreqs[postOff[t]:postOff[t+1]],
	// ordered by document
	postOff   []uint64
	postDocs  []uint32
	postFreqs []uint32

	avgdl float32
	accs  sync.Pool
}

func (ix *Index) init() {
	if ix.docCount > 0 {
		ix.avgdl = float32(float64(ix.sumTTF) / float64(ix.docCount))
	}
	n := len(ix.docIDs)
	ix.accs.New = func() any { return &accumulator{scores: make([]float64, n), seen: make([]uint64, (n+63)/64)} }
}

// NumDocs is the number of documents in the index.
func (ix *Index) NumDocs() int { return len(ix.docIDs) }

// NumTerms is the number of distinct terms in the index.
func (ix *Index) NumTerms() int { return len(ix.termStr) }

// AvgDocLen is Lucene's avgdl: the mean length of the documents that have at
// least one term (0 when none has).
func (ix *Index) AvgDocLen() float64 { return float64(ix.avgdl) }

// Language is the language code of the index's analyzer.
func (ix *Index) Language() string { return ix.lang }

// AnalyzerVersion is the version of the analyzer the index was built with.
func (ix *Index) AnalyzerVersion() string { return ix.anaVer }

type accumulator struct {
	scores  []float64
	seen    []uint64 // bitset of the documents in touched
	touched []uint32
	heap    []scored
}

type scored struct {
	score float32
	doc   uint32
}

// worse reports whether a ranks below b: lower score, or equal score and a
// later document.
func worse(a, b scored) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return a.doc > b.doc
}

type queryTerm struct {
	id    uint32
	boost float32
}

// normCache returns Lucene's per-norm-byte 1/(k1*((1-b)+b*len/avgdl)).
// Explicit float32 conversions keep every operation rounded to float32 as in
// Java (and prevent fused multiply-adds).
func (ix *Index) normCache(p Params) *[256]float32 {
	var c [256]float32
	k1 := float32(p.K1)
	b := float32(p.B)
	oneMinusB := float32(1 - b)
	for i := range c {
		bl := float32(b * lengthTable[i])
		x := float32(bl / ix.avgdl)
		y := float32(oneMinusB + x)
		z := float32(k1 * y)
		c[i] = float32(1 / z)
	}
	return &c
}

// idf is Lucene's BM25 idf.
func idf(docFreq, docCount int) float32 {
	return float32(math.Log(1 + (float64(docCount)-float64(docFreq)+0.5)/(float64(docFreq)+0.5)))
}

// Search analyses query and returns the best k documents for it. Query terms
// that occur several times are one clause with boost = count; terms absent
// from the index contribute nothing. k <= 0 or a query without terms gives no
// hits.
func (ix *Index) Search(query string, k int, p Params) []Hit {
	if k <= 0 || ix.docCount == 0 {
		return nil
	}
	qterms := ix.queryTerms(query)
	if len(qterms) == 0 {
		return nil
	}
	cache := ix.normCache(p)
	acc := ix.accs.Get().(*accumulator)
	scores := acc.scores
	seen := acc.seen
	touched := acc.touched[:0]
	norms := ix.norms
	for _, qt := range qterms {
		lo, hi := ix.postOff[qt.id], ix.postOff[qt.id+1]
		df := int(hi - lo)
		weight := float32(qt.boost * idf(df, ix.docCount))
		docs := ix.postDocs[lo:hi]
		freqs := ix.postFreqs[lo:hi]
		freqs = freqs[:len(docs)]
		for i, d := range docs {
			ni := float32(float32(freqs[i]) * cache[norms[d]])
			s := float32(weight - float32(weight/float32(1+ni)))
			if w, bit := d>>6, uint64(1)<<(d&63); seen[w]&bit == 0 {
				seen[w] |= bit
				touched = append(touched, d)
			}
			scores[d] += float64(s)
		}
	}
	// top-k with a min-heap (root = worst kept hit)
	h := acc.heap[:0]
	for _, d := range touched {
		c := scored{score: float32(scores[d]), doc: d}
		scores[d] = 0
		seen[d>>6] = 0
		if len(h) < k {
			h = append(h, c)
			siftUp(h, len(h)-1)
		} else if worse(h[0], c) {
			h[0] = c
			siftDown(h, 0)
		}
	}
	hits := make([]Hit, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		hits[i] = Hit{DocID: ix.docIDs[h[0].doc], Score: h[0].score}
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		if len(h) > 0 {
			siftDown(h, 0)
		}
	}
	acc.touched = touched[:0]
	acc.heap = h[:0]
	ix.accs.Put(acc)
	return hits
}

func (ix *Index) queryTerms(query string) []queryTerm {
	var toks []string
	if ap, ok := ix.analyzer.(analysis.TokenAppender); ok {
		var buf [32]string
		toks = ap.AppendTokens(buf[:0], query)
	} else {
		toks = ix.analyzer.Analyze(query)
	}
	var qterms []queryTerm
	for _, t := range toks {
		id, ok := ix.terms[t]
		if !ok {
			continue
		}
		found := false
		for i := range qterms {
			if qterms[i].id == id {
				qterms[i].boost++
				found = true
				break
			}
		}
		if !found {
			qterms = append(qterms, queryTerm{id: id, boost: 1})
		}
	}
	return qterms
}

func siftUp(h []scored, i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !worse(h[i], h[parent]) {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func siftDown(h []scored, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && worse(h[r], h[l]) {
			m = r
		}
		if !worse(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
