package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/clirflow/clirflow/internal/analysis"
	"github.com/clirflow/clirflow/internal/eval"
	"github.com/clirflow/clirflow/internal/inputerr"
)

// Names become file names of exported results, so they are restricted; document
// ids never are (they are data).
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// uniqueName checks a name and that no earlier entry of its kind has it.
func uniqueName(seen map[string]bool, path, kind, v string) error {
	err := checkName(path, v)
	if seen[v] {
		err = errors.Join(err, inputerr.Field(path, "duplicate %s name %q", kind, v))
	}
	seen[v] = true
	return err
}

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
		add(uniqueName(datasets, p+".name", "dataset", d.Name))
		for _, f := range []struct{ field, val string }{{"corpus", d.Corpus}, {"topics", d.Topics}, {"qrels", d.Qrels}} {
			if strings.TrimSpace(f.val) == "" {
				add(inputerr.Field(p+"."+f.field, "is required (a file path)"))
			}
		}
		if !oneOf(d.CorpusFormat, "", "jsonl", "pyserini", "beir", "ciral", "clef") {
			add(inputerr.Field(p+".corpus_format", "unknown format %q (jsonl, pyserini, beir, ciral, clef)", d.CorpusFormat))
		}
		if !oneOf(d.TopicsFormat, "", "auto", "tsv", "trec", "clef") {
			add(inputerr.Field(p+".topics_format", "unknown format %q (auto, tsv, trec, clef)", d.TopicsFormat))
		}
		if !oneOf(strings.ToLower(d.Encoding), "", "utf-8", "utf8", "iso-8859-1", "latin1") {
			add(inputerr.Field(p+".encoding", "unknown encoding %q (utf-8, iso-8859-1)", d.Encoding))
		}
		if d.CorpusFormat != "clef" && (len(d.TextFields) > 0 || len(d.TitleFields) > 0) {
			add(inputerr.Field(p+".text_fields", "text_fields and title_fields apply to corpus_format clef"))
		}
		for j, f := range d.TopicFields {
			if !oneOf(f, "title", "desc", "narr") {
				add(inputerr.Field(fmt.Sprintf("%s.topic_fields[%d]", p, j), "unknown field %q (title, desc, narr)", f))
			}
		}
		add(checkLang(p+".query_lang", d.QueryLang))
		add(checkLang(p+".doc_lang", d.DocLang))
	}
	translators := map[string]bool{}
	for i, t := range e.Translators {
		p := fmt.Sprintf("translators[%d]", i)
		add(uniqueName(translators, p+".name", "translator", t.Name))
		switch t.Kind {
		case TranslatorApertium, TranslatorDictionary:
		case TranslatorAPY, TranslatorHTTP:
			add(checkURL(p+".base_url", t.BaseURL))
		case TranslatorOpenAI:
			add(checkURL(p+".base_url", t.BaseURL))
			if t.Model == "" {
				add(inputerr.Field(p+".model", "is required for kind %s", t.Kind))
			}
		default:
			add(inputerr.Field(p+".kind", "unknown kind %q (apertium, apy, dictionary, openai, http)", t.Kind))
		}
		add(checkEnvName(p+".api_key_env", t.APIKeyEnv))
		if t.Senses < 0 || t.Senses > 20 {
			add(inputerr.Field(p+".senses", "must be between 1 and 20, got %d", t.Senses))
		}
		if t.BatchSize < 0 || t.BatchSize > 10000 {
			add(inputerr.Field(p+".batch_size", "must be between 1 and 10000, got %d", t.BatchSize))
		}
		if t.Concurrency < 0 || t.Concurrency > 256 {
			add(inputerr.Field(p+".concurrency", "must be between 1 and 256, got %d", t.Concurrency))
		}
	}
	if len(e.FirstStages) == 0 {
		add(inputerr.Field("first_stages", "at least one first stage is required"))
	}
	stages := map[string]bool{}
	for i, f := range e.FirstStages {
		p := fmt.Sprintf("first_stages[%d]", i)
		add(uniqueName(stages, p+".name", "first stage", f.Name))
		for j, d := range f.Datasets {
			if !datasets[d] {
				add(inputerr.Field(fmt.Sprintf("%s.datasets[%d]", p, j), "unknown dataset %q", d))
			}
		}
		if f.Depth < 0 || f.Depth > MaxDepth {
			add(inputerr.Field(p+".depth", "must be between 1 and %d, got %d", MaxDepth, f.Depth))
		}
		dense := f.Endpoint != "" || f.Encoder != nil || f.Metric != "" || f.VectorStore != nil
		fused := len(f.Inputs) > 0 || f.Method != "" || f.RRFK != 0 || len(f.Weights) > 0
		bm25 := f.K1 != nil || f.B != nil || f.Analyzer != ""
		only := func(set bool, fields, kind string) {
			if set && f.Kind != kind {
				add(inputerr.Field(p, "%s only apply to kind %s", fields, kind))
			}
		}
		only(bm25, "k1, b and analyzer", KindBM25)
		only(dense, "endpoint, encoder, metric and vector_store", KindDense)
		only(fused, "inputs, method, rrf_k and weights", KindFusion)
		only(f.Path != "", "path", KindRunFile)
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
				if f.Translate != TranslateNone {
					add(inputerr.Field(p+".analyzer", "follows the translation (query language for documents, document language for queries); leave it unset"))
				}
			}
			add(checkTranslation(p, f, translators))
		case KindDense:
			add(e.checkDense(p, f))
			add(checkTranslation(p, f, translators))
		case KindFusion:
			add(e.checkFusion(p, i, f))
			if f.Translate != "" || f.Translator != "" {
				add(inputerr.Field(p, "translate and translator do not apply to kind %s (its inputs translate)", KindFusion))
			}
		case KindRunFile:
			if strings.TrimSpace(f.Path) == "" {
				add(inputerr.Field(p+".path", "is required for kind %s (a TREC run file)", KindRunFile))
			}
			if f.Translate != "" || f.Translator != "" {
				add(inputerr.Field(p, "translate and translator do not apply to kind %s", KindRunFile))
			}
		case "":
			add(inputerr.Field(p+".kind", "is required (%s)", stageKinds))
		default:
			add(inputerr.Field(p+".kind", "unknown kind %q (%s)", f.Kind, stageKinds))
		}
	}
	for i, f := range e.FirstStages {
		if f.Translate == TranslateNone {
			continue
		}
		for _, d := range e.Datasets {
			if f.AppliesTo(d.Name) && d.QueryLang == d.DocLang && d.QueryLang != "" {
				add(inputerr.Field(fmt.Sprintf("first_stages[%d].translate", i), "dataset %q has queries and documents in %s: nothing to translate (restrict the stage with datasets)", d.Name, d.DocLang))
			}
		}
	}
	endpoints := map[string]bool{}
	for i, ep := range e.Endpoints {
		p := fmt.Sprintf("endpoints[%d]", i)
		add(uniqueName(endpoints, p+".name", "endpoint", ep.Name))
		add(checkURL(p+".base_url", ep.BaseURL))
		if strings.TrimSpace(ep.Model) == "" {
			add(inputerr.Field(p+".model", "is required"))
		}
		add(checkEnvName(p+".api_key_env", ep.APIKeyEnv))
		if ep.MaxConcurrency < 0 || ep.MaxConcurrency > 1024 {
			add(inputerr.Field(p+".max_concurrency", "must be between 1 and 1024, got %d", ep.MaxConcurrency))
		}
		if ep.RequestsPerMinute < 0 || ep.TokensPerMinute < 0 {
			add(inputerr.Field(p, "requests_per_minute and tokens_per_minute must be ≥ 0 (0 = unlimited)"))
		}
		if ep.PricePromptPer1K < 0 || ep.PriceCompletionPer1K < 0 || math.IsNaN(ep.PricePromptPer1K) || math.IsNaN(ep.PriceCompletionPer1K) {
			add(inputerr.Field(p, "prices must be ≥ 0"))
		}
	}
	rerankers := map[string]bool{}
	for i, r := range e.Rerankers {
		p := fmt.Sprintf("rerankers[%d]", i)
		add(uniqueName(rerankers, p+".name", "reranker", r.Name))
		if r.Endpoint == "" {
			add(inputerr.Field(p+".endpoint", "is required (the name of an endpoint)"))
		} else if !endpoints[r.Endpoint] {
			add(inputerr.Field(p+".endpoint", "unknown endpoint %q (define it under endpoints)", r.Endpoint))
		}
		switch r.Kind {
		case RerankListwise:
			if !oneOf(r.Prompt, "", "rankgpt", "rankzephyr") {
				add(inputerr.Field(p+".prompt", "unknown listwise prompt %q (rankgpt, rankzephyr)", r.Prompt))
			}
			if r.Window < 0 || r.Window > maxRerankWindow || r.Window == 1 {
				add(inputerr.Field(p+".window", "must be between 2 and %d, got %d", maxRerankWindow, r.Window))
			}
			if r.Stride < 0 || (r.Window > 0 && r.Stride > r.Window) {
				add(inputerr.Field(p+".stride", "must be between 1 and the window, got %d", r.Stride))
			}
			if r.Passes < 0 || r.Passes > 10 {
				add(inputerr.Field(p+".passes", "must be between 1 and 10, got %d", r.Passes))
			}
			if r.Method != "" || r.K != 0 {
				add(inputerr.Field(p, "method and k apply to pairwise rerankers"))
			}
		case RerankPairwise:
			if !oneOf(r.Prompt, "", "prp") {
				add(inputerr.Field(p+".prompt", "unknown pairwise prompt %q (prp)", r.Prompt))
			}
			if !oneOf(r.Method, "", "bubblesort", "allpair") {
				add(inputerr.Field(p+".method", "unknown method %q (bubblesort, allpair)", r.Method))
			}
			if r.K < 0 || r.K > maxPRPPasses {
				add(inputerr.Field(p+".k", "must be between 1 and %d, got %d", maxPRPPasses, r.K))
			}
			if r.Window != 0 || r.Stride != 0 || r.Passes != 0 {
				add(inputerr.Field(p, "window, stride and passes apply to listwise rerankers"))
			}
		case "":
			add(inputerr.Field(p+".kind", "is required (listwise or pairwise)"))
		default:
			add(inputerr.Field(p+".kind", "unknown kind %q (listwise or pairwise)", r.Kind))
		}
		if r.Top < 0 || r.Top > maxRerankTop {
			add(inputerr.Field(p+".top", "must be between 1 and %d, got %d", maxRerankTop, r.Top))
		}
		switch r.Text {
		case "", RerankTextOriginal:
			if r.Translator != "" {
				add(inputerr.Field(p+".translator", "applies with text: translated"))
			}
		case RerankTextTranslated:
			if !translators[r.Translator] {
				add(inputerr.Field(p+".translator", "text: translated needs a translator defined under translators, got %q", r.Translator))
			}
		default:
			add(inputerr.Field(p+".text", "unknown text %q (original, translated)", r.Text))
		}
		seen := map[int]bool{}
		for j, n := range r.MaxDocTokens {
			if n < 0 || n > maxDocTokensLimit || seen[n] {
				add(inputerr.Field(fmt.Sprintf("%s.max_doc_tokens[%d]", p, j), "must be distinct lengths between 0 (no truncation) and %d, got %d", maxDocTokensLimit, n))
			}
			seen[n] = true
		}
		for j, st := range r.FirstStages {
			if !stages[st] {
				add(inputerr.Field(fmt.Sprintf("%s.first_stages[%d]", p, j), "unknown first stage %q", st))
			}
		}
	}
	if len(e.Metrics) == 0 {
		add(inputerr.Field("metrics", "at least one metric is required, e.g. map, ndcg_cut.20"))
	}
	for i, m := range e.Metrics {
		ms, err := eval.ParseMeasures([]string{m})
		switch {
		case err != nil:
			// ParseMeasures names its own argument ("measures[0]"); keep its message only.
			var ie *inputerr.Error
			if errors.As(err, &ie) {
				err = errors.New(ie.Msg)
			}
			add(inputerr.Field(fmt.Sprintf("metrics[%d]", i), "%v", err))
		case len(ms) != 1 || len(ms[0].Names) != 1:
			// A table column is one number: "P" alone would be nine.
			add(inputerr.Field(fmt.Sprintf("metrics[%d]", i), "%q names several values; give one cut-off, e.g. %s.10", m, m))
		}
	}
	for i, d := range e.Datasets {
		if d.StudyMetric != "" && !slices.Contains(e.Metrics, d.StudyMetric) {
			add(inputerr.Field(fmt.Sprintf("datasets[%d].study_metric", i), "%q is not in metrics %v", d.StudyMetric, e.Metrics))
		}
	}
	if b := e.Study.Baseline; b != "" && !e.hasRun(b) {
		add(inputerr.Field("study.baseline", "%q is not a run of this experiment (a first stage, or first_stage+reranker)", b))
	}
	if !oneOf(e.Study.Correction, "", CorrectionNone, CorrectionHolm, CorrectionBonferroni) {
		add(inputerr.Field("study.correction", "unknown correction %q (none, holm, bonferroni)", e.Study.Correction))
	}
	for i, x := range e.Expected {
		p := fmt.Sprintf("expected[%d]", i)
		ds, st, ok := strings.Cut(x.Run, "/")
		if !ok || !datasets[ds] || !e.hasRun(st) {
			add(inputerr.Field(p+".run", "%q is not a run of this experiment (dataset/first_stage or dataset/first_stage+reranker)", x.Run))
		}
		if !slices.Contains(e.Metrics, x.Metric) {
			add(inputerr.Field(p+".metric", "%q is not in metrics", x.Metric))
		}
		if math.IsNaN(x.Value) || math.IsInf(x.Value, 0) {
			add(inputerr.Field(p+".value", "must be a finite number"))
		}
	}
	return errors.Join(errs...)
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkEnvName accepts the name of an environment variable and refuses what
// looks like a pasted key: not a valid name (sk-…), or a long name mixing
// lower case, upper case and digits the way random tokens do (hf_…, gsk_…),
// where variable names are words. The message never repeats the value: a
// key must not reach logs or workflow histories through an error.
func checkEnvName(path, v string) error {
	if v == "" {
		return nil
	}
	if !envNameRE.MatchString(v) || looksLikeToken(v) {
		return inputerr.Field(path, "must be the NAME of an environment variable (e.g. OPENAI_API_KEY), not the key")
	}
	return nil
}

func looksLikeToken(v string) bool {
	if len(v) < 32 {
		return false
	}
	var lower, upper, digit bool
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		}
	}
	return lower && upper && digit
}

func checkURL(path, raw string) error {
	if raw == "" {
		return inputerr.Field(path, "is required (e.g. http://127.0.0.1:2737)")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return inputerr.Field(path, "%q is not an http(s) URL", raw)
	}
	return nil
}

const stageKinds = KindBM25 + ", " + KindDense + ", " + KindFusion + " or " + KindRunFile

// checkTranslation checks a stage's cross-lingual mode (BM25 and dense).
func checkTranslation(p string, f FirstStage, translators map[string]bool) error {
	switch f.Translate {
	case TranslateNone:
		if f.Translator != "" {
			return inputerr.Field(p+".translator", "needs translate: queries or documents")
		}
	case TranslateQueries, TranslateDocuments:
		if f.Translator == "" {
			return inputerr.Field(p+".translator", "is required with translate: %s", f.Translate)
		} else if !translators[f.Translator] {
			return inputerr.Field(p+".translator", "unknown translator %q (define it under translators)", f.Translator)
		}
	default:
		return inputerr.Field(p+".translate", "unknown mode %q (queries or documents; leave unset for no translation)", f.Translate)
	}
	return nil
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
	return slices.Contains(options, v)
}

// CheckFiles verifies that every input file exists and is a regular file, so
// the starter can fail before anything is started. Workers check again: files
// may change between the two.
func (e Experiment) CheckFiles() error {
	var errs []error
	check := func(field, path string, dirOK bool) {
		if path == "" {
			return
		}
		st, err := os.Stat(path)
		switch {
		case err != nil:
			errs = append(errs, inputerr.Field(field, "cannot read %s: %v", path, unwrapPathErr(err)))
		case st.IsDir() && !dirOK:
			errs = append(errs, inputerr.Field(field, "%s is a directory, expected a file", path))
		}
	}
	for i, d := range e.Datasets {
		p := fmt.Sprintf("datasets[%d]", i)
		check(p+".corpus", d.Corpus, d.CorpusFormat == "clef")
		check(p+".topics", d.Topics, false)
		check(p+".qrels", d.Qrels, false)
	}
	for i, f := range e.FirstStages {
		check(fmt.Sprintf("first_stages[%d].path", i), f.Path, false)
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

// hasRun reports whether name is a first stage or a reranked run of one.
func (e Experiment) hasRun(name string) bool {
	for _, f := range e.FirstStages {
		if f.Name == name {
			return true
		}
		for _, r := range e.Rerankers {
			if !r.AppliesTo(f.Name) {
				continue
			}
			lengths := r.MaxDocTokens
			if len(lengths) == 0 {
				lengths = []int{0}
			}
			for _, n := range lengths {
				if r.RunName(f.Name, n) == name {
					return true
				}
			}
		}
	}
	return false
}
