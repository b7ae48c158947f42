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
	"unsafe"

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
	mem     *mapper // of raw, pool, post and, until Build, terms and ids
	raw     rawDict
	terms   termDict
	workers []*worker

	// Written by the indexing of the last batch until indexed is closed.
	indexed  chan struct{} // nil if none is running
	indexErr error
	// the chunks of the batch being indexed, their term numbers resolved
	// (noTerm for none); nil once indexed
	batch   []*chunk
	single  [1]*chunk // the chunk of batches that have one, reused
	norms   []byte
	withTok int        // documents with at least one term
	sumTTF  int64      // total number of terms
	post    []building // per term
	pool    slicePool
	posted  uint32  // terms with a posting: 0 to posted-1
	touched []touch // scratch
}

// touch is a term of the document being indexed: its building's cur and
// last before the document. Meanwhile its building has the document as
// last and counts the term's occurrences in cur (no array of frequencies
// per term).
type touch struct{ id, cur, last uint32 }

// building is the postings of one term under construction, in the slices
// of pool from its first slice (pool.head) to cur: for each document in
// order, uvarint(docDelta<<1 | 1) when the term occurs once, else
// uvarint(docDelta<<1) uvarint(freq), where docDelta is the document's
// number minus the previous posting's (its number for the first). The
// Index keeps them in this form; Build counts them for df.
type building struct {
	cur  uint32
	last uint32 // document of the last posting + 1, 0 for none
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
// started. A batch's chunks are its own (the next batch's are new): the
// builder keeps no scratch sized by a batch between batches.
type chunk struct {
	docs []Doc
	// toks: the documents' term numbers (tokens without a term left out),
	// or missBit|i for the raw token miss[i], absent from the dictionary,
	// until resolved; ends[d] is the end of document d's.
	toks []uint32
	ends []uint32
	// the raw tokens absent from the dictionary, each once, in order of
	// first occurrence, their hashes, then their dictionary references,
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
	raws []string
	// the raw tokens of the chunk being analysed absent from the
	// dictionary: an open-addressing table of indexes into chunk.miss
	// + 1, at most half full
	missTab []uint32
}

// NewBuilder returns a Builder that analyses documents with a.
func NewBuilder(a analysis.Analyzer) *Builder { return newBuilder(a, newMapper()) }

// newBuilder returns a Builder whose large structures come from mem (all
// from the heap if nil).
func newBuilder(a analysis.Analyzer, mem *mapper) *Builder {
	b := &Builder{
		a:     a,
		ids:   newIDList(mem),
		mem:   mem,
		raw:   newRawDict(mem),
		terms: newTermDict(mem, 0),
		pool:  newSlicePool(mem),
	}
	b.rt, _ = a.(analysis.RawTokenizer)
	if mem != nil {
		// (Build frees it; this, a builder dropped before)
		runtime.AddCleanup(b, (*mapper).freeAll, mem)
	}
	return b
}

// Add analyses text and adds it as document docID. An empty or duplicate
// docID is an error.
func (b *Builder) Add(docID, text string) error {
	return b.AddBatch([]Doc{{ID: docID, Text: text}})
}

// Doc is a document for AddBatch. A Title is indexed before the Text as if
// the two were joined by a space (the usual title + " " + text of BM25
// baselines), without a joined copy of each document.
type Doc struct {
	ID    string
	Title string
	Text  string
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
	var chunks []*chunk
	if nChunks == 1 {
		// A single chunk (an Add) is indexed before AddBatch returns:
		// its scratch is reused, unless a long document grew it.
		c := b.single[0]
		if c == nil || cap(c.toks) > 1<<14 {
			c = &chunk{}
		}
		*c = chunk{docs: docs, toks: c.toks[:0], ends: c.ends[:0]}
		b.single[0] = c
		chunks = b.single[:]
	} else {
		chunks = make([]*chunk, nChunks)
		for i := range chunks {
			c := &chunk{docs: docs[i*chunkDocs : min((i+1)*chunkDocs, len(docs))]}
			n := 0
			for _, d := range c.docs {
				n += len(d.Text)
			}
			// typically a token with a term per 10 or 11 bytes;
			// append grows it for the others
			c.toks = make([]uint32, 0, n/10+16)
			c.ends = make([]uint32, 0, len(c.docs))
			chunks[i] = c
		}
	}
	// Small batches (a single Add) are not worth goroutines.
	nWorkers := 1
	if nChunks > 1 {
		nWorkers = runtime.GOMAXPROCS(0)
	}
	for len(b.workers) < nWorkers {
		b.workers = append(b.workers, &worker{})
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
		if cap(w.raws) > 1<<12 {
			w.raws = nil // (a very long document's)
		}
	}
	if err != nil {
		for _, c := range chunks {
			c.docs, c.miss = nil, nil // (the batch's texts)
		}
		return err
	}

	b.resolve(chunks, workers)

	// The batch's term numbers, then, once the last batch is indexed,
	// its postings, in document order, in the background.
	parallel(workers, nChunks, func(_ *worker, i int) {
		c := chunks[i]
		for j, id := range c.toks {
			if id&missBit != 0 {
				c.toks[j] = b.raw.id(c.missSlot[id&^missBit])
			}
		}
		c.missHash, c.missSlot, c.missNew, c.missTermHash = nil, nil, nil, nil
	})
	nTerms := b.terms.len()
	b.waitIndexed()
	if b.indexErr != nil {
		return b.indexErr
	}
	b.batch = chunks
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
	const minTab = 1 << 10
	if w.missTab == nil {
		w.missTab = make([]uint32, minTab)
	}
	tab := w.missTab
	for _, d := range c.docs {
		switch {
		case b.rt == nil && d.Title != "":
			w.raws = b.a.Analyze(d.Title + " " + d.Text)
		case b.rt == nil:
			w.raws = b.a.Analyze(d.Text)
		default:
			// No raw token spans the space that would join them.
			w.raws = b.rt.AppendRawTokens(w.raws[:0], d.Title)
			w.raws = b.rt.AppendRawTokens(w.raws, d.Text)
		}
		for _, r := range w.raws {
			id, h, ok := b.raw.get(r)
			if ok {
				if id != noTerm {
					c.toks = append(c.toks, id)
				}
				continue
			}
			mask := uint64(len(tab) - 1)
			i := h & mask
			for tab[i] != 0 && (c.missHash[tab[i]-1] != h || c.miss[tab[i]-1] != r) {
				i = (i + 1) & mask
			}
			mi := tab[i] - 1
			if tab[i] == 0 {
				mi = uint32(len(c.miss))
				c.miss = append(grow(c.miss, 1), r)
				c.missHash = append(grow(c.missHash, 1), h)
				tab[i] = mi + 1
				if 2*len(c.miss) > len(tab) {
					tab = growMissTab(tab, c.missHash)
				}
			}
			c.toks = append(c.toks, missBit|mi)
		}
		c.ends = append(c.ends, uint32(len(c.toks)))
	}
	c.docs = nil
	if b.rt == nil {
		w.raws = nil
	}
	// The table for the next chunk: empty, and not much larger than this
	// chunk needed.
	switch mask := uint64(len(tab) - 1); {
	case len(tab) > minTab && 8*len(c.miss) < len(tab):
		tab = make([]uint32, len(tab)/2)
	case 16*len(c.miss) < len(tab):
		// few entries (a single Add): clear them alone
		for j, h := range c.missHash {
			i := h & mask
			for tab[i] != uint32(j+1) {
				i = (i + 1) & mask
			}
			tab[i] = 0
		}
	default:
		clear(tab)
	}
	w.missTab = tab
}

// growMissTab returns worker.missTab twice as large, with the misses of
// hashes hs.
func growMissTab(tab []uint32, hs []uint64) []uint32 {
	tab = make([]uint32, 2*len(tab))
	mask := uint64(len(tab) - 1)
	for j, h := range hs {
		i := h & mask
		for tab[i] != 0 {
			i = (i + 1) & mask
		}
		tab[i] = uint32(j + 1)
	}
	return tab
}

// resolve adds the raw tokens of the chunks absent from the dictionary,
// with their terms, computed in parallel; new terms are numbered in order
// of first occurrence.
func (b *Builder) resolve(chunks []*chunk, workers []*worker) {
	// How many of the missing raw tokens go to each shard of the
	// dictionary; then each shard adds its new ones, in order, the shards
	// in parallel.
	parallel(workers, len(chunks), func(_ *worker, i int) {
		c := chunks[i]
		c.missSlot = make([]uint32, len(c.miss))
		c.missNew = make([]uint8, len(c.miss))
		c.missTerm = make([]string, len(c.miss))
		c.missTermHash = make([]uint64, len(c.miss))
		for _, h := range c.missHash {
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
		// (they refer to the batch's texts)
		c.miss, c.missTerm = nil, nil
	}
}

// index adds the postings of the documents of b.batch and releases it;
// nTerms is the number of terms after the batch.
func (b *Builder) index(nTerms int) {
	defer func() { b.batch = nil }()
	if n := nTerms - len(b.post); n > 0 {
		b.post = growMapped(b.mem, b.post, n)[:nTerms]
	}
	touched := b.touched[:0]
	doc := uint32(len(b.norms))
	for _, c := range b.batch {
		b.norms = grow(b.norms, len(c.ends))
		start := uint32(0)
		for _, end := range c.ends {
			for _, id := range c.toks[start:end] {
				if id == noTerm {
					continue
				}
				p := &b.post[id]
				if p.last != doc+1 {
					touched = append(touched, touch{id: id, cur: p.cur, last: p.last})
					p.cur, p.last = 0, doc+1
				}
				p.cur++
			}
			start = end
			n := 0
			for _, t := range touched {
				f, cur, delta := b.post[t.id].cur, t.cur, uint64(doc)
				if t.last == 0 {
					// The term's first posting: terms are numbered in
					// order of first occurrence, so this is the next
					// first slice.
					if t.id != b.posted {
						panic("bm25: terms not indexed in order of first occurrence")
					}
					var ok bool
					if cur, ok = b.pool.newFirst(t.id); !ok {
						b.indexErr = errPoolFull
						return
					}
					b.posted++
				} else {
					delta -= uint64(t.last - 1)
				}
				var ok bool
				switch {
				case f == 1 && delta < 0x40 && b.pool.put1(&cur, byte(delta<<1|1)):
					ok = true // the common case
				case f == 1:
					ok = b.pool.writeUvarint(&cur, delta<<1|1)
				default:
					ok = b.pool.writeUvarint(&cur, delta<<1) && b.pool.writeUvarint(&cur, uint64(f))
				}
				if !ok {
					b.indexErr = errPoolFull
					return
				}
				b.post[t.id].cur = cur
				n += int(f)
			}
			touched = touched[:0]
			b.norms = append(b.norms, intToByte4(n))
			if n > 0 {
				b.withTok++
				b.sumTTF += int64(n)
			}
			doc++
		}
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

	// What the index does not keep is released first, so that the garbage
	// collector can reuse it for the contiguous postings: beside the
	// index, only the postings under construction and the contiguous ones
	// coexist.
	workers := b.workers
	if len(workers) == 0 {
		workers = []*worker{{}}
	}
	for _, w := range workers {
		*w = worker{}
	}
	b.raw.release()
	b.ids.set, b.touched, b.workers, b.single = idSet{}, nil, nil, [1]*chunk{}
	// The index's ids and terms move to the heap (mapped, they are copied
	// to their size). The index shares the id bytes, which no longer
	// change, unless they have much unused capacity.
	var ids string
	if d := onHeap(b.mem, b.ids.data); len(d) > 0 && cap(d)-len(d) <= len(d)/8 {
		ids = unsafe.String(&d[0], len(d))
	} else {
		ids = string(d)
	}
	idx := &Index{
		analyzer: b.a,
		lang:     b.a.Language(),
		anaVer:   b.a.Version(),
		ids:      ids,
		idOff:    onHeap(b.mem, b.ids.off),
		norms:    b.norms,
		docCount: b.withTok,
		sumTTF:   b.sumTTF,
		terms:    b.terms.onHeap(),
	}
	b.ids, b.norms, b.terms = idList{}, nil, termDict{}
	// Collect now: the heap may be near the collector's goal (twice the
	// live heap at the last collection), so the contiguous postings,
	// offsets and document frequencies would otherwise be allocated on top
	// of its garbage and raise the process's peak by their size (measured
	// on 50K documents while the builder's structures were on the heap:
	// peak RSS 26–27 MB without, 24–25 MB with; now that they are mapped,
	// the peak is reached while documents are added, and this collection,
	// 0.3 ms there, changes it by less than the noise). Small indexes are
	// not worth a collection of the whole process's heap.
	if len(b.pool.blocks) >= gcBeforePostingsBlocks {
		runtime.GC()
	}

	// The postings of each term, contiguous, in parallel over ranges of
	// terms.
	nTerms := idx.terms.len()
	off := make([]uint64, nTerms+1)
	const termsPerTask = 4096
	tasks := (nTerms + termsPerTask - 1) / termsPerTask
	parallel(workers, tasks, func(_ *worker, i int) {
		for t := i * termsPerTask; t < min((i+1)*termsPerTask, nTerms); t++ {
			off[t+1] = uint64(b.pool.termLen(b.pool.head(uint32(t)), b.post[t].cur))
		}
	})
	for t := range nTerms {
		off[t+1] += off[t]
	}
	post := make([]byte, off[nTerms]+1) // and a byte after the postings
	parallel(workers, tasks, func(_ *worker, i int) {
		for t := i * termsPerTask; t < min((i+1)*termsPerTask, nTerms); t++ {
			b.pool.copyTerm(post[off[t]:off[t+1]], b.pool.head(uint32(t)), b.post[t].cur)
		}
	})
	b.pool.release()
	freeMapped(b.mem, b.post)
	b.post = nil
	df := make([]uint32, nTerms)
	parallel(workers, tasks, func(_ *worker, i int) {
		for t := i * termsPerTask; t < min((i+1)*termsPerTask, nTerms); t++ {
			df[t] = countPostings(post[off[t]:off[t+1]])
		}
	})
	idx.df, idx.postOff, idx.post = df, off, post
	idx.init()
	return idx, nil
}

// gcBeforePostingsBlocks is the size of the postings under construction
// (64 KiB blocks) from which Build collects garbage before it copies them.
const gcBeforePostingsBlocks = 16

// countPostings is the number of postings in p (see building): a posting
// is a uvarint, then a second one, its frequency, if the low bit of its
// first byte is 0.
func countPostings(p []byte) uint32 {
	n := uint32(0)
	for i := 0; i < len(p); n++ {
		first := p[i]
		i++
		if first >= 0x80 {
			for p[i] >= 0x80 {
				i++
			}
			i++
		}
		if first&1 == 0 {
			for p[i] >= 0x80 {
				i++
			}
			i++
		}
	}
	return n
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
