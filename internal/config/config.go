// Package config defines an experiment: the YAML file a researcher writes and the
// JSON input of the Experiment workflow are the same document, decoded into the
// same struct, so an experiment can be started from a file, the CLI or the
// Temporal UI's Start Workflow form alike.
package config

import (
	"strconv"

	"github.com/clirflow/clirflow/internal/embed"
	"github.com/clirflow/clirflow/internal/llm"
)

// Experiment is the whole description of an experiment. Every field is plain data
// (no maps ranged over in workflow code, no pointers to shared state) so that it
// can travel as one Temporal payload.
type Experiment struct {
	// Name identifies the experiment in the UI (search attribute) and in output paths.
	Name string `json:"name" yaml:"name"`
	// Output is the directory where human-readable results (run files, metrics,
	// report) are exported. Relative paths are resolved by the worker.
	Output   string    `json:"output,omitempty" yaml:"output,omitempty"`
	Datasets []Dataset `json:"datasets" yaml:"datasets"`
	// Translators are named translation systems that first stages refer to.
	Translators []Translator `json:"translators,omitempty" yaml:"translators,omitempty"`
	FirstStages []FirstStage `json:"first_stages" yaml:"first_stages"`
	// Endpoints are OpenAI-compatible LLM servers that rerankers refer to.
	Endpoints []Endpoint `json:"endpoints,omitempty" yaml:"endpoints,omitempty"`
	// Rerankers reorder the top candidates of first stages with LLMs.
	Rerankers []Reranker `json:"rerankers,omitempty" yaml:"rerankers,omitempty"`
	// Metrics in trec_eval notation with a dot for cut-offs: map, ndcg_cut.20, P.10, recall.100, recip_rank…
	Metrics []string `json:"metrics" yaml:"metrics"`
	// Complete averages over every qrels query (trec_eval -c): missing queries count 0.
	Complete bool `json:"complete,omitempty" yaml:"complete,omitempty"`
	// Expected records the scores of a reference run: "dataset/run" → metric → value.
	Expected []Expectation `json:"expected,omitempty" yaml:"expected,omitempty"`
	// Tolerance for Expected; default 1e-4 (trec_eval prints four decimals).
	Tolerance *float64 `json:"tolerance,omitempty" yaml:"tolerance,omitempty"`
	// Study configures the report's significance tests.
	Study Study `json:"study,omitzero" yaml:"study,omitempty"`

	// unknown lists keys of a JSON input that match no field (see UnmarshalJSON).
	unknown []string
}

// Dataset is one test collection: documents, topics and judgements.
type Dataset struct {
	Name   string `json:"name" yaml:"name"`
	Corpus string `json:"corpus" yaml:"corpus"`
	// CorpusFormat: jsonl (auto-detects Pyserini id/contents, BEIR _id/title/text,
	// CIRAL docid/title/text), pyserini, beir, ciral, clef (SGML <DOC> files; the
	// corpus may then be a directory tree, plain or gzip). Default jsonl.
	CorpusFormat string `json:"corpus_format,omitempty" yaml:"corpus_format,omitempty"`
	// Encoding of clef corpora and of topic files: utf-8 (default) or iso-8859-1.
	Encoding string `json:"encoding,omitempty" yaml:"encoding,omitempty"`
	// TextFields and TitleFields: the SGML fields of a clef corpus that make up a
	// document's text and title (defaults: the usual CLEF text fields, no title).
	TextFields  []string `json:"text_fields,omitempty" yaml:"text_fields,omitempty"`
	TitleFields []string `json:"title_fields,omitempty" yaml:"title_fields,omitempty"`
	Topics      string   `json:"topics" yaml:"topics"`
	// TopicsFormat: tsv, trec, clef or auto (default). CLEF topic tags carry the
	// query language as prefix (<EN-title>); query_lang selects it.
	TopicsFormat string `json:"topics_format,omitempty" yaml:"topics_format,omitempty"`
	// TopicFields joined into the query; default [title] for trec and
	// [title, desc] for clef (the study's choice).
	TopicFields []string `json:"topic_fields,omitempty" yaml:"topic_fields,omitempty"`
	Qrels       string   `json:"qrels" yaml:"qrels"`
	QueryLang   string   `json:"query_lang" yaml:"query_lang"`
	DocLang     string   `json:"doc_lang" yaml:"doc_lang"`
	// StudyMetric is the metric of this dataset in the study table (one of
	// Metrics; default the first): the study reports MAP for CLEF and
	// nDCG@20 for CIRAL.
	StudyMetric string `json:"study_metric,omitempty" yaml:"study_metric,omitempty"`
}

// StudyMetricOr returns the dataset's study metric, or def when unset.
func (d Dataset) StudyMetricOr(def string) string {
	if d.StudyMetric != "" {
		return d.StudyMetric
	}
	return def
}

// Study configures the report's analysis beyond the defaults (each reranked
// run t-tested against its first stage, p < 0.05, no correction).
type Study struct {
	// Baseline names a run (a first stage, or STAGE+RERANKER[-tN]) that every
	// reranked run is also t-tested against, on each dataset it ran on.
	Baseline string `json:"baseline,omitempty" yaml:"baseline,omitempty"`
	// Correction adjusts the p-values of all the report's t-tests for
	// multiple comparisons: none (default), holm or bonferroni.
	Correction string `json:"correction,omitempty" yaml:"correction,omitempty"`
}

// Multiple-comparison corrections of Study.Correction.
const (
	CorrectionNone       = "none"
	CorrectionHolm       = "holm"
	CorrectionBonferroni = "bonferroni"
)

// FirstStage is a retriever producing the candidate list of every query.
type FirstStage struct {
	Name string `json:"name" yaml:"name"`
	// Kind: bm25, dense, fusion or run_file.
	Kind string `json:"kind" yaml:"kind"`
	// Datasets restricts the stage to these datasets; empty means all.
	Datasets []string `json:"datasets,omitempty" yaml:"datasets,omitempty"`
	// BM25 parameters; defaults are Pyserini's (0.9, 0.4).
	K1 *float64 `json:"k1,omitempty" yaml:"k1,omitempty"`
	B  *float64 `json:"b,omitempty" yaml:"b,omitempty"`
	// Depth is the number of candidates kept per query (default 100).
	Depth int `json:"depth,omitempty" yaml:"depth,omitempty"`
	// Analyzer language of the index; default the dataset's document language.
	Analyzer string `json:"analyzer,omitempty" yaml:"analyzer,omitempty"`
	// Path of a TREC run file, for kind run_file (reranking a run produced elsewhere).
	Path string `json:"path,omitempty" yaml:"path,omitempty"`
	// Translate selects the cross-lingual mode of a BM25 stage: "" (OG, no
	// translation), "queries" (QT: topics into the document language) or
	// "documents" (DT: the corpus into the query language; the index analyzer
	// becomes the query language's).
	Translate string `json:"translate,omitempty" yaml:"translate,omitempty"`
	// Translator names an entry of translators (required with translate).
	Translator string `json:"translator,omitempty" yaml:"translator,omitempty"`

	// Dense stages (kind dense; translate works as for BM25): Endpoint names
	// an entry of endpoints serving /v1/embeddings; Encoder is the model's
	// input format (a preset such as multilingual-e5-large, bge-m3,
	// nv-embed-v2, mgte, repllama, plus overrides); Metric cosine (default) or
	// dot; VectorStore where the vectors live (default the embedded store).
	Endpoint    string       `json:"endpoint,omitempty" yaml:"endpoint,omitempty"`
	Encoder     *embed.Spec  `json:"encoder,omitempty" yaml:"encoder,omitempty"`
	Metric      string       `json:"metric,omitempty" yaml:"metric,omitempty"`
	VectorStore *VectorStore `json:"vector_store,omitempty" yaml:"vector_store,omitempty"`

	// Fusion stages (kind fusion): Inputs names two or more other first
	// stages (not fusions); Method rrf (default) or minmax; RRFK the RRF
	// constant (60); Weights one per input for minmax (default equal).
	Inputs  []string  `json:"inputs,omitempty" yaml:"inputs,omitempty"`
	Method  string    `json:"method,omitempty" yaml:"method,omitempty"`
	RRFK    float64   `json:"rrf_k,omitempty" yaml:"rrf_k,omitempty"`
	Weights []float64 `json:"weights,omitempty" yaml:"weights,omitempty"`
}

// Translator configures one translation system.
type Translator struct {
	Name string `json:"name" yaml:"name"`
	// Kind: apertium (the Debian command), apy (apertium-apy's HTTP API),
	// dictionary (FreeDict dictd files; query translation), openai (an
	// OpenAI-compatible chat endpoint), http (a LibreTranslate-compatible
	// endpoint, e.g. a self-hosted NLLB server).
	Kind string `json:"kind" yaml:"kind"`
	// BaseURL of apy, openai and http translators.
	BaseURL string `json:"base_url,omitempty" yaml:"base_url,omitempty"`
	// Model for openai translators.
	Model string `json:"model,omitempty" yaml:"model,omitempty"`
	// APIKeyEnv names the environment variable holding the API key (openai,
	// http). Workers read it; the key itself never appears in a config, a
	// workflow input or a log.
	APIKeyEnv string `json:"api_key_env,omitempty" yaml:"api_key_env,omitempty"`
	// Dir holds dictd files for dictionary translators (default /usr/share/dictd).
	Dir string `json:"dir,omitempty" yaml:"dir,omitempty"`
	// Senses kept per dictionary entry (default 1).
	Senses int `json:"senses,omitempty" yaml:"senses,omitempty"`
	// KeepOriginal keeps the source word beside its translations (default true).
	KeepOriginal *bool `json:"keep_original,omitempty" yaml:"keep_original,omitempty"`
	// BatchSize texts per request and Concurrency requests in flight (defaults 32 and 4).
	BatchSize   int `json:"batch_size,omitempty" yaml:"batch_size,omitempty"`
	Concurrency int `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`
}

// Endpoint is an OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama …):
// name, base_url, api_key_env (the NAME of the variable holding the key;
// workers read it), model, max_concurrency (per worker; default 16),
// requests_per_minute and tokens_per_minute (0 = unlimited), and prices per
// 1,000 tokens for the cost column. It is the LLM client's own description.
type Endpoint = llm.Endpoint

// Reranker reorders first-stage candidates with an LLM.
type Reranker struct {
	Name string `json:"name" yaml:"name"`
	// Kind: listwise (rank_llm sliding windows) or pairwise (PRP).
	Kind string `json:"kind" yaml:"kind"`
	// Prompt: rankgpt or rankzephyr (listwise), prp (pairwise; default).
	Prompt   string `json:"prompt,omitempty" yaml:"prompt,omitempty"`
	Endpoint string `json:"endpoint" yaml:"endpoint"`
	// Listwise: window (20), stride (10), passes (1).
	Window int `json:"window,omitempty" yaml:"window,omitempty"`
	Stride int `json:"stride,omitempty" yaml:"stride,omitempty"`
	Passes int `json:"passes,omitempty" yaml:"passes,omitempty"`
	// Top candidates reranked (100); the rest keep their first-stage order.
	Top int `json:"top,omitempty" yaml:"top,omitempty"`
	// Pairwise: method bubblesort (default) or allpair; k passes (10).
	Method string `json:"method,omitempty" yaml:"method,omitempty"`
	K      int    `json:"k,omitempty" yaml:"k,omitempty"`
	// Text: original (default) or translated (the document translation of
	// Translator into the query language).
	Text       string `json:"text,omitempty" yaml:"text,omitempty"`
	Translator string `json:"translator,omitempty" yaml:"translator,omitempty"`
	// MaxDocTokens truncates passages (tiktoken cl100k_base); a list expands
	// into one run per length (the study's 64/128/256 ablation); 0 = none.
	MaxDocTokens []int `json:"max_doc_tokens,omitempty" yaml:"max_doc_tokens,omitempty"`
	// FirstStages restricts the reranker to these first stages; empty = all.
	FirstStages []string `json:"first_stages,omitempty" yaml:"first_stages,omitempty"`
}

// Reranker kinds and texts.
const (
	RerankListwise       = "listwise"
	RerankPairwise       = "pairwise"
	RerankTextOriginal   = "original"
	RerankTextTranslated = "translated"
	maxRerankTop         = 1000
	maxRerankWindow      = 100
	maxPRPPasses         = 100
	maxDocTokensLimit    = 8192
)

// EndpointNamed finds an endpoint by name.
func (e Experiment) EndpointNamed(name string) (Endpoint, bool) {
	for _, ep := range e.Endpoints {
		if ep.Name == name {
			return ep, true
		}
	}
	return Endpoint{}, false
}

// AppliesTo reports whether the reranker reranks the first stage's runs.
func (r Reranker) AppliesTo(stage string) bool {
	if len(r.FirstStages) == 0 {
		return true
	}
	for _, s := range r.FirstStages {
		if s == stage {
			return true
		}
	}
	return false
}

// RunName is the name of a reranked run: STAGE+RERANKER, with "-tN" when the
// reranker truncates passages to N tokens and lists several lengths.
func (r Reranker) RunName(stage string, maxDocTokens int) string {
	n := stage + "+" + r.Name
	if len(r.MaxDocTokens) > 1 || maxDocTokens > 0 {
		n += "-t" + strconv.Itoa(maxDocTokens)
	}
	return n
}

// Translation modes of a first stage.
const (
	TranslateNone      = ""
	TranslateQueries   = "queries"
	TranslateDocuments = "documents"
)

// Translator kinds.
const (
	TranslatorApertium   = "apertium"
	TranslatorAPY        = "apy"
	TranslatorDictionary = "dictionary"
	TranslatorOpenAI     = "openai"
	TranslatorHTTP       = "http"
)

// TranslatorNamed finds a translator by name.
func (e Experiment) TranslatorNamed(name string) (Translator, bool) {
	for _, t := range e.Translators {
		if t.Name == name {
			return t, true
		}
	}
	return Translator{}, false
}

// Mode is the study's name of a stage's cross-lingual mode: OG, QT or DT.
func (f FirstStage) Mode() string {
	switch f.Translate {
	case TranslateQueries:
		return "QT"
	case TranslateDocuments:
		return "DT"
	}
	return "OG"
}

// Expectation is one recorded reference score.
type Expectation struct {
	Run    string  `json:"run" yaml:"run"` // "dataset/first_stage"
	Metric string  `json:"metric" yaml:"metric"`
	Value  float64 `json:"value" yaml:"value"`
}

// Defaults, as in Pyserini.
const (
	DefaultK1               = 0.9
	DefaultB                = 0.4
	DefaultDepth            = 100
	DefaultTolerance        = 1e-4
	DefaultCorpusFormat     = "jsonl"
	DefaultTopicsFormat     = "auto"
	KindBM25                = "bm25"
	KindRunFile             = "run_file"
	DefaultOutput           = "results"
	MaxDepth                = 10000
	maxNameLen              = 64
	experimentNameFieldPath = "name"
)

// WithDefaults returns a copy with every unset optional field filled in. It is
// pure, so workflow code may call it.
func (e Experiment) WithDefaults() Experiment {
	out := e
	if out.Output == "" {
		out.Output = DefaultOutput + "/" + e.Name
	}
	if out.Tolerance == nil {
		t := DefaultTolerance
		out.Tolerance = &t
	}
	out.Datasets = make([]Dataset, len(e.Datasets))
	for i, d := range e.Datasets {
		if d.CorpusFormat == "" {
			d.CorpusFormat = DefaultCorpusFormat
		}
		if d.TopicsFormat == "" {
			d.TopicsFormat = DefaultTopicsFormat
		}
		out.Datasets[i] = d
	}
	out.Translators = make([]Translator, len(e.Translators))
	for i, t := range e.Translators {
		if t.Senses == 0 {
			t.Senses = 1
		}
		if t.KeepOriginal == nil {
			v := true
			t.KeepOriginal = &v
		}
		if t.BatchSize == 0 {
			t.BatchSize = 32
		}
		if t.Concurrency == 0 {
			t.Concurrency = 4
		}
		if t.Kind == TranslatorDictionary && t.Dir == "" {
			t.Dir = "/usr/share/dictd"
		}
		out.Translators[i] = t
	}
	out.Endpoints = make([]Endpoint, len(e.Endpoints))
	for i, ep := range e.Endpoints {
		if ep.MaxConcurrency == 0 {
			ep.MaxConcurrency = 16
		}
		out.Endpoints[i] = ep
	}
	out.Rerankers = make([]Reranker, len(e.Rerankers))
	for i, r := range e.Rerankers {
		if r.Top == 0 {
			r.Top = 100
		}
		if r.Text == "" {
			r.Text = RerankTextOriginal
		}
		switch r.Kind {
		case RerankListwise:
			if r.Prompt == "" {
				r.Prompt = "rankgpt"
			}
			if r.Window == 0 {
				r.Window = 20
			}
			if r.Stride == 0 {
				r.Stride = 10
			}
			if r.Passes == 0 {
				r.Passes = 1
			}
		case RerankPairwise:
			if r.Prompt == "" {
				r.Prompt = "prp"
			}
			if r.Method == "" {
				r.Method = "bubblesort"
			}
			if r.K == 0 {
				r.K = 10
			}
		}
		if len(r.MaxDocTokens) == 0 {
			r.MaxDocTokens = []int{0}
		}
		out.Rerankers[i] = r
	}
	out.FirstStages = make([]FirstStage, len(e.FirstStages))
	for i, f := range e.FirstStages {
		if f.Kind == KindBM25 {
			if f.K1 == nil {
				v := DefaultK1
				f.K1 = &v
			}
			if f.B == nil {
				v := DefaultB
				f.B = &v
			}
		}
		if f.Kind == KindDense {
			if f.Metric == "" {
				f.Metric = MetricCosine
			}
			vs := VectorStore{}
			if f.VectorStore != nil {
				vs = *f.VectorStore
			}
			vs = vs.WithDefaults()
			f.VectorStore = &vs
		}
		if f.Kind == KindFusion {
			if f.Method == "" {
				f.Method = FusionRRF
			}
			if f.RRFK == 0 && f.Method == FusionRRF {
				f.RRFK = DefaultRRFK
			}
		}
		if f.Depth == 0 {
			f.Depth = DefaultDepth
		}
		out.FirstStages[i] = f
	}
	return out
}

// AppliesTo reports whether the first stage runs on the dataset.
func (f FirstStage) AppliesTo(dataset string) bool {
	if len(f.Datasets) == 0 {
		return true
	}
	for _, d := range f.Datasets {
		if d == dataset {
			return true
		}
	}
	return false
}
