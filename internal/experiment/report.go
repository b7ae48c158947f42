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
	// Translations are one-line cost notes (see TranslationNote).
	Translations []string `json:"translations,omitempty"`
}

// ReportInfo says where the report went and what it found.
type ReportInfo struct {
	Dir      string   `json:"dir"`
	Markdown string   `json:"markdown"`
	Drift    []string `json:"drift,omitempty"`
}

// WriteReport exports run files, per-query evaluations, results.json and
// report.md into the experiment's output directory, each file atomically.
func WriteReport(ctx context.Context, s artifact.Store, in ReportInput) (ReportInfo, error) {
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
		if err := artifact.CopyFileAtomic(ctx, s, r.Run.Ref, filepath.Join(dir, "runs", r.Dataset, r.Stage+".trec")); err != nil {
			return ReportInfo{}, err
		}
		if err := artifact.CopyFileAtomic(ctx, s, r.Eval.PerQuery, filepath.Join(dir, "eval", r.Dataset, r.Stage+".txt")); err != nil {
			return ReportInfo{}, err
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
	md.WriteString("\nRun files: `runs/DATASET/RUN.trec`; per-query trec_eval output: `eval/DATASET/RUN.txt`; study tables:\n" +
		"`study.md`, `study.csv`, `study.json`, `study.tex`; plots: `plots/*.svg`.\n")
	if err := artifact.WriteFileAtomic(filepath.Join(dir, "report.md"), []byte(md.String()), ""); err != nil {
		return ReportInfo{}, err
	}
	return out, nil
}

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

// CheckExpected compares results with the recorded reference scores, like
// Pyserini's reproduction configs; each drift beyond the tolerance is a line.
func CheckExpected(e config.Experiment, runs []RunResult) []string {
	tol := config.DefaultTolerance
	if e.Tolerance != nil {
		tol = *e.Tolerance
	}
	var drift []string
	for _, x := range e.Expected {
		found := false
		for _, r := range runs {
			if r.Name() != x.Run {
				continue
			}
			found = true
			v, ok := Lookup(r.Eval.Summary, x.Metric)
			if !ok {
				drift = append(drift, fmt.Sprintf("%s %s: not computed", x.Run, x.Metric))
			} else if math.Abs(v-x.Value) > tol {
				drift = append(drift, fmt.Sprintf("%s %s: got %.4f, expected %.4f (tolerance %g)", x.Run, x.Metric, v, x.Value, tol))
			}
		}
		if !found {
			drift = append(drift, fmt.Sprintf("%s: no such run", x.Run))
		}
	}
	return drift
}
