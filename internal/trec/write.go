package trec

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// Ranking is the ranked list of one query.
type Ranking struct {
	QID  string
	Hits []Result // best first; Rank is ignored and rewritten as 1..n
}

// WriteRun writes rankings as "qid Q0 docno rank score tag" lines, queries in
// the given order, ranks 1..n in hit order and scores as %.6f (like Pyserini).
// trec_eval re-ranks by score, so hits should already be in SortResults order
// for the rank column to agree with evaluation. Ids containing whitespace would
// make the file unreadable and are rejected.
func WriteRun(w io.Writer, tag string, rankings []Ranking) error {
	if err := checkToken(tag); err != nil {
		return inputerr.Field("tag", "%v", err)
	}
	bw := bufio.NewWriter(w)
	var buf []byte
	for i, rk := range rankings {
		if err := checkToken(rk.QID); err != nil || strings.HasPrefix(rk.QID, "#") {
			// A leading '#' would turn the line into a comment.
			return inputerr.Field(fmt.Sprintf("rankings[%d].qid", i), "query id %q is empty, contains whitespace or starts with '#'", rk.QID)
		}
		for j, h := range rk.Hits {
			if err := checkToken(h.DocID); err != nil {
				return inputerr.Field(fmt.Sprintf("rankings[%d].hits[%d].doc_id", i, j), "%v", err)
			}
			if math.IsNaN(h.Score) || math.IsInf(h.Score, 0) {
				return inputerr.Field(fmt.Sprintf("rankings[%d].hits[%d].score", i, j), "score %v is not finite", h.Score)
			}
			buf = append(buf[:0], rk.QID...)
			buf = append(buf, " Q0 "...)
			buf = append(buf, h.DocID...)
			buf = append(buf, ' ')
			buf = strconv.AppendInt(buf, int64(j+1), 10)
			buf = append(buf, ' ')
			buf = strconv.AppendFloat(buf, h.Score, 'f', 6, 64)
			buf = append(buf, ' ')
			buf = append(buf, tag...)
			buf = append(buf, '\n')
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

func checkToken(s string) error {
	if s == "" {
		return fmt.Errorf("empty")
	}
	if strings.IndexFunc(s, isSpace) >= 0 {
		return fmt.Errorf("%q contains whitespace", s)
	}
	return nil
}

// RunOf is the Run that ParseRun(…, name) returns for what WriteRun(…, tag,
// rankings) writes, built without writing and parsing: scores rounded to
// the file's six decimals, ranks 1..n in each ranking's order. rankings
// must be ones WriteRun accepted; ok is false when ParseRun would refuse
// the file (no results, a document twice in a query, a control character in
// an id).
func RunOf(name, tag string, rankings []Ranking) (run *Run, ok bool) {
	run = &Run{Name: name, Entries: make(map[string][]Result, len(rankings))}
	// The documents of the query being added: one set, refilled when a
	// query comes back in a later ranking (a map per query was most of
	// RunOf's garbage).
	docs := map[string]bool{}
	var buf []byte
	for _, rk := range rankings {
		if len(rk.Hits) == 0 {
			continue
		}
		if _, bad := controlIn(rk.QID); bad {
			return nil, false
		}
		hits, again := run.Entries[rk.QID]
		clear(docs)
		if again {
			for _, h := range hits {
				docs[h.DocID] = true
			}
		} else {
			hits = make([]Result, 0, len(rk.Hits))
		}
		for j, h := range rk.Hits {
			if _, bad := controlIn(h.DocID); bad || docs[h.DocID] {
				return nil, false
			}
			docs[h.DocID] = true
			score := h.Score
			// Whole numbers below 2^53 read back as written (a reranked
			// run's rank-based scores); others are rounded as the file is.
			if score != math.Trunc(score) || math.Abs(score) >= 1<<53 {
				buf = strconv.AppendFloat(buf[:0], h.Score, 'f', 6, 64)
				var err error
				if score, err = strconv.ParseFloat(string(buf), 64); err != nil {
					return nil, false
				}
			}
			hits = append(hits, Result{DocID: h.DocID, Score: score, Rank: j + 1})
		}
		run.Entries[rk.QID] = hits
		run.Tag = tag
	}
	if len(run.Entries) == 0 {
		return nil, false
	}
	return run, true
}
