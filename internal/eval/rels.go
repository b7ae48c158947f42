package eval

import (
	"fmt"
	"math"
	"sort"

	"github.com/clirflow/clirflow/internal/trec"
)

// Relevance codes for retrieved documents without a usable judgment
// (trec_eval's RELVALUE_NONPOOL and RELVALUE_UNJUDGED).
const (
	relNonpool   = -1 // not in the qrels at all
	relUnjudged  = -2 // in the qrels with a negative judgment
	minGeoMean   = 1e-5
	infapEpsilon = 1e-5
)

type levelCount struct {
	level int
	n     int
}

// query is one query's ranking joined with its judgments (trec_eval's RES_RELS).
type query struct {
	qid        string
	level      int   // relevance level: judgments >= level are relevant
	rel        []int // judgment per rank, or relNonpool / relUnjudged
	levels     []levelCount
	numRet     int
	numRel     int
	numRelRet  int
	numNonpool int
	numUnjudg  int
}

// newQuery ranks results as trec_eval does and looks up their judgments.
func newQuery(qid string, results []trec.Result, judged map[string]int, level int) (*query, error) {
	rs := append([]trec.Result(nil), results...)
	seen := make(map[string]bool, len(rs))
	for _, r := range rs {
		if seen[r.DocID] {
			return nil, fmt.Errorf("query %q: duplicate document %q", qid, r.DocID)
		}
		if math.IsNaN(r.Score) {
			return nil, fmt.Errorf("query %q: document %q has a NaN score", qid, r.DocID)
		}
		seen[r.DocID] = true
	}
	trec.SortResults(rs)
	q := &query{qid: qid, level: level, rel: make([]int, len(rs)), numRet: len(rs)}
	for i, r := range rs {
		j, ok := judged[r.DocID]
		switch {
		case !ok:
			q.rel[i] = relNonpool
			q.numNonpool++
		case j < 0:
			q.rel[i] = relUnjudged
			q.numUnjudg++
		default:
			q.rel[i] = j
			if j >= level {
				q.numRelRet++
			}
		}
	}
	counts := map[int]int{}
	for _, j := range judged {
		if j >= 0 {
			counts[j]++
		}
	}
	for l, n := range counts {
		q.levels = append(q.levels, levelCount{l, n})
		if l >= level {
			q.numRel += n
		}
	}
	sort.Slice(q.levels, func(i, j int) bool { return q.levels[i].level < q.levels[j].level })
	return q, nil
}

// relevant reports whether the document at rank index i is relevant.
func (q *query) relevant(i int) bool { return q.rel[i] >= q.level }

// relInTop counts relevant documents in the first k ranks.
func (q *query) relInTop(k int64) int {
	n := 0
	for i := 0; i < q.numRet && int64(i) < k; i++ {
		if q.relevant(i) {
			n++
		}
	}
	return n
}

// numNonrel counts judged non-relevant documents (0 <= judgment < level).
func (q *query) numNonrel() int {
	n := 0
	for _, l := range q.levels {
		if l.level < q.level {
			n += l.n
		}
	}
	return n
}
