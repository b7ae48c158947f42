package experiment

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/eval"
	"github.com/clirflow/clirflow/internal/study"
	"github.com/clirflow/clirflow/internal/trec"
)

// oracleDepth is how many first-stage candidates the oracle reorders: the
// study's top 100, which is what rerankers see.
const oracleDepth = 100

// Alpha is the significance level of the marks.
const Alpha = 0.05

// Marks of a reranked run's cell in the study table: a significant
// improvement over its first stage (the study's rule) or over the baseline.
const (
	MarkFirstStage = "*"
	MarkBaseline   = "†"
)

// Comparison is a paired t-test of a reranked run against another run of the
// same dataset: its first stage (with the share of the headroom up to the
// oracle — the first stage's top 100 reordered by the qrels, a perfect
// reranker) or the configured baseline.
type Comparison struct {
	Run        string `json:"run"`
	FirstStage string `json:"first_stage"`
	// Versus is the run tested against: FirstStage, or the baseline.
	Versus   string      `json:"versus"`
	Baseline bool        `json:"baseline,omitempty"`
	Metric   string      `json:"metric"`
	TTest    study.TTest `json:"t_test"`
	// PAdjusted is TTest.P after the report's correction (equal without one);
	// Marked uses it.
	PAdjusted float64 `json:"p_adjusted"`
	Marked    bool    `json:"significant"`
	// Headroom is defined for first-stage comparisons only.
	Headroom study.Headroom `json:"headroom"`
}

// Mark is the table mark of a significant comparison.
func (c Comparison) Mark() string {
	switch {
	case !c.Marked:
		return ""
	case c.Baseline:
		return MarkBaseline
	}
	return MarkFirstStage
}

// StudyPlot is one SVG of the analysis. Kind: bars, headroom, lengths or
// deltas (one per reranked run and dataset).
type StudyPlot struct {
	File  string `json:"file"` // relative to the report directory
	Title string `json:"title"`
	Kind  string `json:"kind"`
}

// StudyReport is the study-style analysis of an experiment.
type StudyReport struct {
	Markdown    string        `json:"markdown"`
	Tables      []study.Table `json:"tables"`
	Comparisons []Comparison  `json:"comparisons"`
	Correction  string        `json:"correction,omitempty"`
	Baseline    string        `json:"baseline,omitempty"`
	Plots       []StudyPlot   `json:"plots"`
	Files       []string      `json:"files"`
	// Headroom per dataset and first stage: what a perfect reranker would
	// add, and how much of it the best reranker realised.
	Headroom []HeadroomRow `json:"headroom"`
}

// HeadroomRow is the headroom of one first stage on one dataset.
type HeadroomRow struct {
	Dataset   string         `json:"dataset"`
	Stage     string         `json:"stage"`
	Metric    string         `json:"metric"`
	First     float64        `json:"first"`
	Oracle    float64        `json:"oracle"`
	Best      string         `json:"best_reranked,omitempty"`
	BestValue float64        `json:"best_value,omitempty"`
	Realised  study.Headroom `json:"realised"`
}

// Potential is oracle − first stage.
func (h HeadroomRow) Potential() float64 { return h.Oracle - h.First }

// headroomMarkdown renders the headroom rows.
func headroomMarkdown(rows []HeadroomRow) string {
	var b strings.Builder
	b.WriteString("| dataset | first stage | metric | first stage | oracle | potential | best reranked | realised share |\n|---|---|---|---:|---:|---:|---|---:|\n")
	for _, h := range rows {
		best, share := "–", "–"
		if h.Best != "" {
			best, share = fmt.Sprintf("%s (%.4f)", strings.TrimPrefix(h.Best, h.Stage+"+"), h.BestValue), FormatShare(h.Realised)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.4f | %.4f | %+.4f | %s | %s |\n", h.Dataset, h.Stage, h.Metric, h.First, h.Oracle, h.Potential(), best, share)
	}
	return b.String()
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

func isReranked(r RunResult) bool { return r.Reranker != "" || r.LLM != nil }

// metricGroup is the datasets sharing a study metric: one table.
type metricGroup struct {
	metric   string
	datasets []string
}

// Analyze produces the study's view of an experiment: per dataset and first
// stage, the oracle; per reranked run, a paired t-test against its first
// stage (marked * when p < 0.05 and the mean improved), the share of the
// headroom it realised, and optionally a t-test against the baseline (†);
// p-values optionally corrected (Holm or Bonferroni over all of the
// report's tests, one family). Each dataset is measured with its study
// metric; datasets sharing a metric make one table (rows = first stage, its
// oracle and rerankers; columns = datasets plus the average), in Markdown,
// CSV, JSON and LaTeX, and SVG plots. Files go to dir.
func Analyze(ctx context.Context, s artifact.Store, in ReportInput, dir string) (StudyReport, error) {
	exp := in.Experiment
	out := StudyReport{Correction: exp.Study.Correction, Baseline: exp.Study.Baseline}
	if out.Correction == config.CorrectionNone {
		out.Correction = ""
	}
	metricOf := map[string]string{}
	for _, d := range exp.Datasets {
		metricOf[d.Name] = d.StudyMetricOr(exp.Metrics[0])
	}
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
	evals := map[string]runEval{} // run name → per-query values
	oracles := map[string]runEval{}
	var groups []*metricGroup
	var stages []string
	for _, r := range in.Runs {
		m := metricOf[r.Dataset]
		if m == "" { // a dataset the config no longer names
			m = exp.Metrics[0]
			metricOf[r.Dataset] = m
		}
		run, err := loadRun(ctx, s, r.Run.Ref)
		if err != nil {
			return out, err
		}
		e, err := evalRun(qrelsOf[r.Dataset], run, m, exp.Complete)
		if err != nil {
			return out, err
		}
		evals[r.Name()] = e
		gi := slices.IndexFunc(groups, func(g *metricGroup) bool { return g.metric == m })
		if gi < 0 {
			groups = append(groups, &metricGroup{metric: m})
			gi = len(groups) - 1
		}
		if !slices.Contains(groups[gi].datasets, r.Dataset) {
			groups[gi].datasets = append(groups[gi].datasets, r.Dataset)
		}
		if isReranked(r) {
			continue
		}
		if !slices.Contains(stages, r.Stage) {
			stages = append(stages, r.Stage)
		}
		o, err := evalRun(qrelsOf[r.Dataset], oracleRun(run, qrelsOf[r.Dataset]), m, exp.Complete)
		if err != nil {
			return out, err
		}
		oracles[r.Name()] = o
	}
	// rerankersOf lists a first stage's reranked runs in run order.
	rerankersOf := func(st string) []string {
		var rs []string
		for _, r := range in.Runs {
			if isReranked(r) && r.FirstStage == st && !slices.Contains(rs, r.Stage) {
				rs = append(rs, r.Stage)
			}
		}
		return rs
	}
	var datasets []string
	for _, g := range groups {
		datasets = append(datasets, g.datasets...)
	}

	// The tests, in table order: first stage (against the baseline),
	// reranker, dataset.
	for _, st := range stages {
		for _, d := range datasets {
			// A first stage against the baseline (the study's QT/DT vs OG).
			e, ok := evals[d+"/"+st]
			base, bok := evals[d+"/"+out.Baseline]
			if ok && bok && out.Baseline != st {
				out.Comparisons = append(out.Comparisons, Comparison{Run: d + "/" + st, FirstStage: d + "/" + st, Versus: d + "/" + out.Baseline,
					Baseline: true, Metric: metricOf[d], TTest: study.PairedTTest(e.perQuery, base.perQuery)})
			}
		}
		for _, d := range datasets {
			first, ok := evals[d+"/"+st]
			if !ok {
				continue
			}
			h := HeadroomRow{Dataset: d, Stage: st, Metric: metricOf[d], First: first.mean, Oracle: oracles[d+"/"+st].mean}
			for _, rs := range rerankersOf(st) {
				if e, ok := evals[d+"/"+rs]; ok {
					if hr := study.ComputeHeadroom(first.mean, e.mean, h.Oracle); h.Best == "" || e.mean > h.BestValue {
						h.Best, h.BestValue, h.Realised = rs, e.mean, hr
					}
				}
			}
			out.Headroom = append(out.Headroom, h)
		}
		for _, rs := range rerankersOf(st) {
			for _, d := range datasets {
				e, ok := evals[d+"/"+rs]
				first, fok := evals[d+"/"+st]
				if !ok || !fok {
					continue
				}
				c := Comparison{Run: d + "/" + rs, FirstStage: d + "/" + st, Versus: d + "/" + st, Metric: metricOf[d],
					TTest: study.PairedTTest(e.perQuery, first.perQuery), Headroom: study.ComputeHeadroom(first.mean, e.mean, oracles[d+"/"+st].mean)}
				out.Comparisons = append(out.Comparisons, c)
				if b := out.Baseline; b != "" && b != st && b != rs {
					if base, ok := evals[d+"/"+b]; ok {
						c = Comparison{Run: c.Run, FirstStage: c.FirstStage, Versus: d + "/" + b, Baseline: true, Metric: c.Metric,
							TTest: study.PairedTTest(e.perQuery, base.perQuery)}
						out.Comparisons = append(out.Comparisons, c)
					}
				}
			}
		}
	}
	ps := make([]float64, len(out.Comparisons))
	for i, c := range out.Comparisons {
		ps[i] = c.TTest.P
	}
	marks := map[string]string{} // run name → marks
	for i, p := range study.Adjust(ps, out.Correction) {
		c := &out.Comparisons[i]
		c.PAdjusted = p
		t := c.TTest
		t.P = p
		c.Marked = study.Significant(t, Alpha)
		marks[c.Run] += c.Mark()
	}

	// One table per metric; a row is left out when it has no cell there.
	for _, g := range groups {
		table := study.Table{Title: exp.Name, Metric: g.metric, Columns: g.datasets}
		if len(groups) > 1 {
			table.Title += ": " + g.metric
		}
		row := func(name string, indent int, vals map[string]runEval, run func(d string) string, mark bool) (study.Row, bool) {
			r := study.Row{Name: name, Indent: indent}
			present := false
			for _, d := range g.datasets {
				e, ok := vals[run(d)]
				m := ""
				if mark {
					m = marks[run(d)]
				}
				r.Cells = append(r.Cells, study.Cell{Value: e.mean, Mark: m})
				r.Missing = append(r.Missing, !ok)
				present = present || ok
			}
			return r, present
		}
		for _, st := range stages {
			first, ok := row(st, 0, evals, func(d string) string { return d + "/" + st }, true)
			if !ok {
				continue
			}
			oracle, _ := row("oracle", 1, oracles, func(d string) string { return d + "/" + st }, false)
			table.Rows = append(table.Rows, first, oracle)
			series := map[string][]float64{st: values(first), "oracle": values(oracle)}
			order := []string{st}
			for _, rs := range rerankersOf(st) {
				rr, ok := row(strings.TrimPrefix(rs, st+"+"), 1, evals, func(d string) string { return d + "/" + rs }, true)
				if ok {
					table.Rows = append(table.Rows, rr)
					series[rs] = values(rr)
					order = append(order, rs)
				}
			}
			order = append(order, "oracle")
			name := "bars-" + st
			if len(groups) > 1 {
				name += "-" + g.metric
			}
			title := fmt.Sprintf("%s: %s, reranked, oracle", g.metric, st)
			if len(order) == 2 {
				title = fmt.Sprintf("%s: %s and its oracle", g.metric, st)
			}
			if err := writePlot(dir, name+".svg", title, "bars", &out, func(f *os.File) error {
				return study.PlotBars(f, title, g.datasets, series, order)
			}); err != nil {
				return out, err
			}
		}
		out.Tables = append(out.Tables, table)
	}

	// Plots of the first-stage comparisons: per-query Δ, realised shares.
	var shareRuns []string
	var shares []float64
	var metrics []string
	for _, c := range out.Comparisons {
		if c.Baseline {
			continue
		}
		shareRuns = append(shareRuns, c.Run)
		shares = append(shares, c.Headroom.Realised)
		if !slices.Contains(metrics, c.Metric) {
			metrics = append(metrics, c.Metric)
		}
		d, rs, _ := strings.Cut(c.Run, "/")
		e, first := evals[c.Run], evals[c.FirstStage]
		title := fmt.Sprintf("%s: per-query Δ%s vs %s", c.Run, c.Metric, strings.TrimPrefix(c.FirstStage, d+"/"))
		if err := writePlot(dir, fmt.Sprintf("deltas-%s-%s.svg", d, rs), title, "deltas", &out, func(f *os.File) error {
			deltas := map[string]float64{}
			for q, v := range e.perQuery {
				deltas[q] = v - first.perQuery[q]
			}
			return study.PlotDeltas(f, title, deltas)
		}); err != nil {
			return out, err
		}
	}
	if len(shares) > 0 {
		title := "share of the oracle's headroom realised (" + strings.Join(metrics, ", ") + ")"
		if err := writePlot(dir, "headroom.svg", title, "headroom", &out, func(f *os.File) error {
			return study.PlotShares(f, title, shareRuns, shares)
		}); err != nil {
			return out, err
		}
	}
	if err := lengthPlots(dir, exp, stages, groups, evals, &out); err != nil {
		return out, err
	}

	var md bytes.Buffer
	for i, t := range out.Tables {
		if i > 0 {
			md.WriteString("\n")
		}
		if err := study.WriteMarkdown(&md, t); err != nil {
			return out, err
		}
	}
	if len(out.Comparisons) > 0 {
		md.WriteString("\n" + comparisonMarkdown(out))
	}
	if len(out.Headroom) > 0 {
		md.WriteString("\nHeadroom (potential = oracle − first stage; realised share = (reranked − first stage) ÷ potential):\n\n" + headroomMarkdown(out.Headroom))
	}
	out.Markdown = md.String()
	if err := artifact.WriteFileAtomic(filepath.Join(dir, "study.md"), md.Bytes(), ""); err != nil {
		return out, err
	}
	out.Files = append(out.Files, "study.md")
	for _, t := range out.Tables {
		base := "study"
		if len(out.Tables) > 1 {
			base += "-" + t.Metric
		}
		for _, w := range []struct {
			ext   string
			write func(io.Writer, study.Table) error
		}{{".csv", study.WriteCSV}, {".json", study.WriteJSON}, {".tex", study.WriteLaTeX}} {
			var b bytes.Buffer
			if err := w.write(&b, t); err != nil {
				return out, err
			}
			if err := artifact.WriteFileAtomic(filepath.Join(dir, base+w.ext), b.Bytes(), ""); err != nil {
				return out, err
			}
			out.Files = append(out.Files, base+w.ext)
		}
	}
	sort.Strings(out.Files)
	return out, nil
}

// lengthPlots draws the metric against the passage length for every
// reranker of a first stage that ran with several lengths (the study's
// 64/128/256 ablation): the runs differ in max_doc_tokens only. One line
// per dataset.
func lengthPlots(dir string, exp config.Experiment, stages []string, groups []*metricGroup, evals map[string]runEval, out *StudyReport) error {
	for _, st := range stages {
		for _, k := range exp.Rerankers {
			var lengths []int
			for _, n := range k.MaxDocTokens {
				if n > 0 { // 0 (no truncation) has no place on the axis
					lengths = append(lengths, n)
				}
			}
			if len(lengths) < 2 || !k.AppliesTo(st) {
				continue
			}
			sort.Ints(lengths)
			xs := make([]float64, len(lengths))
			for i, n := range lengths {
				xs[i] = float64(n)
			}
			series := map[string][]float64{}
			var order, metrics []string
			for _, g := range groups {
				for _, d := range g.datasets {
					ys := make([]float64, len(lengths))
					found := false
					for i, n := range lengths {
						e, ok := evals[d+"/"+k.RunName(st, n)]
						ys[i] = math.NaN()
						if ok {
							ys[i], found = e.mean, true
						}
					}
					if !found {
						continue
					}
					name := d
					if len(groups) > 1 {
						name += " (" + g.metric + ")"
					}
					series[name] = ys
					order = append(order, name)
					if !slices.Contains(metrics, g.metric) {
						metrics = append(metrics, g.metric)
					}
				}
			}
			if len(series) == 0 {
				continue
			}
			run := st + "+" + k.Name
			title := fmt.Sprintf("%s: %s vs passage length", run, strings.Join(metrics, ", "))
			if err := writePlot(dir, "lengths-"+run+".svg", title, "lengths", out, func(f *os.File) error {
				return study.PlotLines(f, title, xs, series, order)
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// comparisonMarkdown renders the t-tests with the legend of the marks.
func comparisonMarkdown(st StudyReport) string {
	var b strings.Builder
	corrected := st.Correction != ""
	b.WriteString("| run | vs | n | Δ mean | p (paired t) |")
	if corrected {
		fmt.Fprintf(&b, " p (%s) |", st.Correction)
	}
	b.WriteString(" sig. | wins/ties/losses | realised share of headroom |\n|---|---|---:|---:|---:|")
	if corrected {
		b.WriteString("---:|")
	}
	b.WriteString("---|---:|---:|\n")
	for _, c := range st.Comparisons {
		fmt.Fprintf(&b, "| %s | %s | %d | %+.4f | %s |", c.Run, c.Versus, c.TTest.N, c.TTest.MeanA-c.TTest.MeanB, FormatP(c.TTest, c.TTest.P))
		if corrected {
			fmt.Fprintf(&b, " %s |", FormatP(c.TTest, c.PAdjusted))
		}
		fmt.Fprintf(&b, " %s | %d/%d/%d | %s |\n", c.Mark(), c.TTest.Wins, c.TTest.Ties, c.TTest.Losses, FormatShare(c.Headroom))
	}
	b.WriteString("\n" + legend(st, func(s string) string { return "`" + s + "`" }) + "\n")
	return b.String()
}

// legend explains the marks and the correction; code quotes marks and
// names for the output format.
func legend(st StudyReport, code func(string) string) string {
	s := fmt.Sprintf("%s: p < %g (paired two-sided t-test over common queries) and the mean improved over the first stage", code(MarkFirstStage), Alpha)
	if st.Baseline != "" {
		s += fmt.Sprintf("; %s: the same against the baseline %s", code(MarkBaseline), code(st.Baseline))
	}
	if st.Correction != "" {
		s += fmt.Sprintf("; p-values adjusted with %s over all %d tests", correctionName(st.Correction), len(st.Comparisons))
	}
	return s + ". Oracle: the first stage's top 100 reordered by the qrels."
}

func correctionName(c string) string {
	switch c {
	case config.CorrectionHolm:
		return "Holm–Bonferroni"
	case config.CorrectionBonferroni:
		return "Bonferroni"
	}
	return c
}

// FormatP formats a p-value of t ("–" when the test could not be run).
func FormatP(t study.TTest, p float64) string {
	if !t.Defined && t.Reason == "" {
		return "–"
	}
	return fmt.Sprintf("%.4g", p)
}

// FormatShare formats the realised share of the headroom ("–" if undefined).
func FormatShare(h study.Headroom) string {
	if !h.Defined {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*h.Realised)
}

func values(r study.Row) []float64 {
	out := make([]float64, len(r.Cells))
	for i, c := range r.Cells {
		out[i] = c.Value
		if i < len(r.Missing) && r.Missing[i] {
			out[i] = math.NaN() // drawn as 0, not as the zero value's accident
		}
	}
	return out
}

// writePlot renders an SVG into dir/plots atomically.
func writePlot(dir, name, title, kind string, out *StudyReport, render func(*os.File) error) error {
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
	file := filepath.ToSlash(filepath.Join("plots", name))
	out.Files = append(out.Files, file)
	out.Plots = append(out.Plots, StudyPlot{File: file, Title: title, Kind: kind})
	return nil
}
