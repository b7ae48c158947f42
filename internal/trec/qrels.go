// Package trec reads and writes the TREC text formats used by trec_eval:
// qrels (relevance judgments) and run files (ranked results).
package trec

import (
	"io"
	"os"
	"strconv"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// Qrels maps query id → document id → relevance judgment. Judgments may be
// negative (trec_eval: "in the pool but unjudged") or 0 (judged non-relevant).
type Qrels map[string]map[string]int

// ReadQrels reads a qrels file; see ParseQrels.
func ReadQrels(path string) (Qrels, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, inputerr.At(path, 0, "cannot read qrels: %v", err)
	}
	defer f.Close()
	return ParseQrels(f, path)
}

// ParseQrels parses lines "qid iter docno rel" separated by any whitespace; the
// iter field is ignored. Blank lines and lines starting with '#' are skipped.
// A second judgment for the same (qid, docno) is an error, as in trec_eval
// (which refuses to evaluate such a query: "duplicate docs"); so is an id with a
// control character (NUL …).
func ParseQrels(r io.Reader, name string) (Qrels, error) {
	q := Qrels{}
	n := 0
	err := eachLine(r, name, func(line int, f []string) error {
		if len(f) != 4 {
			return inputerr.At(name, line, "qrels line needs 4 fields (qid iter docno rel), found %d", len(f))
		}
		for _, id := range []struct{ what, v string }{{"query id", f[0]}, {"document id", f[2]}} {
			if r, bad := controlIn(id.v); bad {
				return inputerr.At(name, line, "%s %q contains %U (ids must not contain control characters)", id.what, id.v, r)
			}
		}
		rel, err := strconv.Atoi(f[3])
		if err != nil {
			return inputerr.At(name, line, "relevance %q is not an integer", f[3])
		}
		docs := q[f[0]]
		if docs == nil {
			docs = map[string]int{}
			q[f[0]] = docs
		}
		if _, dup := docs[f[2]]; dup {
			return inputerr.At(name, line, "duplicate judgment for document %q in query %q", f[2], f[0])
		}
		docs[f[2]] = rel
		n++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, inputerr.At(name, 0, "qrels file has no judgments")
	}
	return q, nil
}
