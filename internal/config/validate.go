package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strings"

	"github.com/clirflow/clirflow/internal/analysis"
	"github.com/clirflow/clirflow/internal/eval"
	"github.com/clirflow/clirflow/internal/inputerr"
)

// Names become file names of exported results, so they are restricted; document
// ids never are (they are data).
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func checkName(path, v string) error {
	if v == "" {
		return inputerr.Field(path, "is required")
	}
	if len(v) > maxNameLen || !nameRE.MatchString(v) || strings.Contains(v, "..") {
		return inputerr.Field(path, "%q must be 1-%d characters of letters, digits, '.', '_' or '-' and start with a letter or digit", v, maxNameLen)
	}
	return nil
}

// Validate checks everything that can be checked without touching files. It is
// pure and deterministic, so the workflow runs it too: an experiment started from
// the UI gets the same errors as one started from the CLI. All problems are
// reported at once, each naming its field.
func (e Experiment) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, k := range e.unknown {
		add(inputerr.Field(k, "unknown key"))
	}
	add(checkName(experimentNameFieldPath, e.Name))
	if e.Tolerance != nil && (*e.Tolerance < 0 || math.IsNaN(*e.Tolerance)) {
		add(inputerr.Field("tolerance", "must be ≥ 0, got %v", *e.Tolerance))
	}
	if len(e.Datasets) == 0 {
		add(inputerr.Field("datasets", "at least one dataset is required"))
	}
	datasets := map[string]bool{}
	for i, d := range e.Datasets {
		p := fmt.Sprintf("datasets[%d]", i)
		add(checkName(p+".name", d.Name))
		if datasets[d.Name] {
			add(inputerr.Field(p+".name", "duplicate dataset name %q", d.Name))
		}
		datasets[d.Name] = true
		for _, f := range []struct{ field, val string }{{"corpus", d.Corpus}, {"topics", d.Topics}, {"qrels", d.Qrels}} {
			if strings.TrimSpace(f.val) == "" {
				add(inputerr.Field(p+"."+f.field, "is required (a file path)"))
			}
		}
		if !oneOf(d.CorpusFormat, "", "jsonl", "pyserini", "beir", "ciral") {
			add(inputerr.Field(p+".corpus_format", "unknown format %q (jsonl, pyserini, beir, ciral)", d.CorpusFormat))
		}
		if !oneOf(d.TopicsFormat, "", "auto", "tsv", "trec") {
			add(inputerr.Field(p+".topics_format", "unknown format %q (auto, tsv, trec)", d.TopicsFormat))
		}
		for j, f := range d.TopicFields {
			if !oneOf(f, "title", "desc", "narr") {
				add(inputerr.Field(fmt.Sprintf("%s.topic_fields[%d]", p, j), "unknown field %q (title, desc, narr)", f))
			}
		}
		add(checkLang(p+".query_lang", d.QueryLang))
		add(checkLang(p+".doc_lang", d.DocLang))
	}
	if len(e.FirstStages) == 0 {
		add(inputerr.Field("first_stages", "at least one first stage is required"))
	}
	stages := map[string]bool{}
	for i, f := range e.FirstStages {
		p := fmt.Sprintf("first_stages[%d]", i)
		add(checkName(p+".name", f.Name))
		if stages[f.Name] {
			add(inputerr.Field(p+".name", "duplicate first stage name %q", f.Name))
		}
		stages[f.Name] = true
		for j, d := range f.Datasets {
			if !datasets[d] {
				add(inputerr.Field(fmt.Sprintf("%s.datasets[%d]", p, j), "unknown dataset %q", d))
			}
		}
		if f.Depth < 0 || f.Depth > MaxDepth {
			add(inputerr.Field(p+".depth", "must be between 1 and %d, got %d", MaxDepth, f.Depth))
		}
		switch f.Kind {
		case KindBM25:
			if f.K1 != nil && (*f.K1 < 0 || math.IsNaN(*f.K1) || math.IsInf(*f.K1, 0)) {
				add(inputerr.Field(p+".k1", "must be a finite number ≥ 0, got %v", *f.K1))
			}
			if f.B != nil && (*f.B < 0 || *f.B > 1 || math.IsNaN(*f.B)) {
				add(inputerr.Field(p+".b", "must be between 0 and 1, got %v", *f.B))
			}
			if f.Analyzer != "" {
				add(checkLang(p+".analyzer", f.Analyzer))
			}
			if f.Path != "" {
				add(inputerr.Field(p+".path", "only applies to kind %s", KindRunFile))
			}
		case KindRunFile:
			if strings.TrimSpace(f.Path) == "" {
				add(inputerr.Field(p+".path", "is required for kind %s (a TREC run file)", KindRunFile))
			}
			if f.K1 != nil || f.B != nil || f.Analyzer != "" {
				add(inputerr.Field(p, "k1, b and analyzer only apply to kind %s", KindBM25))
			}
		case "":
			add(inputerr.Field(p+".kind", "is required (%s or %s)", KindBM25, KindRunFile))
		default:
			add(inputerr.Field(p+".kind", "unknown kind %q (%s or %s)", f.Kind, KindBM25, KindRunFile))
		}
	}
	if len(e.Metrics) == 0 {
		add(inputerr.Field("metrics", "at least one metric is required, e.g. map, ndcg_cut.20"))
	}
	for i, m := range e.Metrics {
		ms, err := eval.ParseMeasures([]string{m})
		switch {
		case err != nil:
			add(inputerr.Field(fmt.Sprintf("metrics[%d]", i), "%v", err))
		case len(ms) != 1 || len(ms[0].Names) != 1:
			// A table column is one number: "P" alone would be nine.
			add(inputerr.Field(fmt.Sprintf("metrics[%d]", i), "%q names several values; give one cut-off, e.g. %s.10", m, m))
		}
	}
	for i, x := range e.Expected {
		p := fmt.Sprintf("expected[%d]", i)
		ds, st, ok := strings.Cut(x.Run, "/")
		if !ok || !datasets[ds] || !stages[st] {
			add(inputerr.Field(p+".run", "%q is not a run of this experiment (dataset/first_stage)", x.Run))
		}
		if !contains(e.Metrics, x.Metric) {
			add(inputerr.Field(p+".metric", "%q is not in metrics", x.Metric))
		}
		if math.IsNaN(x.Value) || math.IsInf(x.Value, 0) {
			add(inputerr.Field(p+".value", "must be a finite number"))
		}
	}
	return errors.Join(errs...)
}

func checkLang(path, lang string) error {
	if lang == "" {
		return inputerr.Field(path, "is required (a language code such as en, de, es)")
	}
	if _, err := analysis.ForLanguage(lang); err != nil {
		return inputerr.Field(path, "%v", err)
	}
	return nil
}

func oneOf(v string, options ...string) bool {
	return contains(options, v)
}

func contains(list []string, v string) bool {
	for _, o := range list {
		if o == v {
			return true
		}
	}
	return false
}

// CheckFiles verifies that every input file exists and is a regular file, so
// the starter can fail before anything is started. Workers check again: files
// may change between the two.
func (e Experiment) CheckFiles() error {
	var errs []error
	check := func(field, path string) {
		if path == "" {
			return
		}
		st, err := os.Stat(path)
		switch {
		case err != nil:
			errs = append(errs, inputerr.Field(field, "cannot read %s: %v", path, unwrapPathErr(err)))
		case st.IsDir():
			errs = append(errs, inputerr.Field(field, "%s is a directory, expected a file", path))
		}
	}
	for i, d := range e.Datasets {
		p := fmt.Sprintf("datasets[%d]", i)
		check(p+".corpus", d.Corpus)
		check(p+".topics", d.Topics)
		check(p+".qrels", d.Qrels)
	}
	for i, f := range e.FirstStages {
		check(fmt.Sprintf("first_stages[%d].path", i), f.Path)
	}
	return errors.Join(errs...)
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
