package trec

import (
	"io"
	"math"
	"os"
	"sort"
	"strconv"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// Result is one retrieved document of a query.
type Result struct {
	DocID string
	Score float64
	Rank  int // the file's rank column; trec_eval ignores it and ranks by score
}

// Run is a parsed run file.
type Run struct {
	Name    string              // file name, for error messages
	Tag     string              // run tag of the last line, as trec_eval reports it
	Entries map[string][]Result // query id → results in file order
}

// ReadRun reads a run file; see ParseRun.
func ReadRun(path string) (*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, inputerr.At(path, 0, "cannot read run: %v", err)
	}
	defer f.Close()
	return ParseRun(f, path)
}

// ParseRun parses lines "qid Q0 docno rank score tag" separated by any
// whitespace. Fields after the tag are ignored, as trec_eval does. Blank lines
// and '#' comments are skipped. The score must be a finite number; a document
// listed twice for a query is an error (trec_eval: "duplicate docs"), and so
// is an id with a control character (NUL …).
func ParseRun(r io.Reader, name string) (*Run, error) {
	run := &Run{Name: name, Entries: map[string][]Result{}}
	seen := map[string]map[string]bool{}
	n := 0
	err := eachLine(r, name, func(line int, f []string) error {
		if len(f) < 6 {
			return inputerr.At(name, line, "run line needs 6 fields (qid Q0 docno rank score tag), found %d", len(f))
		}
		qid, doc := f[0], f[2]
		for _, id := range []struct{ what, v string }{{"query id", qid}, {"document id", doc}} {
			if r, bad := controlIn(id.v); bad {
				return inputerr.At(name, line, "%s %q contains %U (ids must not contain control characters)", id.what, id.v, r)
			}
		}
		rank, err := strconv.Atoi(f[3])
		if err != nil {
			return inputerr.At(name, line, "rank %q is not an integer", f[3])
		}
		score, err := strconv.ParseFloat(f[4], 64)
		if err != nil || math.IsNaN(score) || math.IsInf(score, 0) {
			return inputerr.At(name, line, "score %q is not a finite number", f[4])
		}
		docs := seen[qid]
		if docs == nil {
			docs = map[string]bool{}
			seen[qid] = docs
		}
		if docs[doc] {
			return inputerr.At(name, line, "duplicate document %q in query %q", doc, qid)
		}
		docs[doc] = true
		run.Entries[qid] = append(run.Entries[qid], Result{DocID: doc, Score: score, Rank: rank})
		run.Tag = f[5]
		n++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, inputerr.At(name, 0, "run file has no results")
	}
	return run, nil
}

// SortResults orders results the way trec_eval ranks them: score descending,
// ties broken by document id descending (byte order). The rank column plays
// no part.
func SortResults(rs []Result) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Score != rs[j].Score {
			return rs[i].Score > rs[j].Score
		}
		return rs[i].DocID > rs[j].DocID
	})
}
