package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
)

// RunResult is one evaluated run: a first stage on a dataset, or a reranked
// first stage (Stage is then STAGE+RERANKER[-tN]).
type RunResult struct {
	Dataset string   `json:"dataset"`
	Stage   string   `json:"stage"`
	Kind    string   `json:"kind"`
	Run     RunInfo  `json:"run"`
	Eval    EvalInfo `json:"eval"`
	// Reranked runs: the reranker, the first stage it reranked, the LLM
	// calls' cost and the audit index (qid → audit records).
	Reranker   string       `json:"reranker,omitempty"`
	FirstStage string       `json:"first_stage,omitempty"`
	LLM        *CallStats   `json:"llm,omitempty"`
	Audit      artifact.Ref `json:"audit,omitempty"`
}

// Name is how runs are named in tables and expectations: dataset/stage.
func (r RunResult) Name() string { return r.Dataset + "/" + r.Stage }

// ReportInput is everything the report needs; all of it is small.
type ReportInput struct {
	Experiment config.Experiment `json:"experiment"`
	WorkflowID string            `json:"workflow_id"`
	RunID      string            `json:"run_id"`
	Datasets   []PreparedDataset `json:"datasets"`
	Runs       []RunResult       `json:"runs"`
	// RunSets reference further runs stored with SaveRuns (a grid's runs
	// do not fit in one Temporal payload); they follow Runs in the table.
	RunSets []artifact.Ref `json:"run_sets,omitempty"`
	// Translations are one-line cost notes (see TranslationNote).
	Translations []string `json:"translations,omitempty"`
}

// SaveRuns stores run results as one JSON artifact (see ReportInput.RunSets).
func SaveRuns(ctx context.Context, s artifact.Store, runs []RunResult) (artifact.Ref, error) {
	if runs == nil {
		runs = []RunResult{}
	}
	return putJSON(ctx, s, runs)
}

// loadRunSets moves the runs of in.RunSets into in.Runs.
func loadRunSets(ctx context.Context, s artifact.Store, in ReportInput) (ReportInput, error) {
	for _, ref := range in.RunSets {
		b, err := artifact.ReadAll(ctx, s, ref)
		if err != nil {
			return in, err
		}
		var runs []RunResult
		if err := json.Unmarshal(b, &runs); err != nil {
			return in, fmt.Errorf("run set %s is damaged: %w", ref, err)
		}
		in.Runs = append(in.Runs, runs...)
	}
	in.RunSets = nil
	return in, nil
}

// ReportInfo says where the report went and what it found.
type ReportInfo struct {
	Dir      string   `json:"dir"`
	Markdown string   `json:"markdown"`
	Drift    []string `json:"drift,omitempty"`
	// HTML is the path of report.html, the page with everything.
	HTML string `json:"html,omitempty"`
}

// reportInputVersion keys the memo of an experiment's latest report input,
// from which `starter report` regenerates the report.
const reportInputVersion = "report-input-v1"

func reportInputKey(experiment string) artifact.Key {
	return artifact.KeyOf(reportInputVersion, experiment)
}

// LoadReportInput returns the input of the experiment's latest report, as
// WriteReport recorded it in the store; false when there is none.
func LoadReportInput(ctx context.Context, s artifact.Store, experiment string) (ReportInput, bool, error) {
	var in ReportInput
	ok, err := s.GetMemo(ctx, reportInputKey(experiment), &in)
	return in, ok, err
}

// WriteReport records the report's input in the store (so that the report
// can be regenerated without running anything) and renders the report.
func WriteReport(ctx context.Context, s artifact.Store, in ReportInput) (ReportInfo, error) {
	in, err := loadRunSets(ctx, s, in)
	if err != nil {
		return ReportInfo{}, err
	}
	if err := s.PutMemo(ctx, reportInputKey(in.Experiment.Name), in); err != nil {
		return ReportInfo{}, err
	}
	return RenderReport(ctx, s, in)
}

// RenderReport exports run files, per-query evaluations, audit indexes,
// results.json, the study's tables and plots, report.md and report.html into
// the experiment's output directory, each file atomically.
func RenderReport(ctx context.Context, s artifact.Store, in ReportInput) (ReportInfo, error) {
	dir, err := filepath.Abs(in.Experiment.Output)
	if err != nil {
		return ReportInfo{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ReportInfo{}, fmt.Errorf("output %s: %w", dir, err)
	}
	out := ReportInfo{Dir: dir, Drift: CheckExpected(in.Experiment, in.Runs)}
	out.Markdown = MarkdownTable(in.Experiment.Metrics, in.Runs)
	for _, r := range in.Runs {
		// Dataset and stage names are validated identifiers, safe as path parts.
		if err := artifact.CopyFileAtomic(ctx, s, r.Run.Ref, filepath.Join(dir, runFile(r))); err != nil {
			return ReportInfo{}, err
		}
		if err := artifact.CopyFileAtomic(ctx, s, r.Eval.PerQuery, filepath.Join(dir, evalFile(r))); err != nil {
			return ReportInfo{}, err
		}
		if r.Audit != "" {
			if err := artifact.CopyFileAtomic(ctx, s, r.Audit, filepath.Join(dir, auditFile(r))); err != nil {
				return ReportInfo{}, err
			}
		}
	}
	st, err := Analyze(ctx, s, in, dir)
	if err != nil {
		return ReportInfo{}, fmt.Errorf("analysis: %w", err)
	}
	out.Markdown += "\n" + st.Markdown
	js, err := json.MarshalIndent(struct {
		ReportInput
		Drift       []string     `json:"drift,omitempty"`
		Comparisons []Comparison `json:"comparisons,omitempty"`
		StudyFiles  []string     `json:"study_files"`
	}{in, out.Drift, st.Comparisons, st.Files}, "", "  ")
	if err != nil {
		return ReportInfo{}, err
	}
	if err := artifact.WriteFileAtomic(filepath.Join(dir, "results.json"), append(js, '\n'), ""); err != nil {
		return ReportInfo{}, err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# %s\n\nWorkflow `%s` (run `%s`).\n\n", in.Experiment.Name, in.WorkflowID, in.RunID)
	md.WriteString(out.Markdown)
	md.WriteString("\n## Datasets\n\n| dataset | documents | topics | judged queries | relevant pairs |\n|---|---:|---:|---:|---:|\n")
	for _, d := range in.Datasets {
		fmt.Fprintf(&md, "| %s | %d | %d | %d | %d |\n", d.Name, d.NumDocs, d.NumTopics, d.NumJudged, d.NumRelevant)
	}
	if len(in.Translations) > 0 {
		md.WriteString("\n## Translations\n\n")
		for _, t := range in.Translations {
			fmt.Fprintf(&md, "- %s\n", t)
		}
	}
	var warnings []string
	for _, d := range in.Datasets {
		warnings = append(warnings, d.Warnings...)
	}
	for _, r := range in.Runs {
		if r.LLM != nil && r.LLM.Unusable > 0 {
			warnings = append(warnings, fmt.Sprintf("%s: %d of %d LLM answers had no usable ranking; those windows kept their order (see the audit records)", r.Name(), r.LLM.Unusable, r.LLM.Calls))
		}
		if r.Run.EmptyQueries > 0 {
			warnings = append(warnings, fmt.Sprintf("%s: %d topics retrieved nothing (not in the run file)", r.Name(), r.Run.EmptyQueries))
		}
	}
	if len(warnings) > 0 {
		md.WriteString("\n## Warnings\n\n")
		for _, w := range warnings {
			fmt.Fprintf(&md, "- %s\n", w)
		}
	}
	if len(out.Drift) > 0 {
		md.WriteString("\n## Reproduction drift\n\n")
		for _, d := range out.Drift {
			fmt.Fprintf(&md, "- %s\n", d)
		}
	}
	md.WriteString("\nEverything on one page: `report.html`. Run files: `runs/DATASET/RUN.trec`; per-query trec_eval output: `eval/DATASET/RUN.txt`;\n" +
		"audit indexes of reranked runs (query → audit records): `audit/DATASET/RUN.json`; study tables: `" + strings.Join(tableFiles(st), "`, `") + "`; plots: `plots/*.svg`.\n")
	if err := artifact.WriteFileAtomic(filepath.Join(dir, "report.md"), []byte(md.String()), ""); err != nil {
		return ReportInfo{}, err
	}
	page, err := renderHTML(in, out, st, warnings)
	if err != nil {
		return ReportInfo{}, err
	}
	out.HTML = filepath.Join(dir, "report.html")
	if err := artifact.WriteFileAtomic(out.HTML, page, ""); err != nil {
		return ReportInfo{}, err
	}
	return out, nil
}

// tableFiles are the study's files other than plots.
func tableFiles(st StudyReport) []string {
	var out []string
	for _, f := range st.Files {
		if !strings.HasPrefix(f, "plots/") {
			out = append(out, f)
		}
	}
	return out
}

// Paths of a run's exported files, relative to the report directory.
func runFile(r RunResult) string   { return filepath.Join("runs", r.Dataset, r.Stage+".trec") }
func evalFile(r RunResult) string  { return filepath.Join("eval", r.Dataset, r.Stage+".txt") }
func auditFile(r RunResult) string { return filepath.Join("audit", r.Dataset, r.Stage+".json") }

// MarkdownTable renders runs × metrics with four decimals, as trec_eval
// prints; reranked runs add their LLM calls, tokens, cost and repairs.
func MarkdownTable(metrics []string, runs []RunResult) string {
	withLLM := false
	for _, r := range runs {
		withLLM = withLLM || r.LLM != nil
	}
	var b strings.Builder
	b.WriteString("| run | queries |")
	for _, m := range metrics {
		b.WriteString(" " + m + " |")
	}
	if withLLM {
		b.WriteString(" LLM calls | cache hits | tokens in/out | cost | repairs |")
	}
	b.WriteString("\n|---|---:|")
	for range metrics {
		b.WriteString("---:|")
	}
	if withLLM {
		b.WriteString("---:|---:|---:|---:|---:|")
	}
	b.WriteString("\n")
	for _, r := range runs {
		fmt.Fprintf(&b, "| %s | %d |", r.Name(), r.Eval.NumQueries)
		for _, m := range metrics {
			if v, ok := Lookup(r.Eval.Summary, m); ok {
				fmt.Fprintf(&b, " %.4f |", v)
			} else {
				b.WriteString(" – |")
			}
		}
		if withLLM {
			if l := r.LLM; l != nil {
				warn := ""
				if l.Unusable > 0 {
					warn = fmt.Sprintf(" ⚠ %d unusable answers", l.Unusable)
				}
				fmt.Fprintf(&b, " %d | %d | %d/%d | %.4f | %d%s |", l.Calls, l.CacheHits, l.PromptTokens, l.CompletionTokens, l.Cost, l.Repairs, warn)
			} else {
				b.WriteString(" | | | | |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Lookup finds a metric in a summary.
func Lookup(summary []MetricValue, name string) (float64, bool) {
	for _, m := range summary {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

// Drift is an expected score of the config that the results do not
// reproduce within the tolerance.
type Drift struct {
	Run       string  `json:"run"`
	Metric    string  `json:"metric"`
	Expected  float64 `json:"expected"`
	Got       float64 `json:"got"`
	Tolerance float64 `json:"tolerance"`
	// Problem is set when there is no value to compare: "no such run" or
	// "not computed".
	Problem string `json:"problem,omitempty"`
}

func (d Drift) String() string {
	switch d.Problem {
	case "":
		return fmt.Sprintf("%s %s: got %.4f, expected %.4f (tolerance %g)", d.Run, d.Metric, d.Got, d.Expected, d.Tolerance)
	case driftNoRun:
		return fmt.Sprintf("%s: %s", d.Run, d.Problem)
	}
	return fmt.Sprintf("%s %s: %s", d.Run, d.Metric, d.Problem)
}

const (
	driftNoRun       = "no such run"
	driftNotComputed = "not computed"
)

// Drifts compares results with the recorded reference scores, like
// Pyserini's reproduction configs: one Drift per expectation not met.
func Drifts(e config.Experiment, runs []RunResult) []Drift {
	tol := config.DefaultTolerance
	if e.Tolerance != nil {
		tol = *e.Tolerance
	}
	var drift []Drift
	for _, x := range e.Expected {
		found := false
		for _, r := range runs {
			if r.Name() != x.Run {
				continue
			}
			found = true
			v, ok := Lookup(r.Eval.Summary, x.Metric)
			d := Drift{Run: x.Run, Metric: x.Metric, Expected: x.Value, Got: v, Tolerance: tol}
			if !ok {
				d.Problem = driftNotComputed
				drift = append(drift, d)
			} else if math.Abs(v-x.Value) > tol {
				drift = append(drift, d)
			}
		}
		if !found {
			drift = append(drift, Drift{Run: x.Run, Metric: x.Metric, Expected: x.Value, Tolerance: tol, Problem: driftNoRun})
		}
	}
	return drift
}

// CheckExpected is Drifts as lines of text.
func CheckExpected(e config.Experiment, runs []RunResult) []string {
	var out []string
	for _, d := range Drifts(e, runs) {
		out = append(out, d.String())
	}
	return out
}
