package experiment

import (
	"bytes"
	_ "embed"
	"fmt"
	"html"
	"html/template"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/clirflow/clirflow/internal/study"
)

//go:embed report.html.tmpl
var reportTemplateText string

// The page is one file with its style inline; plots and run files are
// linked relatively, so the output directory can be moved or served as is.
var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"thousands": thousands}).Parse(reportTemplateText))

// thousands groups the digits of a count as 3,240,000: token counts are long.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

type htmlRun struct {
	Name                         string
	Queries                      int
	Values                       []string
	RunFile, EvalFile, AuditFile string
	LLM                          *CallStats
}

type htmlComparison struct {
	Run, Versus, Delta, P, PAdjusted, Mark, Share string
	Baseline, Gain, Loss                          bool
	N, Wins, Ties, Losses                         int
}

type htmlPage struct {
	Name, WorkflowID, RunID string
	Settings                string
	Metrics                 []string
	Runs                    []htmlRun
	LLMRuns                 []htmlRun
	LLMTotal                CallStats
	Tables                  []template.HTML
	Comparisons             []htmlComparison
	Headroom                []htmlHeadroom
	Correction              string
	Legend                  template.HTML
	Summary, Deltas         []StudyPlot
	StudyFiles              []string
	Datasets                []PreparedDataset
	Translations, Warnings  []string
	Drift                   []string
}

// htmlHeadroom is a HeadroomRow as the page shows it.
type htmlHeadroom struct {
	HeadroomRow
	BestName, Share string
}

// renderHTML builds report.html from what the Markdown report shows, plus
// the settings and the plots.
func renderHTML(in ReportInput, info ReportInfo, st StudyReport, warnings []string) ([]byte, error) {
	settings, err := yaml.MarshalWithOptions(in.Experiment, yaml.IndentSequence(true))
	if err != nil {
		return nil, err
	}
	p := htmlPage{Name: in.Experiment.Name, WorkflowID: in.WorkflowID, RunID: in.RunID, Settings: string(settings),
		Metrics: in.Experiment.Metrics, Correction: st.Correction,
		StudyFiles: tableFiles(st), Datasets: in.Datasets, Translations: in.Translations, Warnings: warnings, Drift: info.Drift}
	for _, r := range in.Runs {
		h := htmlRun{Name: r.Name(), Queries: r.Eval.NumQueries,
			RunFile: filepath.ToSlash(runFile(r)), EvalFile: filepath.ToSlash(evalFile(r)), LLM: r.LLM}
		if r.Audit != "" {
			h.AuditFile = filepath.ToSlash(auditFile(r))
		}
		for _, m := range in.Experiment.Metrics {
			v := study.MissingText
			if x, ok := Lookup(r.Eval.Summary, m); ok {
				v = fmt.Sprintf("%.4f", x)
			}
			h.Values = append(h.Values, v)
		}
		p.Runs = append(p.Runs, h)
		if r.LLM != nil {
			p.LLMRuns = append(p.LLMRuns, h)
			p.LLMTotal.Add(*r.LLM)
		}
	}
	// Escape the whole legend, then turn the quote markers into <code>.
	lg := html.EscapeString(legend(st, func(s string) string { return "\x00" + s + "\x01" }))
	p.Legend = template.HTML(strings.NewReplacer("\x00", "<code>", "\x01", "</code>").Replace(lg))
	for _, t := range st.Tables {
		var b bytes.Buffer
		if err := study.WriteHTML(&b, t); err != nil {
			return nil, err
		}
		p.Tables = append(p.Tables, template.HTML(b.String())) // escaped by WriteHTML
	}
	for _, c := range st.Comparisons {
		d := c.TTest.MeanA - c.TTest.MeanB
		ds, _, _ := strings.Cut(c.Run, "/") // the same dataset on both sides
		p.Comparisons = append(p.Comparisons, htmlComparison{Run: c.Run, Versus: strings.TrimPrefix(c.Versus, ds+"/"), Baseline: c.Baseline,
			N: c.TTest.N, Delta: fmt.Sprintf("%+.4f", d), Gain: d > study.TieTolerance, Loss: d < -study.TieTolerance,
			P: FormatP(c.TTest, c.TTest.P), PAdjusted: FormatP(c.TTest, c.PAdjusted), Mark: c.Mark(),
			Wins: c.TTest.Wins, Ties: c.TTest.Ties, Losses: c.TTest.Losses, Share: FormatShare(c.Headroom)})
	}
	for _, h := range st.Headroom {
		hh := htmlHeadroom{HeadroomRow: h, BestName: "–", Share: "–"}
		if h.Best != "" {
			hh.BestName, hh.Share = strings.TrimPrefix(h.Best, h.Stage+"+"), FormatShare(h.Realised)
		}
		p.Headroom = append(p.Headroom, hh)
	}
	for _, pl := range st.Plots {
		if pl.Kind == "deltas" {
			p.Deltas = append(p.Deltas, pl)
		} else {
			p.Summary = append(p.Summary, pl)
		}
	}
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
