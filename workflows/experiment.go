// Package workflows orchestrates experiments. Workflow code only plans and
// waits: every computation is an activity over the artifact store, and only
// references and small summaries travel through Temporal.
package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/clirflow/clirflow/activities"
	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
)

const (
	// TaskQueue serves workflows and CPU-bound activities.
	TaskQueue = "clirflow"
	// ProgressQuery answers a Progress.
	ProgressQuery = "progress"
	// ErrTypeInvalidConfig is the error type of a config that fails validation.
	ErrTypeInvalidConfig = "InvalidConfig"
)

// Search attributes that make experiments findable in the Temporal UI, e.g.
// `ClirflowExperiment = "demo"`. The worker registers them if they are missing.
var (
	SearchExperiment = temporal.NewSearchAttributeKeyKeyword("ClirflowExperiment")
	SearchDatasets   = temporal.NewSearchAttributeKeyKeywordList("ClirflowDatasets")
)

// ExperimentInput is the experiment config itself: the YAML in configs/ and the
// JSON typed into the UI's Start Workflow form are the same document.
type ExperimentInput = config.Experiment

// ExperimentResult is the small summary a finished experiment returns; the
// data lives in the artifact store and the output directory.
type ExperimentResult struct {
	Name     string                       `json:"name"`
	Metrics  []string                     `json:"metrics"`
	Datasets []experiment.PreparedDataset `json:"datasets"`
	Runs     []experiment.RunResult       `json:"runs"`
	// RunsOmitted counts the runs left out of Runs when there are too many
	// for a workflow result; they are in the report's results.json.
	RunsOmitted int `json:"runs_omitted,omitempty"`
	// Translations lists each translation with its cost; a re-run shows 0 calls.
	Translations []TranslationResult   `json:"translations,omitempty"`
	Report       experiment.ReportInfo `json:"report"`
}

// TranslationResult is one translation of the experiment.
type TranslationResult struct {
	Dataset    string                     `json:"dataset"`
	Translator string                     `json:"translator"`
	What       string                     `json:"what"`
	Src        string                     `json:"src"`
	Tgt        string                     `json:"tgt"`
	Info       experiment.TranslationInfo `json:"info"`
}

// Progress is what the progress query returns.
type Progress struct {
	Done    int    `json:"done"`
	Total   int    `json:"total"`
	Current string `json:"current"`
}

// Experiment validates, plans and runs an experiment: prepare datasets, build
// each distinct index once, run every (dataset, first stage) pair as a child
// workflow, write the report.
func Experiment(ctx workflow.Context, input ExperimentInput) (ExperimentResult, error) {
	logger := workflow.GetLogger(ctx)
	exp := input.WithDefaults()
	if err := exp.Validate(); err != nil {
		return ExperimentResult{}, temporal.NewNonRetryableApplicationError("invalid experiment config: "+err.Error(), ErrTypeInvalidConfig, err)
	}
	plan := planRuns(exp)
	progress := Progress{Total: len(exp.Datasets) + len(plan.translations) + len(plan.indexes) + len(plan.dense) + len(plan.runs) + len(plan.reranks) + 1, Current: "preparing datasets"}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (Progress, error) { return progress, nil }); err != nil {
		return ExperimentResult{}, err
	}
	if err := setSearchAttributes(ctx, exp); err != nil {
		return ExperimentResult{}, err
	}
	ctx = workflow.WithActivityOptions(ctx, cpuActivityOptions())
	var a *activities.Activities

	// 1. Datasets, in parallel.
	dsFutures := make([]workflow.Future, len(exp.Datasets))
	for i, d := range exp.Datasets {
		dsFutures[i] = workflow.ExecuteActivity(ctx, a.PrepareDataset, experiment.PrepareInput{Dataset: d, Field: fmt.Sprintf("datasets[%d]", i)})
	}
	prepared := make([]experiment.PreparedDataset, len(exp.Datasets))
	for i, f := range dsFutures {
		if err := f.Get(ctx, &prepared[i]); err != nil {
			return ExperimentResult{}, fmt.Errorf("dataset %s: %w", exp.Datasets[i].Name, err)
		}
		progress.Done++
		logger.Info("dataset prepared", "dataset", prepared[i].Name, "docs", prepared[i].NumDocs, "cached", prepared[i].Cached)
	}

	// 2. Translations (documents for DT, topics for QT), each once, in parallel.
	translations := make([]experiment.TranslationInfo, len(plan.translations))
	if len(plan.translations) > 0 {
		progress.Current = "translating"
		trFutures := make([]workflow.Future, len(plan.translations))
		for i, t := range plan.translations {
			tcfg, _ := exp.TranslatorNamed(t.translator)
			src := prepared[t.dataset].Corpus
			if t.what == config.TranslateQueries {
				src = prepared[t.dataset].Topics
			}
			trFutures[i] = workflow.ExecuteActivity(ctx, a.Translate, experiment.TranslateInput{
				Source: src, What: t.what, Translator: tcfg, Src: t.src, Tgt: t.tgt,
				Field: t.field,
			})
		}
		for i, f := range trFutures {
			t := plan.translations[i]
			if err := f.Get(ctx, &translations[i]); err != nil {
				return ExperimentResult{}, fmt.Errorf("translating %s of %s with %s: %w", t.what, exp.Datasets[t.dataset].Name, t.translator, err)
			}
			progress.Done++
		}
	}

	// 3. Each distinct (corpus, analyzer) index once, in parallel.
	progress.Current = "building indexes"
	ixFutures := make([]workflow.Future, len(plan.indexes))
	for i, ix := range plan.indexes {
		corpus := prepared[ix.dataset].Corpus
		if ix.translation >= 0 {
			corpus = translations[ix.translation].Ref
		}
		ixFutures[i] = workflow.ExecuteActivity(ctx, a.BuildBM25Index, experiment.IndexInput{Corpus: corpus, Language: ix.language})
	}
	indexes := make([]experiment.IndexInfo, len(plan.indexes))
	for i, f := range ixFutures {
		if err := f.Get(ctx, &indexes[i]); err != nil {
			return ExperimentResult{}, fmt.Errorf("index of %s (%s): %w", exp.Datasets[plan.indexes[i].dataset].Name, plan.indexes[i].language, err)
		}
		progress.Done++
	}

	// 3b. Each distinct (corpus, encoder, store) embedded once, in parallel,
	// on the LLM queue (the embeddings endpoint's limits hold there).
	dense := make([]experiment.DenseIndexInfo, len(plan.dense))
	if len(plan.dense) > 0 {
		progress.Current = "embedding corpora"
		lctx := workflow.WithActivityOptions(ctx, denseActivityOptions(workflow.GetInfo(ctx).TaskQueueName+LLMQueueSuffix))
		var la *activities.LLMActivities
		dxFutures := make([]workflow.Future, len(plan.dense))
		for i, dx := range plan.dense {
			corpus := prepared[dx.dataset].Corpus
			if dx.translation >= 0 {
				corpus = translations[dx.translation].Ref
			}
			dxFutures[i] = workflow.ExecuteActivity(lctx, la.BuildDenseIndex, denseIndexInput(exp, dx.stage, corpus))
		}
		for i, f := range dxFutures {
			if err := f.Get(ctx, &dense[i]); err != nil {
				return ExperimentResult{}, fmt.Errorf("embedding %s for %s: %w", exp.Datasets[plan.dense[i].dataset].Name, exp.FirstStages[plan.dense[i].stage].Name, err)
			}
			progress.Done++
		}
	}

	// 4–5. Runs and reranked runs. Version 1 gives each dataset its own
	// child workflow (DatasetRuns) so that no history grows with the whole
	// grid: a paper-sized grid (26 datasets × 12 stages × 10 rerankers) is
	// over 3,000 children, beyond what one workflow may start and record.
	inputs := stageInputs{Prepared: prepared, Translations: translations, Indexes: indexes, Dense: dense}
	info := workflow.GetInfo(ctx)
	var runs []experiment.RunResult
	var runSets []artifact.Ref
	omitted := 0
	if workflow.GetVersion(ctx, "dataset-children", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		var err error
		if runs, err = runStages(ctx, exp, plan, inputs, info.WorkflowExecution.ID, func(int) bool { return true }, &progress); err != nil {
			return ExperimentResult{}, err
		}
	} else {
		progress.Current = "retrieving, reranking and evaluating"
		futures := make([]workflow.ChildWorkflowFuture, len(exp.Datasets))
		for di, d := range exp.Datasets {
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: info.WorkflowExecution.ID + "/" + d.Name})
			futures[di] = workflow.ExecuteChildWorkflow(cctx, DatasetRuns, DatasetRunsInput{Experiment: exp, Dataset: di, ParentID: info.WorkflowExecution.ID, Inputs: inputs})
		}
		var errs []error
		for di, f := range futures {
			var r DatasetRunsResult
			if err := f.Get(ctx, &r); err != nil {
				errs = append(errs, fmt.Errorf("dataset %s: %w", exp.Datasets[di].Name, err))
				continue
			}
			progress.Done += r.Count
			runSets = append(runSets, r.Ref)
			if r.Runs == nil && r.Count > 0 {
				omitted = -1
			}
			runs = append(runs, r.Runs...)
		}
		if len(errs) > 0 {
			return ExperimentResult{}, errors.Join(errs...)
		}
		if omitted != 0 || len(runs) > maxResultRuns {
			omitted, runs = countRuns(plan), nil
		}
	}

	// 6. Report.
	progress.Current = "writing report"
	trResults := make([]TranslationResult, len(plan.translations))
	notes := make([]string, len(plan.translations))
	for i, t := range plan.translations {
		trResults[i] = TranslationResult{Dataset: exp.Datasets[t.dataset].Name, Translator: t.translator, What: t.what, Src: t.src, Tgt: t.tgt, Info: translations[i]}
		notes[i] = exp.Datasets[t.dataset].Name + " " + t.what + ": " + experiment.TranslationNote(t.translator, t.src, t.tgt, translations[i])
	}
	var report experiment.ReportInfo
	rin := experiment.ReportInput{
		Experiment: exp, WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
		Datasets: prepared, Runs: runs, Translations: notes,
	}
	if runSets != nil { // by reference: a grid's runs exceed a payload
		rin.Runs, rin.RunSets = nil, runSets
	}
	err := workflow.ExecuteActivity(ctx, a.WriteReport, rin).Get(ctx, &report)
	if err != nil {
		return ExperimentResult{}, fmt.Errorf("report: %w", err)
	}
	progress.Done++
	progress.Current = "done"
	return ExperimentResult{Name: exp.Name, Metrics: exp.Metrics, Datasets: prepared, Runs: runs, RunsOmitted: omitted,
		Translations: trResults, Report: report}, nil
}

// maxResultRuns bounds the runs an ExperimentResult carries inline (about
// 1 KB each); beyond, they are in the report's results.json.
const maxResultRuns = 1000

// stageInputs is what runs need from the earlier phases.
type stageInputs struct {
	Prepared     []experiment.PreparedDataset `json:"prepared"`
	Translations []experiment.TranslationInfo `json:"translations"`
	Indexes      []experiment.IndexInfo       `json:"indexes"`
	Dense        []experiment.DenseIndexInfo  `json:"dense"`
}

// DatasetRunsInput runs one dataset's first stages and reranked runs.
type DatasetRunsInput struct {
	Experiment config.Experiment `json:"experiment"` // with defaults, validated
	Dataset    int               `json:"dataset"`    // index into Experiment.Datasets
	ParentID   string            `json:"parent_id"`  // the Experiment's workflow ID: children are named after it
	Inputs     stageInputs       `json:"inputs"`
}

// DatasetRunsResult references the dataset's runs in table order (and
// carries them inline when they are few).
type DatasetRunsResult struct {
	Ref   artifact.Ref           `json:"ref"`
	Count int                    `json:"count"`
	Runs  []experiment.RunResult `json:"runs,omitempty"`
}

// DatasetRuns runs the first stages and rerankers of one dataset of an
// experiment (the plan is the Experiment's own, recomputed: it is a pure
// function of the config) and stores the results as one artifact.
func DatasetRuns(ctx workflow.Context, in DatasetRunsInput) (DatasetRunsResult, error) {
	var progress Progress
	plan := planRuns(in.Experiment)
	runs, err := runStages(ctx, in.Experiment, plan, in.Inputs, in.ParentID, func(d int) bool { return d == in.Dataset }, &progress)
	if err != nil {
		return DatasetRunsResult{}, err
	}
	ctx = workflow.WithActivityOptions(ctx, cpuActivityOptions())
	var a *activities.Activities
	out := DatasetRunsResult{Count: len(runs)}
	if err := workflow.ExecuteActivity(ctx, a.SaveRuns, runs).Get(ctx, &out.Ref); err != nil {
		return out, err
	}
	if len(runs) <= maxResultRuns/4 {
		out.Runs = runs
	}
	return out, nil
}

func countRuns(p runPlan) int { return len(p.runs) + len(p.reranks) }

// runStages runs the planned runs of the datasets keep accepts as Run
// children (fusions once their inputs are done), then their reranked runs
// as RerankRun children, and returns the results in table order (each first
// stage followed by its reranked runs). Children are named base/DATASET/RUN.
func runStages(ctx workflow.Context, exp config.Experiment, plan runPlan, in stageInputs, base string, keep func(dataset int) bool, progress *Progress) ([]experiment.RunResult, error) {
	prepared, translations, indexes, dense := in.Prepared, in.Translations, in.Indexes, in.Dense
	// 4. Runs as child workflows, in parallel; all are awaited so that every run
	// that can finish is cached even when another fails. Fusion runs start
	// once the runs they fuse are done.
	progress.Current = "retrieving and evaluating"
	runFutures := make([]workflow.ChildWorkflowFuture, len(plan.runs))
	runs := make([]experiment.RunResult, len(plan.runs))
	var errs []error
	awaited := make([]bool, len(plan.runs))
	await := func(i int) {
		if runFutures[i] == nil || awaited[i] {
			return
		}
		awaited[i] = true
		if err := runFutures[i].Get(ctx, &runs[i]); err != nil {
			errs = append(errs, fmt.Errorf("run %s/%s: %w", exp.Datasets[plan.runs[i].dataset].Name, exp.FirstStages[plan.runs[i].stage].Name, err))
			return
		}
		progress.Done++
	}
	start := func(i int) {
		r := plan.runs[i]
		in := RunInput{
			Dataset:    prepared[r.dataset],
			Stage:      exp.FirstStages[r.stage],
			StageField: fmt.Sprintf("first_stages[%d]", r.stage),
			Metrics:    exp.Metrics,
			Complete:   exp.Complete,
		}
		if r.index >= 0 {
			in.Index = indexes[r.index]
		}
		if r.topics >= 0 {
			in.Topics = translations[r.topics].Ref
		}
		if r.dense >= 0 {
			in.Dense = dense[r.dense]
			in.DenseIndex = denseIndexInput(exp, plan.dense[r.dense].stage, "")
		}
		for _, j := range r.inputs {
			in.Inputs = append(in.Inputs, runs[j].Run.Ref)
		}
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID: fmt.Sprintf("%s/%s/%s", base, in.Dataset.Name, in.Stage.Name),
		})
		runFutures[i] = workflow.ExecuteChildWorkflow(cctx, Run, in)
	}
	for i, r := range plan.runs {
		if keep(r.dataset) && exp.FirstStages[r.stage].Kind != config.KindFusion {
			start(i)
		}
	}
	for i, r := range plan.runs {
		if !keep(r.dataset) || exp.FirstStages[r.stage].Kind != config.KindFusion {
			continue
		}
		ok := true
		for _, j := range r.inputs {
			await(j)
			ok = ok && runs[j].Run.Ref != ""
		}
		if ok { // else the failed input is already reported
			start(i)
		}
	}
	for i := range runFutures {
		await(i)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	// 5. Rerankers, each reranked run in its own child (queries below it).
	reranked := make([]experiment.RunResult, len(plan.reranks))
	if len(plan.reranks) > 0 {
		progress.Current = "reranking"
		rrFutures := make([]workflow.ChildWorkflowFuture, len(plan.reranks))
		for i, rr := range plan.reranks {
			if !keep(plan.runs[rr.run].dataset) {
				continue
			}
			first := runs[rr.run]
			k := exp.Rerankers[rr.reranker]
			ep, _ := exp.EndpointNamed(k.Endpoint)
			ds := plan.runs[rr.run].dataset
			corpus := prepared[ds].Corpus
			if rr.translation >= 0 {
				corpus = translations[rr.translation].Ref
			}
			name := k.RunName(first.Stage, rr.tokens)
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
				WorkflowID: fmt.Sprintf("%s/%s/%s", base, first.Dataset, name),
			})
			rrFutures[i] = workflow.ExecuteChildWorkflow(cctx, RerankRun, RerankRunInput{
				Dataset: prepared[ds], FirstStage: first, Reranker: k, Endpoint: ep, MaxDocTokens: rr.tokens,
				Corpus: corpus, Name: name, Metrics: exp.Metrics, Complete: exp.Complete,
			})
		}
		for i, f := range rrFutures {
			if f == nil {
				continue
			}
			if err := f.Get(ctx, &reranked[i]); err != nil {
				errs = append(errs, fmt.Errorf("rerank %s/%s: %w", runs[plan.reranks[i].run].Dataset, exp.Rerankers[plan.reranks[i].reranker].Name, err))
				continue
			}
			progress.Done++
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
	}
	// Each first stage is followed by its reranked runs in the table.
	ordered := make([]experiment.RunResult, 0, len(runs)+len(reranked))
	for ri, r := range runs {
		if !keep(plan.runs[ri].dataset) {
			continue
		}
		ordered = append(ordered, r)
		for i, rr := range plan.reranks {
			if rr.run == ri {
				ordered = append(ordered, reranked[i])
			}
		}
	}
	return ordered, nil
}

type plannedTranslation struct {
	dataset    int
	field      string // the config field that asked first (for error messages)
	translator string
	what       string // config.TranslateQueries or config.TranslateDocuments
	src, tgt   string
}

type plannedIndex struct {
	dataset     int
	translation int // into plan.translations (documents); -1: the original corpus
	language    string
}

type plannedRun struct {
	dataset, stage int
	index          int   // into plan.indexes; -1 when the stage needs no index
	topics         int   // into plan.translations (queries); -1: the original topics
	dense          int   // into plan.dense; -1 unless a dense stage
	inputs         []int // into plan.runs, the runs a fusion stage fuses
}

// plannedDense is one corpus embedded with one encoder into one store,
// shared by the dense stages that agree on all three.
type plannedDense struct {
	dataset     int
	translation int // into plan.translations (documents); -1: the original corpus
	stage       int // the first stage that asked first (its settings)
	key         string
}

type plannedRerank struct {
	run         int // into plan.runs
	reranker    int
	tokens      int // max_doc_tokens (0: no truncation)
	translation int // into plan.translations (documents); -1: original text
}

type runPlan struct {
	translations []plannedTranslation
	indexes      []plannedIndex
	dense        []plannedDense
	runs         []plannedRun
	reranks      []plannedRerank
}

// planRuns expands datasets × first stages in config order (deterministic).
// Work is shared: one translation per (dataset, translator, direction), one
// index per (corpus, analyzer) — OG and QT stages search the same index.
func planRuns(e config.Experiment) runPlan {
	var p runPlan
	translation := func(di int, field, tr, what, src, tgt string) int {
		for i, t := range p.translations {
			if t.dataset == di && t.translator == tr && t.what == what {
				return i
			}
		}
		p.translations = append(p.translations, plannedTranslation{dataset: di, field: field, translator: tr, what: what, src: src, tgt: tgt})
		return len(p.translations) - 1
	}
	index := func(di, tri int, lang string) int {
		for i, ix := range p.indexes {
			if ix.dataset == di && ix.translation == tri && ix.language == lang {
				return i
			}
		}
		p.indexes = append(p.indexes, plannedIndex{dataset: di, translation: tri, language: lang})
		return len(p.indexes) - 1
	}
	dense := func(di, tri, si int) int {
		s := e.FirstStages[si]
		ep, _ := e.EndpointNamed(s.Endpoint)
		enc, _ := json.Marshal(s.Encoder)
		key := fmt.Sprintf("%s|%s|%s|%s|%s", ep.BaseURL, ep.Model, enc, s.Metric, s.VectorStore.Key())
		for i, dx := range p.dense {
			if dx.dataset == di && dx.translation == tri && dx.key == key {
				return i
			}
		}
		p.dense = append(p.dense, plannedDense{dataset: di, translation: tri, stage: si, key: key})
		return len(p.dense) - 1
	}
	// Fusion stages come after every other stage of their dataset (their
	// inputs must have run), in config order among themselves.
	for di, d := range e.Datasets {
		for _, fusion := range []bool{false, true} {
			for si, s := range e.FirstStages {
				if !s.AppliesTo(d.Name) || (s.Kind == config.KindFusion) != fusion {
					continue
				}
				r := plannedRun{dataset: di, stage: si, index: -1, topics: -1, dense: -1}
				switch s.Kind {
				case config.KindDense:
					tri := -1
					switch s.Translate {
					case config.TranslateDocuments:
						tri = translation(di, fmt.Sprintf("first_stages[%d]", si), s.Translator, s.Translate, d.DocLang, d.QueryLang)
					case config.TranslateQueries:
						r.topics = translation(di, fmt.Sprintf("first_stages[%d]", si), s.Translator, s.Translate, d.QueryLang, d.DocLang)
					}
					r.dense = dense(di, tri, si)
				case config.KindFusion:
					for _, name := range s.Inputs {
						for j, pr := range p.runs {
							if pr.dataset == di && e.FirstStages[pr.stage].Name == name {
								r.inputs = append(r.inputs, j)
							}
						}
					}
				case config.KindBM25:
					switch s.Translate {
					case config.TranslateDocuments:
						tri := translation(di, fmt.Sprintf("first_stages[%d]", si), s.Translator, s.Translate, d.DocLang, d.QueryLang)
						r.index = index(di, tri, d.QueryLang)
					case config.TranslateQueries:
						r.topics = translation(di, fmt.Sprintf("first_stages[%d]", si), s.Translator, s.Translate, d.QueryLang, d.DocLang)
						r.index = index(di, -1, d.DocLang)
					default:
						lang := s.Analyzer
						if lang == "" {
							lang = d.DocLang
						}
						r.index = index(di, -1, lang)
					}
				}
				p.runs = append(p.runs, r)
			}
		}
	}
	// Rerankers over every run they apply to, one run per passage length;
	// translated text reuses the DT translation when there is one.
	for ri, r := range p.runs {
		d := e.Datasets[r.dataset]
		for ki, k := range e.Rerankers {
			if !k.AppliesTo(e.FirstStages[r.stage].Name) {
				continue
			}
			tri := -1
			if k.Text == config.RerankTextTranslated {
				tri = translation(r.dataset, fmt.Sprintf("rerankers[%d]", ki), k.Translator, config.TranslateDocuments, d.DocLang, d.QueryLang)
			}
			for _, n := range k.MaxDocTokens {
				p.reranks = append(p.reranks, plannedRerank{run: ri, reranker: ki, tokens: n, translation: tri})
			}
		}
	}
	return p
}

// setSearchAttributes tags the execution unless the starter already did.
func setSearchAttributes(ctx workflow.Context, e config.Experiment) error {
	names := make([]string, 0, len(e.Datasets))
	for _, d := range e.Datasets {
		names = append(names, d.Name)
	}
	sort.Strings(names)
	sa := workflow.GetTypedSearchAttributes(ctx)
	if v, ok := sa.GetKeyword(SearchExperiment); ok && v == e.Name {
		return nil
	}
	return workflow.UpsertTypedSearchAttributes(ctx, SearchExperiment.ValueSet(e.Name), SearchDatasets.ValueSet(names))
}

// denseIndexInput describes how first stage si embeds corpus (the stage's
// endpoint, resolved encoder, metric and store; validated before).
func denseIndexInput(exp config.Experiment, si int, corpus artifact.Ref) experiment.DenseIndexInput {
	s := exp.FirstStages[si]
	ep, _ := exp.EndpointNamed(s.Endpoint)
	field := fmt.Sprintf("first_stages[%d]", si)
	enc, _ := s.EncoderPreset(field)
	return experiment.DenseIndexInput{Corpus: corpus, Endpoint: ep, Encoder: enc, Store: *s.VectorStore, Metric: s.Metric, Field: field}
}

// denseActivityOptions: embedding a corpus is long and checkpoints by
// heartbeat; endpoint errors retry like LLM calls.
func denseActivityOptions(queue string) workflow.ActivityOptions {
	o := llmActivityOptions(queue)
	o.StartToCloseTimeout = 12 * time.Hour
	return o
}

// cpuActivityOptions: activities run on the workflow's own task queue (so a
// deployment may rename it); retries with backoff for transient failures (bad input is
// non-retryable); heartbeats detect a dead worker within HeartbeatTimeout.
func cpuActivityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 4 * time.Hour,
		HeartbeatTimeout:    20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        10,
			NonRetryableErrorTypes: []string{activities.ErrTypeInvalidInput},
		},
	}
}
