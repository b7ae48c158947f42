package eval

import "math"

// Cutoff measures: value k reads the first min(k, num_ret) ranks.

func calcP(q *query, m *Measure, out []float64) {
	for i, k := range m.cuts {
		out[i] = float64(q.relInTop(k)) / float64(k)
	}
}

func calcRecall(q *query, m *Measure, out []float64) {
	if q.numRel == 0 {
		return
	}
	for i, k := range m.cuts {
		out[i] = float64(q.relInTop(k)) / float64(q.numRel)
	}
}

func calcSuccess(q *query, m *Measure, out []float64) {
	for i, k := range m.cuts {
		if q.relInTop(k) > 0 {
			out[i] = 1
		}
	}
}

// calcRelativeP is precision relative to the best possible at k: P up to R,
// recall after.
func calcRelativeP(q *query, m *Measure, out []float64) {
	if q.numRel == 0 {
		return
	}
	for i, k := range m.cuts {
		out[i] = float64(q.relInTop(k)) / float64(min(k, int64(q.numRel)))
	}
}

func calcMapCut(q *query, m *Measure, out []float64) {
	if q.numRel == 0 {
		return
	}
	for ci, k := range m.cuts {
		sum, relSoFar := 0.0, 0
		for i := 0; i < q.numRet && int64(i) < k; i++ {
			if q.relevant(i) {
				relSoFar++
				sum += float64(relSoFar) / float64(i+1)
			}
		}
		out[ci] = sum / float64(q.numRel)
	}
}

// calcNdcgCut uses the judgments themselves as gains (no gain parameters) and
// the discount log2(rank+1); the ideal ranking comes from the qrels.
func calcNdcgCut(q *query, m *Measure, out []float64) {
	var ideal []float64
	for i := len(q.levels) - 1; i >= 0 && q.levels[i].level > 0; i-- {
		for range q.levels[i].n {
			ideal = append(ideal, float64(q.levels[i].level))
		}
	}
	for ci, k := range m.cuts {
		dcg := 0.0
		for i := 0; i < q.numRet && int64(i) < k; i++ {
			if g := float64(q.rel[i]); g > 0 {
				dcg += g / math.Log2(float64(i+2))
			}
		}
		idcg := 0.0
		for i := 0; i < len(ideal) && int64(i) < k; i++ {
			idcg += ideal[i] / math.Log2(float64(i+2))
		}
		if idcg > 0 {
			dcg /= idcg
		}
		out[ci] = dcg
	}
}
