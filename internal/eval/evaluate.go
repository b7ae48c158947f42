// Package eval reimplements trec_eval 9.0.8 for the measures computable from
// qrels and a run: same ranking, same per-query and summary values, same
// output bytes.
package eval

import (
	"math"
	"sort"
	"strings"

	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/trec"
)

// ValueKind says how a value prints.
type ValueKind int

const (
	Float ValueKind = iota // %6.4f
	Int                    // integer counts
	Text                   // runid, relstring
)

// Value is one reported number (or text) of a query or of the summary.
type Value struct {
	Name string // e.g. "P_10"
	Kind ValueKind
	Num  float64
	Text string
}

// QueryResult holds the values trec_eval -q prints for one query.
type QueryResult struct {
	QID    string
	Values []Value
}

// Result of evaluating a run. Queries are those in both qrels and run, in
// trec_eval's order (query ids sorted bytewise); Summary is the "all" block.
type Result struct {
	RunID   string
	Queries []QueryResult
	Summary []Value
}

// Get returns the summary value with the given name (e.g. "ndcg_cut_20").
func (r *Result) Get(name string) (float64, bool) { return find(r.Summary, name) }

// Get returns the query's value with the given name.
func (q *QueryResult) Get(name string) (float64, bool) { return find(q.Values, name) }

func find(vs []Value, name string) (float64, bool) {
	for _, v := range vs {
		if v.Name == name {
			return v.Num, true
		}
	}
	return 0, false
}

// Options are trec_eval's evaluation flags.
type Options struct {
	// Complete is -c: average over every qrels query, missing ones counting 0.
	Complete bool
	// RelevanceLevel is -l: judgments >= it are relevant. 0 means 1, the default.
	RelevanceLevel int
}

// Evaluate scores a run against qrels with the given measures (nil: the
// official set, like trec_eval without -m).
func Evaluate(qrels trec.Qrels, run *trec.Run, measures []Measure, opts Options) (*Result, error) {
	if measures == nil {
		var err error
		if measures, err = ParseMeasures(nil); err != nil {
			return nil, err
		}
	}
	measures = append([]Measure(nil), measures...) // resolved below without touching the caller's
	for i := range measures {
		if measures[i].def == nil { // built by hand rather than by ParseMeasures
			d := lookup(measures[i].Name)
			if d == nil {
				return nil, inputerr.Field("measures", "unknown measure %q; supported: %s", measures[i].Name, strings.Join(Supported(), ", "))
			}
			m, err := newMeasure(d, measures[i].Params)
			if err != nil {
				return nil, inputerr.Field("measures", "%s.%s: %v", d.name, measures[i].Params, err)
			}
			measures[i] = m
		}
	}
	level := opts.RelevanceLevel
	if level == 0 {
		level = 1
	}
	if level < 0 {
		return nil, inputerr.Field("relevance_level", "must be positive, got %d", level)
	}
	var qids []string
	for qid, rs := range run.Entries {
		if _, ok := qrels[qid]; ok && len(rs) > 0 {
			qids = append(qids, qid)
		}
	}
	if len(qids) == 0 {
		return nil, inputerr.At(run.Name, 0, "no queries with both results and relevance judgments")
	}
	sort.Strings(qids)

	res := &Result{RunID: run.Tag}
	sums := make([][]float64, len(measures))
	for i, m := range measures {
		sums[i] = make([]float64, len(m.Names))
	}
	vals := make([]float64, 0, 16)
	for _, qid := range qids {
		q, err := newQuery(qid, run.Entries[qid], qrels[qid], level)
		if err != nil {
			return nil, inputerr.At(run.Name, 0, "%v", err)
		}
		qr := QueryResult{QID: qid}
		for i := range measures {
			m := &measures[i]
			d := m.def
			if d.text != nil {
				qr.Values = append(qr.Values, Value{Name: m.Names[0], Kind: Text, Text: d.text(q, m)})
				continue
			}
			if d.calc == nil {
				continue
			}
			vals = vals[:len(m.Names)]
			clear(vals)
			d.calc(q, m, vals)
			for j, v := range vals {
				sums[i][j] += v
				if d.perQuery {
					qr.Values = append(qr.Values, Value{Name: m.Names[j], Kind: d.kind, Num: v})
				}
			}
		}
		res.Queries = append(res.Queries, qr)
	}

	n := len(qids)
	if opts.Complete {
		n = len(qrels)
	}
	for i, m := range measures {
		d := m.def
		for j, name := range m.Names {
			v := Value{Name: name, Kind: d.kind, Num: sums[i][j]}
			switch d.summary {
			case sumNone:
				continue
			case sumRunID:
				v.Text = run.Tag
			case sumNumQ:
				v.Num = float64(n)
			case sumNumRel:
				if opts.Complete {
					v.Num = float64(countRelevant(qrels))
				}
			case sumGeo:
				// Missing queries count as the floor value, as in trec_eval.
				s := v.Num + float64(n-len(qids))*math.Log(minGeoMean)
				v.Num = math.Exp(s / float64(n))
			case sumMean:
				v.Num /= float64(n)
			}
			res.Summary = append(res.Summary, v)
		}
	}
	return res, nil
}

// countRelevant is num_rel under -c. trec_eval counts judgments > 0 here,
// whatever -l says; kept for compatibility.
func countRelevant(qrels trec.Qrels) int {
	n := 0
	for _, docs := range qrels {
		for _, r := range docs {
			if r > 0 {
				n++
			}
		}
	}
	return n
}
