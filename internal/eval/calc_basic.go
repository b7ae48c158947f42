package eval

import "math"

func calcNumRet(q *query, _ *Measure, out []float64)    { out[0] = float64(q.numRet) }
func calcNumRel(q *query, _ *Measure, out []float64)    { out[0] = float64(q.numRel) }
func calcNumRelRet(q *query, _ *Measure, out []float64) { out[0] = float64(q.numRelRet) }

func calcNumNonrelJudgedRet(q *query, _ *Measure, out []float64) {
	out[0] = float64(q.numRet - q.numNonpool - q.numUnjudg - q.numRelRet)
}

func averagePrecision(q *query) float64 {
	sum, relSoFar := 0.0, 0
	for i := 0; i < q.numRet; i++ {
		if q.relevant(i) {
			relSoFar++
			sum += float64(relSoFar) / float64(i+1)
		}
	}
	if relSoFar > 0 {
		sum /= float64(q.numRel)
	}
	return sum
}

func calcMap(q *query, _ *Measure, out []float64) { out[0] = averagePrecision(q) }

// The per-query value of a geometric-mean measure is the log of the floored
// value; the summary is exp of the mean of these logs.
func calcGmMap(q *query, _ *Measure, out []float64) {
	out[0] = math.Log(math.Max(averagePrecision(q), minGeoMean))
}

func calcRprec(q *query, _ *Measure, out []float64) {
	n := min(q.numRet, q.numRel)
	if n == 0 {
		return
	}
	out[0] = float64(q.relInTop(int64(n))) / float64(q.numRel)
}

func bpref(q *query) float64 {
	numNonrel := q.numNonrel()
	nonrelSoFar, sum := 0, 0.0
	for i := 0; i < q.numRet; i++ {
		r := q.rel[i]
		if r < 0 { // not judged: bpref only uses judged documents
			continue
		}
		if r < q.level {
			nonrelSoFar++
			continue
		}
		if nonrelSoFar > 0 {
			sum += 1 - float64(min(nonrelSoFar, q.numRel))/float64(min(numNonrel, q.numRel))
		} else {
			sum += 1
		}
	}
	if q.numRel > 0 {
		sum /= float64(q.numRel)
	}
	return sum
}

func calcBpref(q *query, _ *Measure, out []float64) { out[0] = bpref(q) }

func calcGmBpref(q *query, _ *Measure, out []float64) {
	out[0] = math.Log(math.Max(bpref(q), minGeoMean))
}

func calcRecipRank(q *query, _ *Measure, out []float64) {
	for i := 0; i < q.numRet; i++ {
		if q.relevant(i) {
			out[0] = 1 / float64(i+1)
			return
		}
	}
}

// calcInfAP follows trec_eval: documents outside the pool are skipped, pooled
// but unjudged ones are counted separately.
func calcInfAP(q *query, _ *Measure, out []float64) {
	nonrel, rel, unjudged := 0, 0, 0
	sum := 0.0
	for j := 0; j < q.numRet; j++ {
		switch r := q.rel[j]; {
		case r == relNonpool:
			continue
		case r == relUnjudged:
			unjudged++
			continue
		case r < q.level:
			nonrel++
			continue
		}
		rel++
		if j == 0 {
			sum += 1
			continue
		}
		fj := float64(j)
		sum += 1/(fj+1) + (fj/(fj+1))*(float64(rel-1+nonrel+unjudged)/fj)*
			((float64(rel-1)+infapEpsilon)/(float64(rel-1+nonrel)+2*infapEpsilon))
	}
	if q.numRel > 0 {
		sum /= float64(q.numRel)
	}
	out[0] = sum
}

func calcUtility(q *query, m *Measure, out []float64) {
	p := m.floats
	const numDocsInColl = 0 // trec_eval -N, not supported
	out[0] = p[0]*float64(q.numRelRet) + p[1]*float64(q.numRet-q.numRelRet) +
		p[2]*float64(q.numRel-q.numRelRet) +
		p[3]*float64(numDocsInColl+q.numRelRet-q.numRet-q.numRel)
}

func calcBinG(q *query, _ *Measure, out []float64) {
	relSoFar, sum := 0, 0.0
	for i := 0; i < q.numRet; i++ {
		if q.relevant(i) {
			relSoFar++
			sum += 1 / math.Log2(float64(3+i-relSoFar))
		}
	}
	if relSoFar > 0 {
		out[0] = sum / float64(q.numRel)
	}
}

func calcSetP(q *query, _ *Measure, out []float64) {
	if q.numRet > 0 {
		out[0] = float64(q.numRelRet) / float64(q.numRet)
	}
}

func calcSetRelativeP(q *query, _ *Measure, out []float64) {
	if q.numRet > 0 && q.numRel > 0 {
		out[0] = float64(q.numRelRet) / float64(min(q.numRet, q.numRel))
	}
}

func calcSetRecall(q *query, _ *Measure, out []float64) {
	if q.numRel > 0 {
		out[0] = float64(q.numRelRet) / float64(q.numRel)
	}
}

func calcSetMap(q *query, _ *Measure, out []float64) {
	if q.numRet > 0 && q.numRel > 0 {
		out[0] = float64(q.numRelRet) * float64(q.numRelRet) / (float64(q.numRet) * float64(q.numRel))
	}
}

func calcSetF(q *query, m *Measure, out []float64) {
	if q.numRelRet == 0 {
		return
	}
	p := float64(q.numRelRet) / float64(q.numRet)
	r := float64(q.numRelRet) / float64(q.numRel)
	x := m.floats[0]
	out[0] = (x + 1) * p * r / (x*p + r)
}

// textRelstring renders the judgments of the top ranks, one character each.
func textRelstring(q *query, m *Measure) string {
	n := min(int64(m.floats[0]), int64(q.numRet))
	if n < 0 {
		n = 0
	}
	b := make([]byte, n)
	for i := range b {
		switch r := q.rel[i]; {
		case r > 9:
			b[i] = '>'
		case r >= 0:
			b[i] = byte('0' + r)
		case r == relNonpool:
			b[i] = '-'
		case r == relUnjudged:
			b[i] = '.'
		default:
			b[i] = '<'
		}
	}
	return string(b)
}
