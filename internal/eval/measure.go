package eval

import (
	"fmt"
	"strings"

	"github.com/clirflow/clirflow/internal/inputerr"
)

type paramKind int

const (
	noParams     paramKind = iota
	longCuts               // P.5,10 → P_5, P_10
	floatCuts              // iprec_at_recall.0.1 → iprec_at_recall_0.10
	floatParamsK           // utility.1,-1,0,0 → one value named utility_1,-1,0,0
	pairParams             // ndcg.1=3,2=9 → one value named ndcg_1=3,2=9
)

type summaryKind int

const (
	sumMean   summaryKind = iota // average over queries
	sumTotal                     // sum over queries (counts)
	sumNumRel                    // sum, but with -c all relevant judgments
	sumGeo                       // geometric mean of max(v, 1e-5); per-query value is its log
	sumNumQ                      // number of queries
	sumRunID                     // the run tag
	sumNone                      // per-query only
)

type measureDef struct {
	name     string
	kind     ValueKind
	perQuery bool // printed by -q
	summary  summaryKind
	params   paramKind
	defLong  []int64
	defFloat []float64
	defText  string // printable default for floatParamsK/pairParams ("" = bare name)
	calc     func(q *query, m *Measure, out []float64)
	text     func(q *query, m *Measure) string // Text measures
}

var (
	stdCuts = []int64{5, 10, 15, 20, 30, 100, 200, 500, 1000}
	elevenP = []float64{0, .1, .2, .3, .4, .5, .6, .7, .8, .9, 1}
)

// defs lists the measures in trec_eval 9.0.8's order, which is the output
// order whatever the command line order. Preference and judgment-group
// measures need other input formats and are not included.
var defs = []*measureDef{
	{name: "runid", kind: Text, summary: sumRunID},
	{name: "num_q", kind: Int, summary: sumNumQ},
	{name: "num_ret", kind: Int, perQuery: true, summary: sumTotal, calc: calcNumRet},
	{name: "num_rel", kind: Int, perQuery: true, summary: sumNumRel, calc: calcNumRel},
	{name: "num_rel_ret", kind: Int, perQuery: true, summary: sumTotal, calc: calcNumRelRet},
	{name: "map", perQuery: true, calc: calcMap},
	{name: "gm_map", summary: sumGeo, calc: calcGmMap},
	{name: "Rprec", perQuery: true, calc: calcRprec},
	{name: "bpref", perQuery: true, calc: calcBpref},
	{name: "recip_rank", perQuery: true, calc: calcRecipRank},
	{name: "iprec_at_recall", perQuery: true, params: floatCuts, defFloat: elevenP, calc: calcIprecAtRecall},
	{name: "P", perQuery: true, params: longCuts, defLong: stdCuts, calc: calcP},
	{name: "relstring", kind: Text, perQuery: true, summary: sumNone, params: floatParamsK, defFloat: []float64{10}, text: textRelstring},
	{name: "recall", perQuery: true, params: longCuts, defLong: stdCuts, calc: calcRecall},
	{name: "infAP", perQuery: true, calc: calcInfAP},
	{name: "gm_bpref", summary: sumGeo, calc: calcGmBpref},
	{name: "Rprec_mult", perQuery: true, params: floatCuts, defFloat: []float64{.2, .4, .6, .8, 1, 1.2, 1.4, 1.6, 1.8, 2}, calc: calcRprecMult},
	{name: "utility", perQuery: true, params: floatParamsK, defFloat: []float64{1, -1, 0, 0}, calc: calcUtility},
	{name: "11pt_avg", perQuery: true, params: floatParamsK, defFloat: elevenP, calc: calc11ptAvg},
	{name: "binG", perQuery: true, calc: calcBinG},
	{name: "G", perQuery: true, params: pairParams, calc: calcG},
	{name: "ndcg", perQuery: true, params: pairParams, calc: calcNdcg},
	{name: "ndcg_rel", perQuery: true, params: pairParams, calc: calcNdcgRel},
	{name: "Rndcg", perQuery: true, params: pairParams, calc: calcRndcg},
	{name: "ndcg_cut", perQuery: true, params: longCuts, defLong: stdCuts, calc: calcNdcgCut},
	{name: "map_cut", perQuery: true, params: longCuts, defLong: stdCuts, calc: calcMapCut},
	{name: "relative_P", perQuery: true, params: longCuts, defLong: stdCuts, calc: calcRelativeP},
	{name: "success", perQuery: true, params: longCuts, defLong: []int64{1, 5, 10}, calc: calcSuccess},
	{name: "set_P", perQuery: true, calc: calcSetP},
	{name: "set_relative_P", perQuery: true, calc: calcSetRelativeP},
	{name: "set_recall", perQuery: true, calc: calcSetRecall},
	{name: "set_map", perQuery: true, calc: calcSetMap},
	{name: "set_F", perQuery: true, params: floatParamsK, defFloat: []float64{1}, calc: calcSetF},
	{name: "num_nonrel_judged_ret", kind: Int, perQuery: true, summary: sumTotal, calc: calcNumNonrelJudgedRet},
}

// nicknames are trec_eval's measure groups (the qrels-based ones).
var nicknames = map[string][]string{
	"official": {"runid", "num_q", "num_ret", "num_rel", "num_rel_ret", "map", "gm_map",
		"Rprec", "bpref", "recip_rank", "iprec_at_recall", "P"},
	"set": {"runid", "num_q", "num_ret", "num_rel", "num_rel_ret", "utility", "set_P",
		"set_recall", "set_relative_P", "set_map", "set_F"},
	"all_trec": {"runid", "num_q", "num_ret", "num_rel", "num_rel_ret", "map", "gm_map",
		"Rprec", "bpref", "recip_rank", "iprec_at_recall", "P", "relstring", "recall",
		"infAP", "gm_bpref", "utility", "11pt_avg", "ndcg", "relative_P", "Rprec_mult",
		"success", "map_cut", "ndcg_cut", "ndcg_rel", "Rndcg", "binG", "G", "set_P",
		"set_recall", "set_relative_P", "set_map", "set_F", "num_nonrel_judged_ret"},
}

// Measure is a trec_eval measure with its parameters resolved.
type Measure struct {
	Name   string   // trec_eval name, e.g. "ndcg_cut"
	Params string   // parameters as given after the '.', "" for the defaults
	Names  []string // names of the values it reports, e.g. ["ndcg_cut_20"]

	def    *measureDef
	cuts   []int64   // longCuts
	floats []float64 // floatCuts and floatParamsK
	pairs  []gainPair
}

// Supported lists the measure names and groups ParseMeasures accepts.
func Supported() []string {
	var s []string
	for _, d := range defs {
		s = append(s, d.name)
	}
	return append(s, "official", "set", "all_trec")
}

// ParseMeasures resolves trec_eval measure specs such as "map", "P.5,10",
// "ndcg_cut.20", "official" or "all_trec" (the arguments of trec_eval -m).
// As in trec_eval, the first spec giving parameters for a measure wins, and
// the result is in trec_eval's output order whatever the order of specs.
// No specs means "official", trec_eval's default.
func ParseMeasures(specs []string) ([]Measure, error) {
	if len(specs) == 0 {
		specs = []string{"official"}
	}
	marked := map[string]bool{}
	params := map[string]string{}
	for i, spec := range specs {
		field := fmt.Sprintf("measures[%d]", i)
		name, p, hasParams := strings.Cut(spec, ".")
		if hasParams {
			if p == "" {
				return nil, inputerr.Field(field, "measure %q has an empty parameter list", spec)
			}
			if _, ok := params[name]; !ok {
				params[name] = p
			}
		}
		if group, ok := nicknames[name]; ok {
			for _, n := range group {
				marked[n] = true
			}
			continue
		}
		if lookup(name) == nil {
			return nil, inputerr.Field(field, "unknown measure %q; supported: %s", name, strings.Join(Supported(), ", "))
		}
		marked[name] = true
	}
	var out []Measure
	for _, d := range defs {
		if !marked[d.name] {
			continue
		}
		m, err := newMeasure(d, params[d.name])
		if err != nil {
			return nil, inputerr.Field("measures", "%s.%s: %v", d.name, params[d.name], err)
		}
		out = append(out, m)
	}
	return out, nil
}

func lookup(name string) *measureDef {
	for _, d := range defs {
		if d.name == name {
			return d
		}
	}
	return nil
}

func newMeasure(d *measureDef, p string) (Measure, error) {
	m := Measure{Name: d.name, Params: p, def: d}
	var err error
	switch d.params {
	case noParams: // trec_eval ignores parameters given to these
		m.Names = []string{d.name}
	case longCuts:
		m.cuts = d.defLong
		if p != "" {
			if m.cuts, err = longCutoffs(p); err != nil {
				return m, err
			}
		}
		for _, c := range m.cuts {
			m.Names = append(m.Names, fmt.Sprintf("%s_%d", d.name, c))
		}
	case floatCuts:
		m.floats = d.defFloat
		if p != "" {
			if m.floats, err = floatCutoffs(p); err != nil {
				return m, err
			}
		}
		for _, c := range m.floats {
			m.Names = append(m.Names, fmt.Sprintf("%s_%3.2f", d.name, c))
		}
	case floatParamsK:
		m.floats = d.defFloat
		m.Names = []string{d.name}
		if p != "" {
			m.floats = floatParams(p)
			m.Names = []string{d.name + "_" + p}
		}
		if d.name == "utility" && len(m.floats) != 4 {
			return m, fmt.Errorf("utility needs 4 coefficients")
		}
	case pairParams:
		m.Names = []string{d.name}
		if p != "" {
			if m.pairs, err = gainPairs(p); err != nil {
				return m, err
			}
			m.Names = []string{d.name + "_" + p}
		}
	}
	if d.calc == nil && d.text == nil { // runid, num_q: summary only
		m.Names = []string{d.name}
	}
	return m, nil
}
