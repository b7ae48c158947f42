package workflows

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/clirflow/clirflow/activities"
	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
)

func ref(s string) artifact.Ref {
	return artifact.Ref(fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s))))
}

func gridConfig() config.Experiment {
	return config.Experiment{
		Name: "grid",
		Datasets: []config.Dataset{
			{Name: "a", Corpus: "/c", Topics: "/t", Qrels: "/q", QueryLang: "en", DocLang: "es"},
			{Name: "b", Corpus: "/c2", Topics: "/t2", Qrels: "/q2", QueryLang: "en", DocLang: "de"},
		},
		FirstStages: []config.FirstStage{
			{Name: "bm25", Kind: "bm25"},
			{Name: "bm25-k12", Kind: "bm25", K1: ptr(1.2), B: ptr(0.75)},
			{Name: "given", Kind: "run_file", Path: "/run", Datasets: []string{"b"}},
		},
		Metrics: []string{"map", "ndcg_cut.20"},
	}
}

func ptr(f float64) *float64 { return &f }

// The plan shares one index per (dataset, analyzer) between BM25 settings,
// runs each (dataset, stage) pair as a child, and ends with one report.
func TestExperimentPlansSharedIndexesAndChildRuns(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(Run)
	env.RegisterWorkflow(DatasetRuns)
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.SaveRuns, mock.Anything, mock.Anything).Return(ref("runs"), nil).Maybe()

	env.OnActivity(a.PrepareDataset, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in experiment.PrepareInput) (experiment.PreparedDataset, error) {
			return experiment.PreparedDataset{Name: in.Dataset.Name, Corpus: ref("c" + in.Dataset.Name), Topics: ref("t"), Qrels: ref("q")}, nil
		})
	indexCalls := 0
	env.OnActivity(a.BuildBM25Index, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in experiment.IndexInput) (experiment.IndexInfo, error) {
			indexCalls++
			return experiment.IndexInfo{Ref: ref("i" + string(in.Corpus)), Language: in.Language}, nil
		})
	var retrieved []experiment.RetrieveInput
	env.OnActivity(a.RetrieveBM25, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in experiment.RetrieveInput) (experiment.RunInfo, error) {
			retrieved = append(retrieved, in)
			return experiment.RunInfo{Ref: ref("r" + in.Tag)}, nil
		})
	env.OnActivity(a.ImportRun, mock.Anything, mock.Anything).Return(experiment.RunInfo{Ref: ref("given")}, nil).Once()
	env.OnActivity(a.Evaluate, mock.Anything, mock.Anything).Return(
		experiment.EvalInfo{Summary: []experiment.MetricValue{{Name: "map", Value: 0.5}, {Name: "ndcg_cut.20", Value: 0.6}}}, nil).Times(5)
	env.OnActivity(a.WriteReport, mock.Anything, mock.Anything).Return(experiment.ReportInfo{Dir: "/out"}, nil).Once()

	env.ExecuteWorkflow(Experiment, gridConfig())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res ExperimentResult
	require.NoError(t, env.GetWorkflowResult(&res))

	require.Equal(t, 2, indexCalls, "one index per dataset, shared by both BM25 settings")
	require.Len(t, retrieved, 4)
	var names []string
	for _, r := range res.Runs {
		names = append(names, r.Name())
	}
	require.Equal(t, []string{"a/bm25", "a/bm25-k12", "b/bm25", "b/bm25-k12", "b/given"}, names)
	for _, r := range retrieved {
		if r.Tag == "bm25" {
			require.Equal(t, 0.9, r.K1)
			require.Equal(t, 0.4, r.B)
			require.Equal(t, 100, r.Depth)
		} else {
			require.Equal(t, 1.2, r.K1)
			require.Equal(t, 0.75, r.B)
		}
	}
	v, err := env.QueryWorkflow(ProgressQuery)
	require.NoError(t, err)
	var p Progress
	require.NoError(t, v.Get(&p))
	require.Equal(t, p.Total, p.Done)
	require.Equal(t, 2+2+5+1, p.Total)
	env.AssertExpectations(t)
}

func TestExperimentRejectsInvalidConfigNamingFields(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	cfg := gridConfig()
	cfg.FirstStages[1].K1 = ptr(-1)
	cfg.Metrics = append(cfg.Metrics, "ndcg_cut.x")
	cfg.Datasets[1].DocLang = "xx"
	env.ExecuteWorkflow(Experiment, cfg)
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, ErrTypeInvalidConfig, appErr.Type())
	require.True(t, appErr.NonRetryable())
	for _, want := range []string{"first_stages[1].k1", "metrics[2]", "datasets[1].doc_lang"} {
		require.Contains(t, err.Error(), want)
	}
}

// A failing run does not stop the others; the experiment reports the failure.
func TestExperimentFailsWithRunErrorAfterOthersFinish(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(Run)
	env.RegisterWorkflow(DatasetRuns)
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.SaveRuns, mock.Anything, mock.Anything).Return(ref("runs"), nil).Maybe()
	cfg := gridConfig()
	cfg.Datasets = cfg.Datasets[1:]
	env.OnActivity(a.PrepareDataset, mock.Anything, mock.Anything).Return(experiment.PreparedDataset{Name: "b", Corpus: ref("c"), Topics: ref("t"), Qrels: ref("q")}, nil)
	env.OnActivity(a.BuildBM25Index, mock.Anything, mock.Anything).Return(experiment.IndexInfo{Ref: ref("i")}, nil)
	env.OnActivity(a.RetrieveBM25, mock.Anything, mock.Anything).Return(experiment.RunInfo{Ref: ref("r")}, nil)
	env.OnActivity(a.ImportRun, mock.Anything, mock.Anything).Return(experiment.RunInfo{},
		temporal.NewNonRetryableApplicationError("/run:7: duplicate document d1 for query q1", activities.ErrTypeInvalidInput, nil))
	env.OnActivity(a.Evaluate, mock.Anything, mock.Anything).Return(experiment.EvalInfo{}, nil).Times(2)
	env.ExecuteWorkflow(Experiment, cfg)
	err := env.GetWorkflowError()
	require.Error(t, err)
	require.Contains(t, err.Error(), "run b/given")
	require.Contains(t, err.Error(), "/run:7: duplicate document")
	env.AssertExpectations(t)
}

// OG and QT stages share the original-language index; DT gets its own index
// over the translated corpus in the query language; each translation once.
func TestExperimentPlansTranslations(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(Run)
	env.RegisterWorkflow(DatasetRuns)
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.SaveRuns, mock.Anything, mock.Anything).Return(ref("runs"), nil).Maybe()
	cfg := gridConfig()
	cfg.Translators = []config.Translator{{Name: "ap", Kind: "apertium"}, {Name: "dict", Kind: "dictionary"}}
	cfg.FirstStages = []config.FirstStage{
		{Name: "og", Kind: "bm25"},
		{Name: "qt", Kind: "bm25", Translate: "queries", Translator: "dict"},
		{Name: "dt", Kind: "bm25", Translate: "documents", Translator: "ap", Datasets: []string{"a"}},
		{Name: "dt-k1", Kind: "bm25", K1: ptr(1.2), Translate: "documents", Translator: "ap", Datasets: []string{"a"}},
	}
	env.OnActivity(a.PrepareDataset, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in experiment.PrepareInput) (experiment.PreparedDataset, error) {
			return experiment.PreparedDataset{Name: in.Dataset.Name, Corpus: ref("c" + in.Dataset.Name), Topics: ref("t" + in.Dataset.Name), Qrels: ref("q")}, nil
		})
	var translated []experiment.TranslateInput
	env.OnActivity(a.Translate, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in experiment.TranslateInput) (experiment.TranslationInfo, error) {
			translated = append(translated, in)
			return experiment.TranslationInfo{Ref: ref("x" + in.What + string(in.Source))}, nil
		})
	var indexed []experiment.IndexInput
	env.OnActivity(a.BuildBM25Index, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in experiment.IndexInput) (experiment.IndexInfo, error) {
			indexed = append(indexed, in)
			return experiment.IndexInfo{Ref: ref("i" + in.Language + string(in.Corpus)), Language: in.Language}, nil
		})
	var retrieved []experiment.RetrieveInput
	env.OnActivity(a.RetrieveBM25, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in experiment.RetrieveInput) (experiment.RunInfo, error) {
			retrieved = append(retrieved, in)
			return experiment.RunInfo{Ref: ref("r" + in.Tag)}, nil
		})
	env.OnActivity(a.Evaluate, mock.Anything, mock.Anything).Return(experiment.EvalInfo{}, nil)
	env.OnActivity(a.WriteReport, mock.Anything, mock.Anything).Return(experiment.ReportInfo{}, nil)
	env.ExecuteWorkflow(Experiment, cfg)
	require.NoError(t, env.GetWorkflowError())

	// a: DT (es→en, once for both DT stages) and QT (en→es); b: QT (en→de).
	require.Len(t, translated, 3)
	pairs := map[string]bool{}
	for _, tr := range translated {
		pairs[tr.What+":"+tr.Src+"→"+tr.Tgt+":"+tr.Translator.Name] = true
	}
	require.Equal(t, map[string]bool{"documents:es→en:ap": true, "queries:en→es:dict": true, "queries:en→de:dict": true}, pairs)
	// Indexes: a/es (OG+QT), a/en over the translated corpus (DT), b/de.
	require.Len(t, indexed, 3)
	langs := map[string]bool{}
	for _, ix := range indexed {
		langs[ix.Language] = true
	}
	require.Equal(t, map[string]bool{"es": true, "en": true, "de": true}, langs)
	require.Len(t, retrieved, 6)
	for _, r := range retrieved {
		switch r.Tag {
		case "qt":
			require.Contains(t, []artifact.Ref{ref("xqueries" + string(ref("ta"))), ref("xqueries" + string(ref("tb")))}, r.Topics)
		case "dt", "dt-k1":
			require.Equal(t, ref("ta"), r.Topics, "DT searches with the original queries")
			require.Equal(t, ref("ien"+string(ref("xdocuments"+string(ref("ca"))))), r.Index)
		}
	}
}
