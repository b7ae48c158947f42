package trec

import (
	"cmp"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

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
	// The query being read: a run's lines come grouped by query, so its
	// results and document set are looked up once per group, not per line.
	var (
		open bool
		qid  string
		hits []Result
		docs map[string]bool
	)
	n := 0
	err := eachFields(r, name, func(line int, f [][]byte) error {
		if len(f) < 6 {
			return inputerr.At(name, line, "run line needs 6 fields (qid Q0 docno rank score tag), found %d", len(f))
		}
		if !open || string(f[0]) != qid {
			if r, bad := controlIn(f[0]); bad {
				return inputerr.At(name, line, "query id %q contains %U (ids must not contain control characters)", f[0], r)
			}
			if open {
				run.Entries[qid] = hits
			}
			qid = string(f[0])
			open, hits, docs = true, run.Entries[qid], seen[qid]
			if docs == nil {
				docs = map[string]bool{}
				seen[qid] = docs
			}
		}
		if r, bad := controlIn(f[2]); bad {
			return inputerr.At(name, line, "document id %q contains %U (ids must not contain control characters)", f[2], r)
		}
		rank, err := strconv.Atoi(string(f[3]))
		if err != nil {
			return inputerr.At(name, line, "rank %q is not an integer", f[3])
		}
		score, err := strconv.ParseFloat(string(f[4]), 64)
		if err != nil || math.IsNaN(score) || math.IsInf(score, 0) {
			return inputerr.At(name, line, "score %q is not a finite number", f[4])
		}
		if docs[string(f[2])] {
			return inputerr.At(name, line, "duplicate document %q in query %q", f[2], qid)
		}
		doc := string(f[2])
		docs[doc] = true
		hits = append(hits, Result{DocID: doc, Score: score, Rank: rank})
		if string(f[5]) != run.Tag {
			run.Tag = string(f[5])
		}
		n++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, inputerr.At(name, 0, "run file has no results")
	}
	run.Entries[qid] = hits
	return run, nil
}

// SortResults orders results the way trec_eval ranks them: score descending,
// ties broken by document id descending (byte order). The rank column plays
// no part.
func SortResults(rs []Result) {
	// Runs are mostly written in this order already: checking is a pass.
	if !ResultsSorted(rs) {
		slices.SortFunc(rs, compareResults)
	}
}

// ResultsSorted reports whether rs is in SortResults' order.
func ResultsSorted(rs []Result) bool { return slices.IsSortedFunc(rs, compareResults) }

// compareResults: higher score first, then the greater document id.
func compareResults(a, b Result) int {
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	return strings.Compare(b.DocID, a.DocID)
}
