// Package fusion combines first-stage runs into one (hybrid retrieval, e.g.
// BM25 + a dense encoder): reciprocal rank fusion and weighted min-max score
// interpolation, with the semantics of Pyserini's pyserini.fusion (and
// Anserini's fusion tool), except where noted:
//
//   - Each input run is ranked the way trec_eval ranks it (trec.SortResults:
//     score descending, document id descending on ties); Pyserini takes the
//     file's rank column and file order. The two agree on any run written in
//     trec_eval order with ranks 1..n, as clirflow writes them.
//   - Fused lists are ordered by fused score descending, ties by document id
//     ascending (byte order), as Pyserini's merge does. trec_eval breaks ties
//     the other way (id descending), so tied documents in the rank column and
//     in evaluation may appear in opposite orders — as with Pyserini's output.
//   - Queries are the union of the runs' queries; a run that lacks a query,
//     or a document, contributes nothing to it.
package fusion

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/trec"
)

// Defaults: Cormack et al.'s k, and the depth and cut of Pyserini's fusion
// regressions.
const (
	DefaultK     = 60
	DefaultDepth = 1000
	DefaultCut   = 1000
)

// Options bound the lists. Zero values take the defaults.
type Options struct {
	// Depth is the number of results of each input run considered per query
	// (the top Depth in trec_eval order; Pyserini's depth).
	Depth int
	// Cut is the number of fused results kept per query (Pyserini's k).
	Cut int
}

// RRF is reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009):
// score(d) = Σ_runs 1/(k + rank_r(d)), rank 1-based within the top Depth of
// run r, summed over the runs that retrieved d. k is Pyserini's rrf_k; 0
// means DefaultK. At least two runs are required.
func RRF(runs []*trec.Run, k float64, o Options) (*trec.Run, error) {
	if k == 0 {
		k = DefaultK
	}
	if k < 0 || math.IsNaN(k) || math.IsInf(k, 0) {
		return nil, inputerr.Field("k", "must be a finite number > 0, got %v", k)
	}
	name := fmt.Sprintf("rrf_k=%g", k)
	return fuse(runs, o, name, func(_ int, hits []trec.Result, depth int) []float64 {
		c := make([]float64, depth)
		for i := range c {
			c[i] = 1 / (k + float64(i+1))
		}
		return c
	})
}

// MinMax is weighted score interpolation: per query, each run's scores are
// min-max normalised to [0, 1] over all of that query's results in the run
// (before the Depth cut, as Pyserini/Anserini do), then
// fused(d) = Σ_runs weights[r] · norm_r(d) over the top Depth of each run.
// When a run's scores for a query are all equal (a single result included),
// they normalise to 1, the Pyserini/Anserini convention (ranx gives 0): the
// run's whole list counts as its top. Weights must be finite, ≥ 0, one per
// run, and not all 0. Equal weights 1/n give Pyserini's "normalize" method.
func MinMax(runs []*trec.Run, weights []float64, o Options) (*trec.Run, error) {
	if len(weights) != len(runs) {
		return nil, inputerr.Field("weights", "%d weights for %d runs", len(weights), len(runs))
	}
	sum := 0.0
	for i, w := range weights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, inputerr.Field(fmt.Sprintf("weights[%d]", i), "must be a finite number ≥ 0, got %v", w)
		}
		sum += w
	}
	if sum == 0 {
		return nil, inputerr.Field("weights", "are all 0")
	}
	ws := make([]string, len(weights))
	for i, w := range weights {
		ws[i] = strconv.FormatFloat(w, 'g', 6, 64) // 1 − 0.7 shows as 0.3
	}
	return fuse(runs, o, "minmax_w="+strings.Join(ws, ","), func(r int, hits []trec.Result, depth int) []float64 {
		lo, hi := hits[len(hits)-1].Score, hits[0].Score // hits are sorted
		c := make([]float64, depth)
		for i := range c {
			n := 1.0
			if hi > lo {
				n = (hits[i].Score - lo) / (hi - lo)
			}
			c[i] = weights[r] * n
		}
		return c
	})
}

// Interpolate is MinMax of two runs with weights alpha and 1 − alpha,
// alpha in [0, 1].
func Interpolate(a, b *trec.Run, alpha float64, o Options) (*trec.Run, error) {
	if !(alpha >= 0 && alpha <= 1) {
		return nil, inputerr.Field("alpha", "must be in [0, 1], got %v", alpha)
	}
	return MinMax([]*trec.Run{a, b}, []float64{alpha, 1 - alpha}, o)
}

// fuse sums, per query, the contributions of each run's top depth results
// (contrib gets the query's results of run r in trec_eval order and returns
// the contributions of the first depth of them) and ranks the sums.
func fuse(runs []*trec.Run, o Options, name string, contrib func(r int, hits []trec.Result, depth int) []float64) (*trec.Run, error) {
	if len(runs) < 2 {
		return nil, inputerr.Field("runs", "fusion needs at least 2 runs, got %d", len(runs))
	}
	depth, cut := o.Depth, o.Cut
	if depth == 0 {
		depth = DefaultDepth
	}
	if cut == 0 {
		cut = DefaultCut
	}
	if depth < 0 {
		return nil, inputerr.Field("depth", "must be ≥ 0, got %d", o.Depth)
	}
	if cut < 0 {
		return nil, inputerr.Field("cut", "must be ≥ 0, got %d", o.Cut)
	}
	qset := map[string]bool{}
	for i, r := range runs {
		if r == nil {
			return nil, inputerr.Field(fmt.Sprintf("runs[%d]", i), "is nil")
		}
		for q := range r.Entries {
			qset[q] = true
		}
	}
	qids := make([]string, 0, len(qset))
	for q := range qset {
		qids = append(qids, q)
	}
	sort.Strings(qids) // the summation order per document is the run order either way

	out := &trec.Run{Name: name, Tag: name, Entries: make(map[string][]trec.Result, len(qids))}
	for _, q := range qids {
		acc := map[string]float64{}
		for r, run := range runs {
			hits := slices.Clone(run.Entries[q])
			if len(hits) == 0 {
				continue
			}
			if err := checkHits(hits); err != nil {
				return nil, inputerr.Field(fmt.Sprintf("runs[%d]", r), "run %q, query %q: %v", run.Name, q, err)
			}
			trec.SortResults(hits)
			n := min(depth, len(hits))
			for i, c := range contrib(r, hits, n) {
				acc[hits[i].DocID] += c
			}
		}
		fused := make([]trec.Result, 0, len(acc))
		for d, s := range acc {
			fused = append(fused, trec.Result{DocID: d, Score: s})
		}
		sort.Slice(fused, func(i, j int) bool {
			if fused[i].Score != fused[j].Score {
				return fused[i].Score > fused[j].Score
			}
			return fused[i].DocID < fused[j].DocID
		})
		fused = fused[:min(cut, len(fused))]
		for i := range fused {
			fused[i].Rank = i + 1
		}
		if len(fused) > 0 {
			out.Entries[q] = fused
		}
	}
	return out, nil
}

// checkHits rejects what trec.ParseRun rejects in files, for runs built in
// memory: a document listed twice, a non-finite score.
func checkHits(hits []trec.Result) error {
	seen := make(map[string]bool, len(hits))
	for _, h := range hits {
		if seen[h.DocID] {
			return fmt.Errorf("document %q listed twice", h.DocID)
		}
		seen[h.DocID] = true
		if math.IsNaN(h.Score) || math.IsInf(h.Score, 0) {
			return fmt.Errorf("document %q has score %v", h.DocID, h.Score)
		}
	}
	return nil
}
