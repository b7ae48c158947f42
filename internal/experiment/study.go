package experiment

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/eval"
	"github.com/clirflow/clirflow/internal/study"
	"github.com/clirflow/clirflow/internal/trec"
)

// oracleDepth is how many first-stage candidates the oracle reorders: the
// study's top 100, which is what rerankers see.
const oracleDepth = 100

// Comparison is a reranked run against its first stage and the oracle (the
// first stage's top 100 reordered by the qrels: a perfect reranker).
type Comparison struct {
	Run        string         `json:"run"`
	FirstStage string         `json:"first_stage"`
	Metric     string         `json:"metric"`
	TTest      study.TTest    `json:"t_test"`
	Marked     bool           `json:"significant"`
	Headroom   study.Headroom `json:"headroom"`
}

// StudyReport is the study-style analysis of an experiment.
type StudyReport struct {
	Markdown    string       `json:"markdown"`
	Comparisons []Comparison `json:"comparisons"`
	Oracles     []RunResult  `json:"oracles"`
	Files       []string     `json:"files"`
}

// runEval is one run's per-query values of one metric, and its mean.
type runEval struct {
	perQuery map[string]float64
	mean     float64
}

func loadRun(ctx context.Context, s artifact.Store, ref artifact.Ref) (*trec.Run, error) {
	b, err := artifact.ReadAll(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	return trec.ParseRun(bytes.NewReader(b), string(ref))
}

// evalRun evaluates a run in process: exact per-query values (the stored
// trec_eval text has four decimals only).
func evalRun(qrels trec.Qrels, run *trec.Run, metric string, complete bool) (runEval, error) {
	ms, err := eval.ParseMeasures([]string{metric})
	if err != nil {
		return runEval{}, err
	}
	res, err := eval.Evaluate(qrels, run, ms, eval.Options{Complete: complete})
	if err != nil {
		return runEval{}, err
	}
	name := ms[0].Names[0]
	out := runEval{perQuery: map[string]float64{}}
	for _, q := range res.Queries {
		v, _ := q.Get(name)
		out.perQuery[q.QID] = v
	}
	out.mean, _ = res.Get(name)
	return out, nil
}

// oracleRun reorders a run's top candidates by the qrels.
func oracleRun(run *trec.Run, qrels trec.Qrels) *trec.Run {
	ranked := map[string][]string{}
	for qid, hits := range run.Entries {
		hs := append([]trec.Result(nil), hits...)
		trec.SortResults(hs)
		ids := make([]string, len(hs))
		for i, h := range hs {
			ids[i] = h.DocID
		}
		ranked[qid] = ids
	}
	out := &trec.Run{Tag: "oracle", Entries: map[string][]trec.Result{}}
	for qid, ids := range study.Oracle(ranked, qrels, oracleDepth) {
		rs := make([]trec.Result, len(ids))
		for i, id := range ids {
			rs[i] = trec.Result{DocID: id, Score: float64(len(ids) - i), Rank: i + 1}
		}
		out.Entries[qid] = rs
	}
	return out
}

// Analyze produces the study's view of an experiment: per dataset and first
// stage, the oracle; per reranked run, a paired t-test against its first
// stage (marked * when p < 0.05 and the mean improved) and the share of the
// headroom it realised; tables (Markdown, CSV, JSON, LaTeX) with rows = first
// stage then its rerankers and columns = datasets (language pairs) plus the
// average; SVG plots. Files go to dir.
func Analyze(ctx context.Context, s artifact.Store, in ReportInput, dir string) (StudyReport, error) {
	var out StudyReport
	metric := in.Experiment.Metrics[0]
	qrelsOf := map[string]trec.Qrels{}
	for _, d := range in.Datasets {
		b, err := artifact.ReadAll(ctx, s, d.Qrels)
		if err != nil {
			return out, err
		}
		q, err := trec.ParseQrels(bytes.NewReader(b), "qrels "+d.Name)
		if err != nil {
			return out, err
		}
		qrelsOf[d.Name] = q
	}
	complete := in.Experiment.Complete
	evals := map[string]runEval{} // run name → per-query values
	oracles := map[string]runEval{}
	var datasets, stages []string
	seen := map[string]bool{}
	for _, r := range in.Runs {
		run, err := loadRun(ctx, s, r.Run.Ref)
		if err != nil {
			return out, err
		}
		e, err := evalRun(qrelsOf[r.Dataset], run, metric, complete)
		if err != nil {
			return out, err
		}
		evals[r.Name()] = e
		if !seen["d:"+r.Dataset] {
			seen["d:"+r.Dataset] = true
			datasets = append(datasets, r.Dataset)
		}
		if r.LLM != nil {
			continue
		}
		if !seen["s:"+r.Stage] {
			seen["s:"+r.Stage] = true
			stages = append(stages, r.Stage)
		}
		o, err := evalRun(qrelsOf[r.Dataset], oracleRun(run, qrelsOf[r.Dataset]), metric, complete)
		if err != nil {
			return out, err
		}
		oracles[r.Name()] = o
	}

	// Rows: each first stage, its oracle, then its rerankers (in run order).
	cell := func(v float64, mark string) study.Cell { return study.Cell{Value: v, Mark: mark} }
	table := study.Table{Title: in.Experiment.Name, Metric: metric, Columns: datasets}
	var shareRuns []string
	var shares []float64
	for _, st := range stages {
		row := study.Row{Name: st}
		orow := study.Row{Name: "oracle", Indent: 1}
		for _, d := range datasets {
			e, ok := evals[d+"/"+st]
			row.Cells = append(row.Cells, cell(e.mean, ""))
			row.Missing = append(row.Missing, !ok)
			o, ok := oracles[d+"/"+st]
			orow.Cells = append(orow.Cells, cell(o.mean, ""))
			orow.Missing = append(orow.Missing, !ok)
		}
		table.Rows = append(table.Rows, row, orow)
		var rerankers []string
		for _, r := range in.Runs {
			if r.LLM != nil && r.FirstStage == st && !slices.Contains(rerankers, r.Stage) {
				rerankers = append(rerankers, r.Stage)
			}
		}
		for _, rs := range rerankers {
			rrow := study.Row{Name: strings.TrimPrefix(rs, st+"+"), Indent: 1}
			for _, d := range datasets {
				e, ok := evals[d+"/"+rs]
				mark := ""
				if ok {
					first, oracle := evals[d+"/"+st], oracles[d+"/"+st]
					c := Comparison{Run: d + "/" + rs, FirstStage: d + "/" + st, Metric: metric,
						TTest: study.PairedTTest(e.perQuery, first.perQuery), Headroom: study.ComputeHeadroom(first.mean, e.mean, oracle.mean)}
					c.Marked = study.Significant(c.TTest, 0.05)
					if c.Marked {
						mark = "*"
					}
					out.Comparisons = append(out.Comparisons, c)
					shareRuns = append(shareRuns, c.Run)
					shares = append(shares, c.Headroom.Realised)
					if err := writePlot(dir, fmt.Sprintf("deltas-%s-%s.svg", d, rs), &out, func(f *os.File) error {
						deltas := map[string]float64{}
						for q, v := range e.perQuery {
							deltas[q] = v - first.perQuery[q]
						}
						return study.PlotDeltas(f, fmt.Sprintf("%s: per-query Δ%s vs %s", c.Run, metric, st), deltas)
					}); err != nil {
						return out, err
					}
				}
				rrow.Cells = append(rrow.Cells, cell(e.mean, mark))
				rrow.Missing = append(rrow.Missing, !ok)
			}
			table.Rows = append(table.Rows, rrow)
		}
		// First stage, reranked runs and oracle per dataset, side by side.
		series := map[string][]float64{st: values(row), "oracle": values(orow)}
		order := []string{st}
		for i, rs := range rerankers {
			series[rs] = values(table.Rows[len(table.Rows)-len(rerankers)+i])
			order = append(order, rs)
		}
		order = append(order, "oracle")
		if err := writePlot(dir, "bars-"+st+".svg", &out, func(f *os.File) error {
			return study.PlotBars(f, fmt.Sprintf("%s: %s, reranked, oracle", metric, st), datasets, series, order)
		}); err != nil {
			return out, err
		}
	}
	if len(shares) > 0 {
		if err := writePlot(dir, "headroom.svg", &out, func(f *os.File) error {
			return study.PlotShares(f, "share of the oracle's headroom realised ("+metric+")", shareRuns, shares)
		}); err != nil {
			return out, err
		}
	}
	var md bytes.Buffer
	if err := study.WriteMarkdown(&md, table); err != nil {
		return out, err
	}
	if len(out.Comparisons) > 0 {
		md.WriteString("\n| reranked run | vs | n | Δ mean | p (paired t) | wins/ties/losses | realised share of headroom |\n|---|---|---:|---:|---:|---:|---:|\n")
		for _, c := range out.Comparisons {
			share := "–"
			if c.Headroom.Defined {
				share = fmt.Sprintf("%.1f%%", 100*c.Headroom.Realised)
			}
			p := "–"
			if c.TTest.Defined || c.TTest.Reason != "" {
				p = fmt.Sprintf("%.4g", c.TTest.P)
			}
			fmt.Fprintf(&md, "| %s | %s | %d | %+.4f | %s | %d/%d/%d | %s |\n", c.Run, c.FirstStage, c.TTest.N,
				c.TTest.MeanA-c.TTest.MeanB, p, c.TTest.Wins, c.TTest.Ties, c.TTest.Losses, share)
		}
		md.WriteString("\n`*`: p < 0.05 (paired two-sided t-test over common queries) and the mean improved. Oracle: the first stage's top 100 reordered by the qrels.\n")
	}
	out.Markdown = md.String()
	for _, w := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"study.md", func(b *bytes.Buffer) error { b.WriteString(out.Markdown); return nil }},
		{"study.csv", func(b *bytes.Buffer) error { return study.WriteCSV(b, table) }},
		{"study.json", func(b *bytes.Buffer) error { return study.WriteJSON(b, table) }},
		{"study.tex", func(b *bytes.Buffer) error { return study.WriteLaTeX(b, table) }},
	} {
		var b bytes.Buffer
		if err := w.write(&b); err != nil {
			return out, err
		}
		if err := artifact.WriteFileAtomic(filepath.Join(dir, w.name), b.Bytes(), ""); err != nil {
			return out, err
		}
		out.Files = append(out.Files, w.name)
	}
	sort.Strings(out.Files)
	return out, nil
}

func values(r study.Row) []float64 {
	out := make([]float64, len(r.Cells))
	for i, c := range r.Cells {
		out[i] = c.Value
	}
	return out
}

// writePlot renders an SVG into dir/plots atomically.
func writePlot(dir, name string, out *StudyReport, render func(*os.File) error) error {
	pdir := filepath.Join(dir, "plots")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(pdir, ".tmp-*")
	if err != nil {
		return err
	}
	err = render(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(pdir, name))
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	out.Files = append(out.Files, filepath.Join("plots", name))
	return nil
}
