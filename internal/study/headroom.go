package study

import "math"

// Headroom relates a reranker to the first stage it reranked and to the
// oracle (perfect) reranking of the same candidates.
type Headroom struct {
	First, Reranked, Oracle float64
	// Potential = Oracle − First: what a perfect reranker would gain.
	Potential float64
	// Realised = (Reranked − First) ÷ Potential: the share of the potential
	// the reranker realised (negative when it made things worse). 0 when
	// not Defined.
	Realised float64
	// Defined is false when Potential <= 0 (nothing to gain) or an input is
	// not finite; Realised is then 0. Realised is never NaN or ±Inf.
	Defined bool
}

// ComputeHeadroom computes the headroom figures from the mean metric of the
// first stage, the reranked run and the oracle run.
func ComputeHeadroom(first, reranked, oracle float64) Headroom {
	h := Headroom{First: first, Reranked: reranked, Oracle: oracle}
	if !finite(first) || !finite(reranked) || !finite(oracle) {
		if finite(oracle) && finite(first) {
			h.Potential = oracle - first
		}
		return h
	}
	h.Potential = oracle - first
	if !(h.Potential > 0) {
		return h
	}
	r := (reranked - first) / h.Potential
	if !finite(r) {
		return h
	}
	h.Realised = r
	h.Defined = true
	return h
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
