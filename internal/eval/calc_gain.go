package eval

import (
	"math"
	"sort"
)

// gains maps judgments to gain values for ndcg, ndcg_rel, Rndcg and G: the
// judgment itself unless a level=gain parameter overrides it (trec_eval's
// setup_gains).
type gains struct {
	pairs []gainPair
	ideal []float64 // gains of the ideal ranking while positive, best first
	top   float64   // largest gain of any level, even one without documents
}

func newGains(q *query, pairs []gainPair) *gains {
	g := &gains{pairs: pairs}
	type lvl struct {
		gain float64
		n    int
	}
	var ls []lvl
	have := map[int64]bool{}
	for _, p := range pairs {
		ls = append(ls, lvl{p.gain, 0})
		have[p.level] = true
	}
	for _, l := range q.levels {
		if !have[int64(l.level)] {
			ls = append(ls, lvl{float64(l.level), l.n})
			continue
		}
		for i, p := range pairs {
			if p.level == int64(l.level) {
				ls[i].n = l.n
				break
			}
		}
	}
	// trec_eval also has an entry (gain = level, no documents) for every
	// level below the highest judged one; of those only the largest can
	// matter, as a candidate for top.
	if n := len(q.levels); n > 0 {
		present := map[int64]bool{}
		for _, l := range q.levels {
			present[int64(l.level)] = true
		}
		for l := int64(q.levels[n-1].level) - 1; l >= 0; l-- {
			if !present[l] && !have[l] {
				ls = append(ls, lvl{float64(l), 0})
				break
			}
		}
	}
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].gain > ls[j].gain })
	if len(ls) > 0 {
		g.top = ls[0].gain
	}
	for _, l := range ls {
		if l.gain <= 0 {
			break
		}
		for range l.n {
			g.ideal = append(g.ideal, l.gain)
		}
	}
	return g
}

// of returns the gain of a retrieved document's judgment. Unjudged and
// unpooled documents have gain 0 unless a parameter names their code.
func (g *gains) of(rel int) float64 {
	for _, p := range g.pairs {
		if p.level == int64(rel) {
			return p.gain
		}
	}
	if rel < 0 {
		return 0
	}
	return float64(rel)
}

func (g *gains) idealAt(i int) float64 {
	if i < len(g.ideal) {
		return g.ideal[i]
	}
	return 0
}

func discount(i int) float64 { return math.Log2(float64(i + 2)) } // rank i+1

func calcNdcg(q *query, m *Measure, out []float64) {
	g := newGains(q, m.pairs)
	dcg, idcg := 0.0, 0.0
	for i := 0; i < q.numRet; i++ {
		if x := g.of(q.rel[i]); x != 0 {
			dcg += x / discount(i)
		}
	}
	for i, x := range g.ideal {
		idcg += x / discount(i)
	}
	if idcg > 0 {
		out[0] = dcg / idcg
	}
}

// calcNdcgRel averages ndcg at each relevant (positive gain) document; relevant
// documents not retrieved contribute the final dcg over the full ideal dcg.
func calcNdcgRel(q *query, m *Measure, out []float64) {
	g := newGains(q, m.pairs)
	dcg, idcg, sum := 0.0, 0.0, 0.0
	numRel, numRelRet := 0, 0
	i := 0
	for ; i < q.numRet; i++ {
		x := g.of(q.rel[i])
		if x != 0 {
			dcg += x / discount(i)
		}
		if i < len(g.ideal) {
			numRel++
			idcg += g.ideal[i] / discount(i)
		}
		if x > 0 {
			sum += dcg / idcg
			numRelRet++
		}
	}
	for ; i < len(g.ideal); i++ {
		numRel++
		idcg += g.ideal[i] / discount(i)
	}
	sum += float64(numRel-numRelRet) * dcg / idcg
	if sum > 0 { // false for NaN, as in C
		out[0] = sum / float64(numRel)
	}
}

// calcRndcg averages ndcg at the ranks where the ideal gain changes, plus at
// the end of the ranking. Ported loop by loop: the points depend on whether
// the ranking or the ideal list runs out first.
func calcRndcg(q *query, m *Measure, out []float64) {
	if q.numRel == 0 {
		return
	}
	g := newGains(q, m.pairs)
	dcg, idcg, sum := 0.0, 0.0, 0.0
	changes := 0
	idealGain := g.top
	old := idealGain
	atChange := func() {
		if old != idealGain {
			if idcg > 0 {
				sum += dcg / idcg
				changes++
			}
			old = idealGain
		}
	}
	i := 0
	for ; i < q.numRet && idealGain > 0; i++ {
		x := g.of(q.rel[i])
		idealGain = g.idealAt(i)
		atChange()
		if x != 0 {
			dcg += x / discount(i)
		}
		if idealGain > 0 {
			idcg += idealGain / discount(i)
		}
	}
	if i < q.numRet {
		for ; i < q.numRet; i++ {
			if x := g.of(q.rel[i]); x != 0 {
				dcg += x / discount(i)
			}
		}
		if idcg > 0 {
			sum += dcg / idcg
			changes++
		}
	}
	for ; idealGain > 0; i++ {
		idealGain = g.idealAt(i)
		atChange()
		if idealGain > 0 {
			idcg += idealGain / discount(i)
		}
	}
	out[0] = sum / float64(changes)
}

// calcG is trec_eval's experimental G: a document's gain is discounted by the
// log of the gain the ideal ranking has accumulated beyond the actual one.
func calcG(q *query, m *Measure, out []float64) {
	const minCost = 1.0
	g := newGains(q, m.pairs)
	resultsG, sumResults, sumIdeal, sumCost := 0.0, 0.0, 0.0, 0.0
	for i := 0; i < q.numRet; i++ {
		x := g.of(q.rel[i])
		sumResults += x
		sumCost += math.Max(g.idealAt(i), minCost)
		if x != 0 {
			resultsG += x / math.Log2(2+sumCost-sumResults)
		}
	}
	for _, x := range g.ideal {
		sumIdeal += x
	}
	if sumIdeal > 0 {
		out[0] = resultsG / sumIdeal
	}
}
