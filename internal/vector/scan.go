package vector

import (
	"runtime"
	"sync"
)

// dotGo is the inner product, unrolled by 8 with independent accumulators (one
// serial accumulator would wait on each add). It serves where the assembly
// kernel (dot_amd64.s) does not; dot picks one.
func dotGo(a, b []float32) float32 {
	b = b[:len(a)] // one bounds check here instead of one per element
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		s4 += x[4] * y[4]
		s5 += x[5] * y[5]
		s6 += x[6] * y[6]
		s7 += x[7] * y[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// sumGo adds up a: the memory-bandwidth probe of BenchmarkEmbeddedSearch
// (sumFloats) where there is no assembly kernel.
func sumGo(a []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x := a[i : i+8 : i+8]
		s0 += x[0]
		s1 += x[1]
		s2 += x[2]
		s3 += x[3]
		s4 += x[4]
		s5 += x[5]
		s6 += x[6]
		s7 += x[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// topK keeps the k best rows seen so far in a min-heap whose root is the worst
// kept hit, so a row that cannot enter costs one comparison.
type topK struct {
	k     int
	ids   []string // all doc ids, indexed by row
	rows  []int32
	score []float32
}

// worse orders heap entries: lower score, or equal score and larger doc id.
func (h *topK) worse(i, j int) bool {
	if h.score[i] != h.score[j] {
		return h.score[i] < h.score[j]
	}
	return h.ids[h.rows[i]] > h.ids[h.rows[j]]
}

func (h *topK) push(row int32, s float32) {
	if len(h.rows) < h.k {
		h.rows = append(h.rows, row)
		h.score = append(h.score, s)
		for i := len(h.rows) - 1; i > 0; {
			p := (i - 1) / 2
			if !h.worse(i, p) {
				break
			}
			h.swap(i, p)
			i = p
		}
		return
	}
	if s < h.score[0] || (s == h.score[0] && h.ids[row] > h.ids[h.rows[0]]) {
		return
	}
	h.rows[0], h.score[0] = row, s
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(h.rows) && h.worse(l, m) {
			m = l
		}
		if r := l + 1; r < len(h.rows) && h.worse(r, m) {
			m = r
		}
		if m == i {
			return
		}
		h.swap(i, m)
		i = m
	}
}

func (h *topK) swap(i, j int) {
	h.rows[i], h.rows[j] = h.rows[j], h.rows[i]
	h.score[i], h.score[j] = h.score[j], h.score[i]
}

// minScanFloats is the least work worth a goroutine (about 1 MB of vectors).
const minScanFloats = 1 << 18

// search scores every row of vecs (n rows of dim) against q and returns the k
// best, sorted. The rows are split across GOMAXPROCS goroutines, each with its
// own heap, so the scan uses every core's share of memory bandwidth.
func search(vecs []float32, ids []string, dim int, q []float32, k int) []Hit {
	n := len(ids)
	workers := min(runtime.GOMAXPROCS(0), max(1, len(vecs)/minScanFloats))
	heaps := make([]topK, workers)
	var wg sync.WaitGroup
	for w := range heaps {
		lo, hi := n*w/workers, n*(w+1)/workers
		h := &heaps[w]
		*h = topK{k: k, ids: ids, rows: make([]int32, 0, min(k, hi-lo)), score: make([]float32, 0, min(k, hi-lo))}
		scan := func() {
			for r := lo; r < hi; r++ {
				h.push(int32(r), dot(q, vecs[r*dim:(r+1)*dim]))
			}
		}
		if w == workers-1 {
			scan() // the calling goroutine takes the last share
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); scan() }()
	}
	wg.Wait()
	var hits []Hit
	for _, h := range heaps {
		for i, r := range h.rows {
			hits = append(hits, Hit{DocID: ids[r], Score: h.score[i]})
		}
	}
	SortHits(hits)
	return hits[:min(k, len(hits))]
}
