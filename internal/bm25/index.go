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
	"encoding/binary"
	"errors"
	"math"
	"runtime"
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

// Builder accumulates documents for an Index. It is safe for concurrent use;
// documents are numbered in the order in which Add and AddBatch calls take
// the builder's lock.
//
// The analysis of a document is memoized by raw token: the analyzers of
// package analysis are a tokenizer followed by a function of each token
// alone (analysis.RawTokenizer), so a raw token seen before costs one
// dictionary lookup (raw token → term number). Other analyzers' terms are
// their own raw tokens.
//
// AddBatch analyses its documents in parallel, then indexes their postings
// in the background while the caller reads the next batch and the next
// AddBatch analyses it; Build and the next indexing wait for it.
type Builder struct {
	a  analysis.Analyzer
	rt analysis.RawTokenizer // nil: the terms of Analyze are the raw tokens

	mu      sync.Mutex
	built   bool
	ids     idList
	raw     rawDict
	terms   termDict
	workers []*worker
	chunks  []*chunk // per-batch scratch, reused

	// Written by the indexing of the last batch until indexed is closed.
	indexed  chan struct{} // nil if none is running
	indexErr error
	// the batch being indexed: its term numbers (noTerm for none) and,
	// per document, the end of its terms
	toks    []uint32
	ends    []uint32
	norms   []byte
	withTok int        // documents with at least one term
	sumTTF  int64      // total number of terms
	post    []building // per term
	pool    slicePool
	tf      []uint32 // per term, scratch
	touched []uint32
}

// building is the postings of one term under construction, in the slices
// of pool from address head to cur: for each document in order,
// uvarint(docDelta<<1 | 1) when the term occurs once, else
// uvarint(docDelta<<1) uvarint(freq), where docDelta is the document's
// number minus the previous posting's (its number for the first). The
// Index keeps them in this form.
type building struct {
	head, cur uint32
	last      uint32 // document of the last posting
	df        uint32
}

// chunk.missNew values.
const (
	notNew uint8 = iota
	newNoTerm
	newTerm
)

const (
	noTerm  = math.MaxUint32     // a raw token without a term
	pending = math.MaxUint32 - 1 // a raw token added to the dictionary whose term is not known yet
	missBit = 1 << 31            // in chunk.toks: an index into chunk.miss
	// chunkDocs is the number of documents of a batch one worker analyses
	// at a time.
	chunkDocs = 128
)

// chunk is a run of consecutive documents of a batch, analysed by one
// worker against the dictionary of raw tokens as it was when the batch
// started.
type chunk struct {
	docs  []Doc
	start int // of the chunk's tokens in Builder.toks
	// toks: the documents' term numbers (tokens without a term left out),
	// or missBit|i for the raw token miss[i], absent from the dictionary;
	// ends[d] is the end of document d's.
	toks []uint32
	ends []uint32
	// the raw tokens absent from the dictionary, each once, in order of
	// first occurrence, then their hashes, their dictionary references,
	// whether this chunk added them (and with a term) and, if so, their
	// terms and the terms' hashes; how many go to each shard
	miss         []string
	missHash     []uint64
	missSlot     []uint32
	missNew      []uint8 // notNew, newNoTerm or newTerm
	missTerm     []string
	missTermHash []uint64
	shardN       [rawShards]int
}

// worker is one goroutine's scratch.
type worker struct {
	raws    []string
	missIdx map[string]uint32
}

// NewBuilder returns a Builder that analyses documents with a.
func NewBuilder(a analysis.Analyzer) *Builder {
	b := &Builder{
		a:     a,
		ids:   newIDList(),
		raw:   newRawDict(),
		terms: newTermDict(0),
	}
	b.rt, _ = a.(analysis.RawTokenizer)
	return b
}

// Add analyses text and adds it as document docID. An empty or duplicate
// docID is an error.
func (b *Builder) Add(docID, text string) error {
	return b.AddBatch([]Doc{{ID: docID, Text: text}})
}

// Doc is a document for AddBatch.
type Doc struct {
	ID   string
	Text string
}

// AddBatch adds docs in order, analysing them in parallel on up to
// GOMAXPROCS goroutines. The batch is checked first: if a document id is
// empty or duplicated (within the batch or with documents already added),
// nothing is added and an error is returned. The index is the same as if
// the documents had been added one by one. The builder keeps no reference
// to docs.
func (b *Builder) AddBatch(docs []Doc) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.built {
		return errors.New("bm25: Add after Build")
	}
	if b.indexErr != nil {
		return b.indexErr
	}
	if len(docs) == 0 {
		return nil
	}
	if b.ids.len()+len(docs) >= math.MaxUint32-1 {
		return errors.New("bm25: too many documents")
	}

	// Map raw tokens to terms: chunks of consecutive documents in
	// parallel, against the dictionary as it is, while this goroutine
	// checks and adds the ids (nothing else changes before they are).
	nChunks := (len(docs) + chunkDocs - 1) / chunkDocs
	for len(b.chunks) < nChunks {
		b.chunks = append(b.chunks, &chunk{})
	}
	chunks := b.chunks[:nChunks]
	for i, c := range chunks {
		c.docs = docs[i*chunkDocs : min((i+1)*chunkDocs, len(docs))]
		n := 0
		for _, d := range c.docs {
			n += len(d.Text)
		}
		// at most a token per 2 bytes, typically one per 7
		if cap(c.toks) < n/5 {
			c.toks = make([]uint32, 0, n/5)
		}
	}
	// Small batches (a single Add) are not worth goroutines.
	nWorkers := 1
	if nChunks > 1 {
		nWorkers = runtime.GOMAXPROCS(0)
	}
	for len(b.workers) < nWorkers {
		b.workers = append(b.workers, &worker{missIdx: map[string]uint32{}})
	}
	workers := b.workers[:nWorkers]
	var err error
	if nWorkers == 1 {
		if err = b.ids.add(docs); err == nil {
			for _, c := range chunks {
				b.analyse(workers[0], c)
			}
		}
	} else {
		wait := start(workers, nChunks, func(w *worker, i int) { b.analyse(w, chunks[i]) })
		err = b.ids.add(docs)
		wait()
	}
	for _, w := range workers {
		clear(w.raws[:cap(w.raws)])
	}
	for _, c := range chunks {
		c.docs = nil
	}
	if err != nil {
		for _, c := range chunks {
			clear(c.miss)
		}
		return err
	}

	b.resolve(chunks, workers)

	// Postings, in document order, in the background: the batch's term
	// numbers, once the last batch is indexed, then index them.
	nTerms := b.terms.len()
	b.waitIndexed()
	if b.indexErr != nil {
		return b.indexErr
	}
	n := 0
	for _, c := range chunks {
		c.start = n
		n += len(c.toks)
	}
	b.toks = shrink(b.toks, n)[:n]
	b.ends = shrink(b.ends, len(docs))[:len(docs)]
	parallel(workers, nChunks, func(_ *worker, i int) {
		c := chunks[i]
		toks := b.toks[c.start : c.start+len(c.toks)]
		for j, id := range c.toks {
			if id&missBit != 0 {
				id = b.raw.id(c.missSlot[id&^missBit])
			}
			toks[j] = id
		}
		ends := b.ends[i*chunkDocs:]
		for j, e := range c.ends {
			ends[j] = uint32(c.start) + e
		}
	})
	for _, c := range chunks {
		c.missHash, c.missSlot = shrink(c.missHash, len(c.missHash)), shrink(c.missSlot, len(c.missSlot))
		c.missNew, c.missTermHash = shrink(c.missNew, len(c.missNew)), shrink(c.missTermHash, len(c.missTermHash))
	}
	if nWorkers == 1 {
		b.index(nTerms)
	} else {
		done := make(chan struct{})
		b.indexed = done
		go func() {
			defer close(done)
			b.index(nTerms)
		}()
	}
	return nil
}

// shrink returns s emptied, with a capacity of at least n, and not much
// more: scratch sized by the first batch, where every token is new, is not
// kept.
func shrink[S ~[]E, E any](s S, n int) S {
	if cap(s) < n || (cap(s) > 4096 && cap(s) > 4*n) {
		return make(S, 0, n)
	}
	return s[:0]
}

// waitIndexed waits for the indexing of the last batch.
func (b *Builder) waitIndexed() {
	if b.indexed != nil {
		<-b.indexed
		b.indexed = nil
	}
}

// parallel runs task(w, i) for i in [0, n) on up to len(workers)
// goroutines, each with its own worker scratch.
func parallel(workers []*worker, n int, task func(w *worker, i int)) {
	if len(workers) == 1 || n == 1 {
		for i := 0; i < n; i++ {
			task(workers[0], i)
		}
		return
	}
	start(workers, n, task)()
}

// start is parallel in the background: it returns a function that waits
// for the tasks to finish.
func start(workers []*worker, n int, task func(w *worker, i int)) (wait func()) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, w := range workers[:min(len(workers), n)] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				task(w, i)
			}
		}()
	}
	return wg.Wait
}

// analyse maps the raw tokens of c's documents to term numbers with the
// dictionary (read-only while workers run) and collects those it does not
// have.
func (b *Builder) analyse(w *worker, c *chunk) {
	c.toks, c.ends, c.miss = c.toks[:0], c.ends[:0], c.miss[:0]
	clear(w.missIdx)
	for _, d := range c.docs {
		if b.rt != nil {
			w.raws = b.rt.AppendRawTokens(w.raws[:0], d.Text)
		} else {
			w.raws = b.a.Analyze(d.Text)
		}
		for _, r := range w.raws {
			if id, ok := b.raw.get(r); ok {
				if id != noTerm {
					c.toks = append(c.toks, id)
				}
				continue
			}
			mi, ok := w.missIdx[r]
			if !ok {
				mi = uint32(len(c.miss))
				w.missIdx[r] = mi
				c.miss = append(grow(c.miss, 1), r)
			}
			c.toks = append(c.toks, missBit|mi)
		}
		c.ends = append(c.ends, uint32(len(c.toks)))
	}
	if b.rt == nil {
		w.raws = nil
	}
}

// resolve adds the raw tokens of the chunks absent from the dictionary,
// with their terms, computed in parallel; new terms are numbered in order
// of first occurrence.
func (b *Builder) resolve(chunks []*chunk, workers []*worker) {
	// The hashes of the missing raw tokens and how many go to each shard
	// of the dictionary; then each shard adds its new ones, in order, the
	// shards in parallel.
	parallel(workers, len(chunks), func(_ *worker, i int) {
		c := chunks[i]
		c.missHash = grow(c.missHash[:0], len(c.miss))[:len(c.miss)]
		c.missSlot = grow(c.missSlot[:0], len(c.miss))[:len(c.miss)]
		c.missNew = grow(c.missNew[:0], len(c.miss))[:len(c.miss)]
		c.missTerm = grow(c.missTerm[:0], len(c.miss))[:len(c.miss)]
		c.missTermHash = grow(c.missTermHash[:0], len(c.miss))[:len(c.miss)]
		c.shardN = [rawShards]int{}
		for j, r := range c.miss {
			h := b.raw.hash(r)
			c.missHash[j] = h
			c.shardN[shardOf(h)]++
		}
	})
	parallel(workers, rawShards, func(_ *worker, s int) {
		n := 0
		for _, c := range chunks {
			n += c.shardN[s]
		}
		if n == 0 {
			return
		}
		b.raw.reserve(uint32(s), n)
		for _, c := range chunks {
			if c.shardN[s] == 0 {
				continue
			}
			for j, h := range c.missHash {
				if shardOf(h) != uint32(s) {
					continue
				}
				r := c.miss[j]
				ref, ok := b.raw.find(r, h)
				c.missSlot[j], c.missNew[j] = ref, notNew
				if ok {
					continue
				}
				b.raw.insert(ref, r, h, pending)
				// The raw token's term, and the term's hash.
				t, has := r, true
				if b.rt != nil {
					t, has = b.rt.Term(r)
				}
				c.missNew[j] = newNoTerm
				if has {
					c.missNew[j], c.missTerm[j], c.missTermHash[j] = newTerm, t, b.terms.hash(t)
				}
			}
		}
	})

	// Number the new terms in order of first occurrence.
	for _, c := range chunks {
		for j, state := range c.missNew {
			switch state {
			case newNoTerm:
				b.raw.setID(c.missSlot[j], noTerm)
			case newTerm:
				b.raw.setID(c.missSlot[j], b.terms.findOrAdd(c.missTerm[j], c.missTermHash[j]))
			}
		}
		clear(c.miss)
		clear(c.missTerm)
		c.miss, c.missTerm = shrink(c.miss, len(c.miss)), shrink(c.missTerm, len(c.missTerm))
	}
}

// index adds the postings of the documents of b.toks and b.ends; nTerms
// is the number of terms after their batch.
func (b *Builder) index(nTerms int) {
	if n := nTerms - len(b.post); n > 0 {
		b.post = grow(b.post, n)[:nTerms]
		b.tf = grow(b.tf, n)[:nTerms]
	}
	b.norms = grow(b.norms, len(b.ends))
	tf, touched := b.tf, b.touched[:0]
	doc := uint32(len(b.norms))
	start := uint32(0)
	for _, end := range b.ends {
		for _, id := range b.toks[start:end] {
			if id == noTerm {
				continue
			}
			if tf[id] == 0 {
				touched = append(touched, id)
			}
			tf[id]++
		}
		start = end
		n := 0
		for _, id := range touched {
			p := &b.post[id]
			if p.df == 0 {
				head, ok := b.pool.newSlice(0)
				if !ok {
					b.indexErr = errPoolFull
					return
				}
				p.head, p.cur = head, head
			}
			delta := uint64(doc - p.last)
			f := tf[id]
			var ok bool
			switch {
			case f == 1 && delta < 0x40 && b.pool.put1(&p.cur, byte(delta<<1|1)):
				ok = true // the common case
			case f == 1:
				ok = b.pool.writeUvarint(&p.cur, delta<<1|1)
			default:
				ok = b.pool.writeUvarint(&p.cur, delta<<1) && b.pool.writeUvarint(&p.cur, uint64(f))
			}
			if !ok {
				b.indexErr = errPoolFull
				return
			}
			p.last = doc
			p.df++
			n += int(f)
			tf[id] = 0
		}
		touched = touched[:0]
		b.norms = append(b.norms, intToByte4(n))
		if n > 0 {
			b.withTok++
			b.sumTTF += int64(n)
		}
		doc++
	}
	b.touched = touched
}

// Build returns the index. The Builder cannot be used afterwards. A builder
// without documents is an error.
func (b *Builder) Build() (*Index, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.built {
		return nil, errors.New("bm25: Build called twice")
	}
	b.waitIndexed()
	if b.indexErr != nil {
		return nil, b.indexErr
	}
	if b.ids.len() == 0 {
		return nil, errors.New("bm25: empty corpus")
	}
	b.built = true

	// The postings of each term, contiguous, in parallel over ranges of
	// terms.
	nTerms := b.terms.len()
	off := make([]uint64, nTerms+1)
	df := make([]uint32, nTerms)
	const termsPerTask = 4096
	tasks := (nTerms + termsPerTask - 1) / termsPerTask
	workers := b.workers
	if len(workers) == 0 {
		workers = []*worker{{}}
	}
	parallel(workers, tasks, func(_ *worker, i int) {
		for t := i * termsPerTask; t < min((i+1)*termsPerTask, nTerms); t++ {
			p := &b.post[t]
			off[t+1] = uint64(b.pool.termLen(p.head, p.cur))
			df[t] = p.df
		}
	})
	for t := range nTerms {
		off[t+1] += off[t]
	}
	post := make([]byte, off[nTerms]+1) // and a byte after the postings
	parallel(workers, tasks, func(_ *worker, i int) {
		for t := i * termsPerTask; t < min((i+1)*termsPerTask, nTerms); t++ {
			p := &b.post[t]
			b.pool.copyTerm(post[off[t]:off[t+1]], p.head, p.cur)
		}
	})
	idx := &Index{
		analyzer: b.a,
		lang:     b.a.Language(),
		anaVer:   b.a.Version(),
		ids:      string(b.ids.data),
		idOff:    b.ids.off,
		norms:    b.norms,
		docCount: b.withTok,
		sumTTF:   b.sumTTF,
		terms:    b.terms,
		df:       df,
		postOff:  off,
		post:     post,
	}
	idx.init()
	// Release the builder's memory.
	b.ids, b.norms, b.raw, b.terms, b.pool = idList{}, nil, rawDict{}, termDict{}, slicePool{}
	b.post, b.tf, b.touched, b.workers, b.chunks = nil, nil, nil, nil, nil
	b.toks, b.ends = nil, nil
	return idx, nil
}

// Index is an immutable BM25 index. Its methods are safe for concurrent use.
type Index struct {
	analyzer analysis.Analyzer
	lang     string
	anaVer   string
	ids      string   // the document ids, concatenated
	idOff    []uint32 // document d's id is ids[idOff[d]:idOff[d+1]]
	norms    []byte
	docCount int   // documents with at least one term
	sumTTF   int64 // sum of the documents' lengths (real, not quantised)
	terms    termDict
	// df[t] is the number of documents of term t, post[postOff[t]:
	// postOff[t+1]] its postings, in document order, encoded as in
	// building; post has one more byte, 0, after the last term's.
	df      []uint32
	postOff []uint64
	post    []byte

	avgdl float32
	accs  sync.Pool
}

func (ix *Index) init() {
	if ix.docCount > 0 {
		ix.avgdl = float32(float64(ix.sumTTF) / float64(ix.docCount))
	}
	n := ix.NumDocs()
	ix.accs.New = func() any { return &accumulator{scores: make([]float64, n), seen: make([]uint64, (n+63)/64)} }
}

// NumDocs is the number of documents in the index.
func (ix *Index) NumDocs() int { return len(ix.idOff) - 1 }

// docID is the id of document d.
func (ix *Index) docID(d uint32) string { return ix.ids[ix.idOff[d]:ix.idOff[d+1]] }

// NumTerms is the number of distinct terms in the index.
func (ix *Index) NumTerms() int { return ix.terms.len() }

// AvgDocLen is Lucene's avgdl: the mean length of the documents that have at
// least one term (0 when none has).
func (ix *Index) AvgDocLen() float64 { return float64(ix.avgdl) }

// Language is the language code of the index's analyzer.
func (ix *Index) Language() string { return ix.lang }

// AnalyzerVersion is the version of the analyzer the index was built with.
func (ix *Index) AnalyzerVersion() string { return ix.anaVer }

type accumulator struct {
	// a block of decoded postings: documents and frequencies
	docs    [128]uint32
	freqs   [128]float32
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
		df := ix.df[qt.id]
		weight := float32(qt.boost * idf(int(df), ix.docCount))
		// Decode a block of postings, then score it: the scoring loop's
		// iterations do not depend on each other.
		// (post has a byte after the last posting, so the byte after a
		// posting can be read without a bounds check.)
		post := ix.post
		lo, hi := int(ix.postOff[qt.id]), int(ix.postOff[qt.id+1])
		docs, freqs := &acc.docs, &acc.freqs
		d := uint32(0)
		for i := lo; i < hi; {
			n := 0
			for ; n < len(docs) && i < hi; n++ {
				v := uint64(post[i])
				if v < 0x80 {
					i++
				} else if b := uint64(post[i+1]); b < 0x80 {
					v = v&0x7f | b<<7
					i += 2
				} else {
					v, i = uvarint(post, i)
				}
				d += uint32(v >> 1)
				// freq 1 (flag 1), or the next byte, without a branch
				// unless it is a multi-byte varint
				flag := v & 1
				b := uint64(post[i])
				if b&(flag-1) >= 0x80 {
					b, i = uvarint(post, i)
					i--
				}
				docs[n], freqs[n] = d, float32(flag|(1-flag)*b)
				i += int(1 - flag)
			}
			for j, d := range docs[:n] {
				ni := float32(freqs[j] * cache[norms[d]])
				s := float32(weight - float32(weight/float32(1+ni)))
				if w, bit := d>>6, uint64(1)<<(d&63); seen[w]&bit == 0 {
					seen[w] |= bit
					touched = append(touched, d)
				}
				scores[d] += float64(s)
			}
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
		hits[i] = Hit{DocID: ix.docID(h[0].doc), Score: h[0].score}
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
		id, ok := ix.terms.find(t, ix.terms.hash(t))
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

// uvarint decodes the varint at p[i:] (valid: the index wrote it) and
// returns it with the index after it.
func uvarint(p []byte, i int) (uint64, int) {
	v, n := binary.Uvarint(p[i:])
	return v, i + n
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
