package workflows

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/devtest"
	"github.com/clirflow/clirflow/internal/experiment"
)

// Temporal warns at 10,240 events in one workflow history (the dev server's
// and the cluster's default limit.historyCount.warn) and fails the workflow
// at 51,200.
const historyWarnEvents = 10 * 1024

// paperGridYAML is the study's grid at full size: 2 collections × 13
// language pairs = 26 datasets, 12 first stages (BM25 OG/QT/DT, eight dense
// OG/QT/DT stages over four encoders, a hybrid), 10 rerankers (listwise
// RankGPT/RankZephyr prompts over several models, PRP) applied to every
// first stage: 312 runs and 3,120 reranked runs. Files and servers are never
// touched: the benchmark mocks every activity and the child workflows.
func paperGridYAML() string {
	pairs := [][2]string{ // CLEF 2003's nine pairs and CIRAL's four
		{"en", "fi"}, {"en", "it"}, {"en", "ru"}, {"en", "de"}, {"de", "fi"}, {"de", "it"}, {"de", "ru"}, {"fi", "it"}, {"fi", "ru"},
		{"en", "ha"}, {"en", "so"}, {"en", "sw"}, {"en", "yo"},
	}
	var sb strings.Builder
	sb.WriteString("name: paper-grid\nmetrics: [map, ndcg_cut.20, recall.100, recip_rank]\ndatasets:\n")
	for _, coll := range []string{"test", "dev"} {
		for _, p := range pairs {
			fmt.Fprintf(&sb, "  - {name: %s-%s-%s, corpus: /c/%s, topics: /t/%s-%s, qrels: /q/%s-%s, query_lang: %s, doc_lang: %s}\n",
				coll, p[0], p[1], p[1], coll, p[0], coll, p[1], p[0], p[1])
		}
	}
	sb.WriteString(`translators:
  - {name: nllb, kind: http, base_url: "http://127.0.0.1:5000"}
endpoints:
  - {name: emb, base_url: "http://127.0.0.1:8080/v1", model: m}
  - {name: gpt4o, base_url: "http://127.0.0.1:8000/v1", model: gpt-4o}
  - {name: gpt4omini, base_url: "http://127.0.0.1:8000/v1", model: gpt-4o-mini}
  - {name: llama, base_url: "http://127.0.0.1:8000/v1", model: llama-3.1-70b}
  - {name: qwen, base_url: "http://127.0.0.1:8000/v1", model: qwen2.5-72b}
  - {name: zephyr, base_url: "http://127.0.0.1:8000/v1", model: rank_zephyr_7b}
first_stages:
  - {name: bm25-og, kind: bm25}
  - {name: bm25-qt, kind: bm25, translate: queries, translator: nllb}
  - {name: bm25-dt, kind: bm25, translate: documents, translator: nllb}
  - {name: e5-og, kind: dense, endpoint: emb, encoder: {preset: multilingual-e5-large}}
  - {name: e5-dt, kind: dense, endpoint: emb, encoder: {preset: multilingual-e5-large}, translate: documents, translator: nllb}
  - {name: bge-og, kind: dense, endpoint: emb, encoder: {preset: bge-m3}}
  - {name: bge-qt, kind: dense, endpoint: emb, encoder: {preset: bge-m3}, translate: queries, translator: nllb}
  - {name: bge-dt, kind: dense, endpoint: emb, encoder: {preset: bge-m3}, translate: documents, translator: nllb}
  - {name: mgte-og, kind: dense, endpoint: emb, encoder: {preset: mgte}}
  - {name: mgte-dt, kind: dense, endpoint: emb, encoder: {preset: mgte}, translate: documents, translator: nllb}
  - {name: nv-og, kind: dense, endpoint: emb, encoder: {preset: nv-embed-v2}}
  - {name: hybrid, kind: fusion, method: rrf, inputs: [bm25-og, bge-og]}
rerankers:
  - {name: rankgpt-4o, kind: listwise, prompt: rankgpt, endpoint: gpt4o}
  - {name: rankgpt-4o-dt, kind: listwise, prompt: rankgpt, endpoint: gpt4o, text: translated, translator: nllb}
  - {name: rankgpt-mini, kind: listwise, prompt: rankgpt, endpoint: gpt4omini}
  - {name: rankgpt-llama, kind: listwise, prompt: rankgpt, endpoint: llama}
  - {name: rankgpt-qwen, kind: listwise, prompt: rankgpt, endpoint: qwen}
  - {name: rankzephyr, kind: listwise, prompt: rankzephyr, endpoint: zephyr}
  - {name: rankzephyr-dt, kind: listwise, prompt: rankzephyr, endpoint: zephyr, text: translated, translator: nllb}
  - {name: prp-llama, kind: pairwise, method: bubblesort, endpoint: llama}
  - {name: prp-qwen, kind: pairwise, method: bubblesort, endpoint: qwen}
  - {name: prp-mini-allpair, kind: pairwise, method: allpair, endpoint: gpt4omini}
`)
	return sb.String()
}

func paperGrid(t testing.TB) config.Experiment {
	e, err := config.Parse([]byte(paperGridYAML()), "paper-grid.yaml")
	require.NoError(t, err)
	require.NoError(t, e.WithDefaults().Validate())
	return e
}

// The grid's plan, without a server: what the Experiment workflow starts.
func TestPaperGridPlan(t *testing.T) {
	e := paperGrid(t).WithDefaults()
	p := planRuns(e)
	require.Len(t, e.Datasets, 26)
	require.Len(t, e.FirstStages, 12)
	require.Len(t, e.Rerankers, 10)
	require.Len(t, p.runs, 26*12)
	require.Len(t, p.reranks, 26*12*10)
	t.Logf("plan: %d translations, %d BM25 indexes, %d dense indexes, %d runs, %d reranked runs",
		len(p.translations), len(p.indexes), len(p.dense), len(p.runs), len(p.reranks))
}

// BenchmarkPaperGridHistory runs the Experiment workflow of the paper-sized
// grid on a real dev server (stock limits) with every activity and the Run
// and RerankRun children replaced by stubs registered under the real names
// that return results of realistic size at once (the real DatasetRuns
// children in between), and reports the length of the Experiment's history
// (history-events; Temporal warns at 10,240), that of its largest
// DatasetRuns child (max-child-events) and the Experiment's size
// (history-KB). No LLM, translator or corpus is involved. Sub-benchmarks
// keep the first 0, 5 and all 10 rerankers; an Experiment whose workflow
// task keeps failing is reported with completed 0 and its history so far.
//
//	CLIRFLOW_TEMPORAL_BIN=$PWD/bin/temporal go test -run '^$' -bench PaperGridHistory -benchtime 1x -v ./workflows/
func BenchmarkPaperGridHistory(b *testing.B) {
	bin := os.Getenv("CLIRFLOW_TEMPORAL_BIN")
	if bin == "" {
		b.Skip("CLIRFLOW_TEMPORAL_BIN not set (make bench sets it)")
	}
	grid := paperGrid(b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	srv := devtest.Start(b, bin, "", temporal.NewSearchAttributes(SearchExperiment.ValueSet(""), SearchDatasets.ValueSet(nil)))
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: "default", Logger: quietLogger{}})
	require.NoError(b, err)
	defer c.Close()

	queue := "clirflow-history"
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflow(Experiment)
	w.RegisterWorkflow(DatasetRuns)
	w.RegisterWorkflowWithOptions(stubRun, workflow.RegisterOptions{Name: "Run"})
	w.RegisterWorkflowWithOptions(stubRerankRun, workflow.RegisterOptions{Name: "RerankRun"})
	for name, fn := range map[string]any{
		"PrepareDataset": stubPrepare, "Translate": stubTranslate, "BuildBM25Index": stubIndex, "WriteReport": stubReport,
		"SaveRuns": stubSaveRuns,
	} {
		w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	lw := worker.New(c, queue+LLMQueueSuffix, worker.Options{})
	lw.RegisterActivityWithOptions(stubDense, activity.RegisterOptions{Name: "BuildDenseIndex"})
	require.NoError(b, w.Start())
	defer w.Stop()
	require.NoError(b, lw.Start())
	defer lw.Stop()

	for _, nr := range []int{0, 5, 10} {
		b.Run(fmt.Sprintf("rerankers=%d", nr), func(b *testing.B) {
			cfg := grid
			cfg.Rerankers = grid.Rerankers[:nr]
			var h gridHistory
			for i := 0; b.Loop(); i++ {
				h = runGrid(ctx, b, c, queue, fmt.Sprintf("paper-grid-%d-%d", nr, i), cfg)
			}
			if h.completed == 1 {
				b.ReportMetric(float64(h.reportInput)/1024, "report-input-KB")
			}
			b.ReportMetric(float64(h.events), "history-events")
			b.ReportMetric(float64(h.maxChild), "max-child-events")
			b.ReportMetric(float64(h.bytes)/1024, "history-KB")
			b.ReportMetric(float64(h.children), "children")
			b.ReportMetric(float64(26*12*nr), "reranked-runs")
			b.ReportMetric(h.completed, "completed")
			b.ReportMetric(historyWarnEvents, "limit-events")
		})
	}
}

type gridHistory struct {
	events, bytes, children int64
	maxChild                int64 // events of the largest DatasetRuns child
	completed               float64
	reportInput             int64 // JSON bytes of WriteReport's input

}

// runGrid runs one Experiment and returns its history's length. An
// Experiment whose workflow task fails three times in a row is terminated
// and reported as not completed, with the cause of the first failure.
func runGrid(ctx context.Context, b *testing.B, c client.Client, queue, id string, cfg config.Experiment) gridHistory {
	start := time.Now()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, Experiment, cfg)
	require.NoError(b, err)
	completed := 0.0
	for {
		d, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
		require.NoError(b, err)
		if st := d.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			if st == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				completed = 1
			} else {
				b.Logf("%s: %s", id, st)
			}
			break
		}
		if d.GetPendingWorkflowTask().GetAttempt() >= 3 {
			b.Logf("%s: stuck: workflow task attempt %d", id, d.GetPendingWorkflowTask().GetAttempt())
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	elapsed := time.Since(start)
	d, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	require.NoError(b, err)
	info := d.GetWorkflowExecutionInfo()

	byType := map[string]int{}
	var cause string
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(b, err)
		byType[ev.GetEventType().String()]++
		if f := ev.GetWorkflowTaskFailedEventAttributes(); f != nil && cause == "" {
			cause = f.GetCause().String() + ": " + f.GetFailure().GetMessage()
		}
	}
	if completed == 0 {
		b.Logf("%s: stuck: %s", id, cause)
		_ = c.TerminateWorkflow(ctx, run.GetID(), run.GetRunID(), "benchmark: stuck")
	}
	types := make([]string, 0, len(byType))
	for k := range byType {
		types = append(types, k)
	}
	sort.Slice(types, func(i, j int) bool {
		return byType[types[i]] > byType[types[j]] || byType[types[i]] == byType[types[j]] && types[i] < types[j]
	})
	var parts []string
	for _, k := range types {
		parts = append(parts, fmt.Sprintf("%s %d", k, byType[k]))
	}
	b.Logf("%s: %d rerankers, completed %v in %v: %d events, %d KB; %s", id, len(cfg.Rerankers), completed == 1,
		elapsed.Round(time.Second), info.GetHistoryLength(), info.GetHistorySizeBytes()>>10, strings.Join(parts, ", "))
	var maxChild int64
	for _, d := range cfg.Datasets {
		if cd, err := c.DescribeWorkflowExecution(ctx, run.GetID()+"/"+d.Name, ""); err == nil {
			maxChild = max(maxChild, cd.GetWorkflowExecutionInfo().GetHistoryLength())
		}
	}
	b.Logf("%s: largest DatasetRuns child: %d events", id, maxChild)
	return gridHistory{events: info.GetHistoryLength(), bytes: info.GetHistorySizeBytes(), maxChild: maxChild,
		children: int64(byType[enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED.String()]), completed: completed,
		reportInput: reportInputBytes.Swap(0)}
}

// quietLogger drops the SDK's logs (a stuck workflow task logs on every retry).
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

func stubRef(parts ...string) artifact.Ref {
	return artifact.Ref(fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(strings.Join(parts, "|")))))
}

// The stubs answer at once with results of the real shape and size.

func stubPrepare(_ context.Context, in experiment.PrepareInput) (experiment.PreparedDataset, error) {
	n := in.Dataset.Name
	return experiment.PreparedDataset{Name: n, Corpus: stubRef("c", n), Topics: stubRef("t", n), Qrels: stubRef("q", n),
		NumDocs: 100, NumTopics: 60, NumJudged: 60, NumRelevant: 600}, nil
}

func stubTranslate(_ context.Context, in experiment.TranslateInput) (experiment.TranslationInfo, error) {
	return experiment.TranslationInfo{Ref: stubRef("x", string(in.Source), in.What), TranslatorID: "http:nllb@http://127.0.0.1:5000",
		Texts: 1000, Calls: 63}, nil
}

func stubIndex(_ context.Context, in experiment.IndexInput) (experiment.IndexInfo, error) {
	return experiment.IndexInfo{Ref: stubRef("i", string(in.Corpus), in.Language), Language: in.Language, NumDocs: 100, AvgDL: 61.5}, nil
}

func stubDense(_ context.Context, in experiment.DenseIndexInput) (experiment.DenseIndexInfo, error) {
	return experiment.DenseIndexInfo{Collection: "clirflow-" + string(stubRef("d", string(in.Corpus), in.Encoder.Name))[7:39],
		Store: "embedded", Dim: 1024, NumDocs: 100, Embed: experiment.EmbedStats{Texts: 100}}, nil
}

func stubSaveRuns(_ context.Context, runs []experiment.RunResult) (artifact.Ref, error) {
	return stubRef("runs", fmt.Sprint(len(runs))), nil
}

// reportInputBytes is the size of the last WriteReport input (JSON).
var reportInputBytes atomic.Int64

func stubReport(_ context.Context, in experiment.ReportInput) (experiment.ReportInfo, error) {
	if b, err := json.Marshal(in); err == nil {
		reportInputBytes.Store(int64(len(b)))
	}
	return experiment.ReportInfo{Dir: "/results/" + in.Experiment.Name, Markdown: "/results/" + in.Experiment.Name + "/report.md",
		HTML: "/results/" + in.Experiment.Name + "/report.html"}, nil
}

func stubEval(metrics []string, parts ...string) experiment.EvalInfo {
	e := experiment.EvalInfo{PerQuery: stubRef(append([]string{"e"}, parts...)...), NumQueries: 60}
	for i, m := range metrics {
		e.Summary = append(e.Summary, experiment.MetricValue{Name: m, Value: 0.123456789 + float64(i)})
	}
	return e
}

func stubRun(_ workflow.Context, in RunInput) (experiment.RunResult, error) {
	return experiment.RunResult{Dataset: in.Dataset.Name, Stage: in.Stage.Name, Kind: in.Stage.Kind,
		Run:  experiment.RunInfo{Ref: stubRef("r", in.Dataset.Name, in.Stage.Name), NumQueries: 60},
		Eval: stubEval(in.Metrics, in.Dataset.Name, in.Stage.Name)}, nil
}

func stubRerankRun(_ workflow.Context, in RerankRunInput) (experiment.RunResult, error) {
	return experiment.RunResult{Dataset: in.Dataset.Name, Stage: in.Name, Kind: in.Reranker.Kind,
		Run:      experiment.RunInfo{Ref: stubRef("rr", in.Dataset.Name, in.Name), NumQueries: 60},
		Eval:     stubEval(in.Metrics, in.Dataset.Name, in.Name),
		Reranker: in.Reranker.Name, FirstStage: in.FirstStage.Stage,
		LLM:   &experiment.CallStats{Calls: 540, PromptTokens: 2_000_000, CompletionTokens: 50_000, Cost: 1.23, LatencyMS: 123456, Repairs: 3},
		Audit: stubRef("a", in.Dataset.Name, in.Name)}, nil
}
