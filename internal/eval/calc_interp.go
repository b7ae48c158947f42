package eval

// Interpolated precision measures. trec_eval turns a recall fraction p into a
// number of relevant documents as (long)(p*R + 0.9), and interpolates
// precision as the maximum precision at any later rank.

func recallCuts(fracs []float64, numRel int) []int64 {
	c := make([]int64, len(fracs))
	for i, p := range fracs {
		c[i] = int64(p*float64(numRel) + 0.9)
	}
	return c
}

// interpolated calls emit(cut index, interpolated precision) for every cutoff,
// walking the ranking bottom-up like trec_eval so ties resolve identically.
func interpolated(q *query, cuts []int64, emit func(int, float64)) {
	cur := len(cuts) - 1
	for cur >= 0 && cuts[cur] > int64(q.numRelRet) {
		cur--
	}
	intPrec := float64(q.numRelRet) / float64(q.numRet)
	relSoFar := q.numRelRet
	for i := q.numRet; i > 0 && relSoFar > 0; i-- {
		if p := float64(relSoFar) / float64(i); intPrec < p {
			intPrec = p
		}
		if q.relevant(i - 1) {
			for cur >= 0 && int64(relSoFar) == cuts[cur] {
				emit(cur, intPrec)
				cur--
			}
			relSoFar--
		}
	}
	for ; cur >= 0; cur-- {
		emit(cur, intPrec)
	}
}

func calcIprecAtRecall(q *query, m *Measure, out []float64) {
	interpolated(q, recallCuts(m.floats, q.numRel), func(i int, p float64) { out[i] = p })
}

func calc11ptAvg(q *query, m *Measure, out []float64) {
	sum := 0.0
	interpolated(q, recallCuts(m.floats, q.numRel), func(_ int, p float64) { sum += p })
	out[0] = sum / float64(len(m.floats))
}

// calcRprecMult is precision at multiples of R (cutoff (long)(x*R + 0.9)).
func calcRprecMult(q *query, m *Measure, out []float64) {
	for i, c := range recallCuts(m.floats, q.numRel) {
		if c > 0 {
			out[i] = float64(q.relInTop(c)) / float64(c)
		}
	}
}
