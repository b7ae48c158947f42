// Package config defines an experiment: the YAML file a researcher writes and the
// JSON input of the Experiment workflow are the same document, decoded into the
// same struct, so an experiment can be started from a file, the CLI or the
// Temporal UI's Start Workflow form alike.
package config

// Experiment is the whole description of an experiment. Every field is plain data
// (no maps ranged over in workflow code, no pointers to shared state) so that it
// can travel as one Temporal payload.
type Experiment struct {
	// Name identifies the experiment in the UI (search attribute) and in output paths.
	Name string `json:"name" yaml:"name"`
	// Output is the directory where human-readable results (run files, metrics,
	// report) are exported. Relative paths are resolved by the worker.
	Output      string       `json:"output,omitempty" yaml:"output,omitempty"`
	Datasets    []Dataset    `json:"datasets" yaml:"datasets"`
	FirstStages []FirstStage `json:"first_stages" yaml:"first_stages"`
	// Metrics in trec_eval notation with a dot for cut-offs: map, ndcg_cut.20, P.10, recall.100, recip_rank…
	Metrics []string `json:"metrics" yaml:"metrics"`
	// Complete averages over every qrels query (trec_eval -c): missing queries count 0.
	Complete bool `json:"complete,omitempty" yaml:"complete,omitempty"`
	// Expected records the scores of a reference run: "dataset/run" → metric → value.
	Expected []Expectation `json:"expected,omitempty" yaml:"expected,omitempty"`
	// Tolerance for Expected; default 1e-4 (trec_eval prints four decimals).
	Tolerance *float64 `json:"tolerance,omitempty" yaml:"tolerance,omitempty"`

	// unknown lists keys of a JSON input that match no field (see UnmarshalJSON).
	unknown []string
}

// Dataset is one test collection: documents, topics and judgements.
type Dataset struct {
	Name   string `json:"name" yaml:"name"`
	Corpus string `json:"corpus" yaml:"corpus"`
	// CorpusFormat: jsonl (auto-detects Pyserini id/contents, BEIR _id/title/text,
	// CIRAL docid/title/text), pyserini, beir, ciral. Default jsonl.
	CorpusFormat string `json:"corpus_format,omitempty" yaml:"corpus_format,omitempty"`
	Topics       string `json:"topics" yaml:"topics"`
	// TopicsFormat: tsv, trec or auto (default).
	TopicsFormat string `json:"topics_format,omitempty" yaml:"topics_format,omitempty"`
	// TopicFields for TREC topic files; default [title].
	TopicFields []string `json:"topic_fields,omitempty" yaml:"topic_fields,omitempty"`
	Qrels       string   `json:"qrels" yaml:"qrels"`
	QueryLang   string   `json:"query_lang" yaml:"query_lang"`
	DocLang     string   `json:"doc_lang" yaml:"doc_lang"`
}

// FirstStage is a retriever producing the candidate list of every query.
type FirstStage struct {
	Name string `json:"name" yaml:"name"`
	// Kind: bm25 or run_file.
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
	defaultTopicField       = "title"
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
		if len(d.TopicFields) == 0 {
			d.TopicFields = []string{defaultTopicField}
		}
		out.Datasets[i] = d
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
