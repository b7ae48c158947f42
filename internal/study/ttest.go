package study

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// TieTolerance is the absolute difference below which a per-query pair
// counts as a tie in TTest.Wins/Ties/Losses.
const TieTolerance = 1e-12

// TTest is the result of a paired two-sided Student t-test of A against B.
type TTest struct {
	// N is the number of queries both inputs have (with finite values).
	N int
	// MeanA and MeanB are the means of A and B over those N queries.
	MeanA, MeanB float64
	// T is the t statistic of d = A − B; P the two-sided p-value.
	T, P float64
	// Defined is false when the test cannot be run (N < 2); P is then 1
	// and T 0.
	Defined bool
	// Reason explains special outcomes: "fewer than 2 common queries",
	// "identical" (every d is 0) or "constant non-zero difference".
	Reason string
	// Wins, Ties and Losses count queries with d > TieTolerance,
	// |d| <= TieTolerance and d < −TieTolerance.
	Wins, Ties, Losses int
}

// PairedTTest runs the paired two-sided t-test of scipy.stats.ttest_rel
// over the queries present in both a and b (with finite values in both),
// visited in sorted query-id order: d = a − b,
// t = mean(d) / (sd(d)/√n) with the sample standard deviation (n − 1),
// df = n − 1, p = 2·(1 − CDF_t(|t|)), computed as 2·CDF_t(−|t|), which is the
// same value without the cancellation in the far tail.
//
// Degenerate cases never give NaN:
//   - n < 2: Defined = false, T = 0, P = 1, Reason "fewer than 2 common queries";
//   - every d == 0: T = 0, P = 1, Reason "identical" (scipy returns nan);
//   - d constant and non-zero: T = ±Inf, P = 0 (as scipy).
func PairedTTest(a, b map[string]float64) TTest {
	var qids []string
	for q, va := range a {
		vb, ok := b[q]
		if ok && finite(va) && finite(vb) {
			qids = append(qids, q)
		}
	}
	sort.Strings(qids)
	r := TTest{N: len(qids), P: 1}
	if r.N == 0 {
		r.Reason = "fewer than 2 common queries"
		return r
	}
	d := make([]float64, r.N)
	var sa, sb, sd float64
	for i, q := range qids {
		sa += a[q]
		sb += b[q]
		d[i] = a[q] - b[q]
		sd += d[i]
		switch {
		case d[i] > TieTolerance:
			r.Wins++
		case d[i] < -TieTolerance:
			r.Losses++
		default:
			r.Ties++
		}
	}
	n := float64(r.N)
	r.MeanA, r.MeanB = sa/n, sb/n
	if r.N < 2 {
		r.Reason = "fewer than 2 common queries"
		return r
	}
	r.Defined = true
	allZero, constant := true, true
	for _, x := range d {
		if x != 0 {
			allZero = false
		}
		if x != d[0] {
			constant = false
		}
	}
	if allZero {
		r.Reason = "identical"
		return r
	}
	if constant {
		r.Reason = "constant non-zero difference"
		r.T = math.Inf(1)
		if d[0] < 0 {
			r.T = math.Inf(-1)
		}
		r.P = 0
		return r
	}
	mean := sd / n
	var ss float64
	for _, x := range d {
		ss += (x - mean) * (x - mean)
	}
	sdev := math.Sqrt(ss / (n - 1))
	r.T = mean / (sdev / math.Sqrt(n))
	if math.IsInf(r.T, 0) {
		r.P = 0
		return r
	}
	if math.IsNaN(r.T) { // unreachable for finite, non-constant d
		r.T, r.P = 0, 1
		return r
	}
	dist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}
	r.P = clamp01(2 * dist.CDF(-math.Abs(r.T)))
	return r
}

// Significant is the study's rule for marking a result with '*': the test
// is defined, p < alpha and the mean improved (MeanA > MeanB).
func Significant(t TTest, alpha float64) bool {
	return t.Defined && t.P < alpha && t.MeanA > t.MeanB
}

// Bonferroni returns Bonferroni-adjusted p-values: min(1, m·p). NaN inputs
// count as 1.
func Bonferroni(ps []float64) []float64 {
	out := make([]float64, len(ps))
	m := float64(len(ps))
	for i, p := range ps {
		out[i] = clamp01(m * cleanP(p))
	}
	return out
}

// Holm returns Holm–Bonferroni step-down adjusted p-values in the input
// order: with p sorted ascending, adj(i) = max_{j<=i} min(1, (m−j)·p(j))
// (j from 0). The adjusted values are monotone in p and capped at 1. NaN
// inputs count as 1.
func Holm(ps []float64) []float64 {
	m := len(ps)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return cleanP(ps[idx[i]]) < cleanP(ps[idx[j]]) })
	out := make([]float64, m)
	running := 0.0
	for rank, i := range idx {
		v := clamp01(float64(m-rank) * cleanP(ps[i]))
		if v > running {
			running = v
		}
		out[i] = running
	}
	return out
}

func cleanP(p float64) float64 {
	if math.IsNaN(p) {
		return 1
	}
	return clamp01(p)
}

func clamp01(p float64) float64 {
	switch {
	case math.IsNaN(p) || p > 1:
		return 1
	case p < 0:
		return 0
	}
	return p
}

// Corrections of Adjust.
const (
	CorrectionNone       = "none"
	CorrectionHolm       = "holm"
	CorrectionBonferroni = "bonferroni"
)

// Adjust applies a multiple-comparison correction ("holm", "bonferroni";
// anything else, e.g. "" or "none", leaves the p-values as they are) to one
// family of p-values. The result is a fresh slice.
func Adjust(ps []float64, correction string) []float64 {
	switch correction {
	case CorrectionHolm:
		return Holm(ps)
	case CorrectionBonferroni:
		return Bonferroni(ps)
	}
	return append([]float64(nil), ps...)
}
