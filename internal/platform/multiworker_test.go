package platform

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/devtest"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/workflows"
)

// Several machines, simulated by several worker processes: two workers share
// one artifact store — an S3-compatible bucket when CLIRFLOW_TEST_S3_ENDPOINT
// names a server (see internal/artifact/s3_test.go), else one directory — each
// with its own local cache directory, and a third polls only the LLM queue.
// The demo's BM25 stages (without translation) run to completion on a real
// Temporal dev server with the expected scores of configs/demo.yaml; the
// workflow histories show that both workers ran activities, and that the
// LLM-only worker ran none of the CPU queue's.
func TestMultiWorkerSharedStore(t *testing.T) {
	root := repoRoot(t)
	bin := devtest.Bin(t)
	srv := startDevServer(t, bin)
	worker := buildWorker(t, root)

	location, env := sharedStore(t)
	logDir := t.TempDir()
	caches := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	start := func(i int, args ...string) *exec.Cmd {
		log, err := os.Create(filepath.Join(logDir, fmt.Sprintf("worker%d.log", i)))
		require.NoError(t, err)
		cmd := exec.Command(worker, append([]string{"-address", srv.FrontendHostPort(), "-artifacts", location, "-cache-dir", caches[i]}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout, cmd.Stderr = log, log
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_, _ = cmd.Process.Wait()
			if t.Failed() {
				b, _ := os.ReadFile(log.Name())
				t.Logf("worker %d log:\n%s", i, b)
			}
		})
		return cmd
	}
	procs := []*exec.Cmd{start(0), start(1), start(2, "-queues", "llm")}
	identity := func(i int) string { return strconv.Itoa(procs[i].Process.Pid) + "@" }

	c := dialTest(t, srv.FrontendHostPort())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Both workers poll the CPU queue before the experiment starts, so neither
	// takes every task by being first; the LLM-only worker polls only -llm.
	cpuQueue, llmQueue := workflows.TaskQueue, workflows.TaskQueue+workflows.LLMQueueSuffix
	require.Eventually(t, func() bool {
		wf, act, llm := pollers(ctx, c, cpuQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW), pollers(ctx, c, cpuQueue, enumspb.TASK_QUEUE_TYPE_ACTIVITY), pollers(ctx, c, llmQueue, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
		return hasAll(wf, identity(0), identity(1)) && hasAll(act, identity(0), identity(1)) && hasAll(llm, identity(0), identity(1), identity(2))
	}, time.Minute, 100*time.Millisecond, "workers did not all poll")
	for _, typ := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
		require.False(t, hasAll(pollers(ctx, c, cpuQueue, typ), identity(2)), "-queues llm polls the CPU queue")
	}

	exp := demoBM25(t, root)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: fmt.Sprintf("multiworker-%d", time.Now().UnixNano()), TaskQueue: cpuQueue,
	}, "Experiment", exp)
	require.NoError(t, err)
	var res workflows.ExperimentResult
	require.NoError(t, run.Get(ctx, &res))

	require.Len(t, res.Runs, 2)
	require.Len(t, exp.Expected, 8, "the BM25 OG rows of configs/demo.yaml")
	require.Empty(t, experiment.CheckExpected(exp.WithDefaults(), res.Runs))
	require.Empty(t, res.Report.Drift)
	require.FileExists(t, filepath.Join(res.Report.Dir, "report.md"))

	// Who ran what, from the histories of the experiment and its children.
	ran := activitiesByIdentity(t, c, run.GetID(), run.GetRunID())
	count := func(i int) (n int, types []string) {
		for id, ts := range ran {
			if strings.HasPrefix(id, identity(i)) {
				n += len(ts)
				types = append(types, ts...)
			}
		}
		return n, types
	}
	for i := range 2 {
		n, types := count(i)
		t.Logf("worker %d (pid %d) ran %d activities: %v", i, procs[i].Process.Pid, n, types)
		require.Positive(t, n, "worker %d ran no activity", i)
	}
	n, types := count(2)
	require.Zero(t, n, "the LLM-only worker ran CPU activities %v", types)

	// The results are in the shared store, which any machine can open: each
	// run and its evaluation, read back through a store of its own.
	store, err := openStoreForTest(t, location, env)
	require.NoError(t, err)
	for _, r := range res.Runs {
		require.True(t, artifact.AllExist(ctx, store, r.Run.Ref, r.Eval.PerQuery), r.Name())
	}
	// The report was written by whichever worker ran WriteReport, on its own
	// disk; `starter report` rebuilds it anywhere from the store.
	in, ok, err := experiment.LoadReportInput(ctx, store, exp.Name)
	require.NoError(t, err)
	require.True(t, ok, "the report input is in the shared store")
	in.Experiment.Output = filepath.Join(t.TempDir(), "again")
	again, err := experiment.RenderReport(ctx, store, in)
	require.NoError(t, err)
	require.Empty(t, again.Drift)
	require.FileExists(t, filepath.Join(again.Dir, "report.md"))
	// The caches are local: no worker wrote a store layout into its cache
	// directory, and a directory store holds no caches.
	for _, dir := range caches {
		require.NoDirExists(t, filepath.Join(dir, "objects"))
		require.NoDirExists(t, filepath.Join(dir, "memo"))
	}
	if !artifact.IsS3URL(location) {
		require.NoDirExists(t, filepath.Join(location, "translations"))
		require.NoDirExists(t, filepath.Join(location, "vectors"))
	}
}

// sharedStore is an s3:// location on the test's S3 server (with the
// environment workers need to reach it) or, without one, a directory.
func sharedStore(t *testing.T) (string, []string) {
	endpoint := os.Getenv("CLIRFLOW_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Log("shared store: one directory (set CLIRFLOW_TEST_S3_ENDPOINT to share an S3 bucket)")
		return t.TempDir(), nil
	}
	bucket := os.Getenv("CLIRFLOW_TEST_S3_BUCKET")
	if bucket == "" {
		bucket = "clirflow-test"
	}
	prefix := fmt.Sprintf("multiworker/%d", time.Now().UnixNano())
	// Create the bucket if needed (the worker expects it to exist).
	_, err := artifact.NewS3(context.Background(), artifact.S3Config{
		Endpoint: endpoint, Bucket: bucket, Prefix: prefix, PathStyle: true, CreateBucket: true,
		AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"), SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		Region: os.Getenv("AWS_REGION"), TmpDir: t.TempDir(),
	})
	require.NoError(t, err)
	location := "s3://" + bucket + "/" + prefix
	t.Logf("shared store: %s at %s", location, endpoint)
	return location, []string{EnvS3Endpoint + "=" + endpoint, EnvS3PathStyle + "=1"}
}

// openStoreForTest opens location with env applied, as a worker would.
func openStoreForTest(t *testing.T, location string, env []string) (artifact.Store, error) {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return OpenStore(context.Background(), location, t.TempDir())
}

// demoBM25 is configs/demo.yaml cut to BM25 without translation (no
// translator needed, and quick), with its expected rows for those runs.
func demoBM25(t *testing.T, root string) config.Experiment {
	e, err := config.Load(filepath.Join(root, "configs", "demo.yaml"), root)
	require.NoError(t, err)
	e.Name = "demo-multiworker"
	e.Output = filepath.Join(t.TempDir(), "results")
	e.Translators = nil
	e.Study = config.Study{}
	e.FirstStages = slices.DeleteFunc(e.FirstStages, func(s config.FirstStage) bool { return s.Name != "bm25-og" })
	require.Len(t, e.FirstStages, 1)
	e.Expected = slices.DeleteFunc(e.Expected, func(x config.Expectation) bool { return !strings.HasSuffix(x.Run, "/bm25-og") })
	require.NoError(t, e.WithDefaults().Validate())
	return e
}

func pollers(ctx context.Context, c client.Client, queue string, typ enumspb.TaskQueueType) []string {
	resp, err := c.DescribeTaskQueue(ctx, queue, typ)
	if err != nil {
		return nil
	}
	var out []string
	for _, p := range resp.GetPollers() {
		out = append(out, p.GetIdentity())
	}
	return out
}

func hasAll(identities []string, prefixes ...string) bool {
	for _, p := range prefixes {
		if !slices.ContainsFunc(identities, func(id string) bool { return strings.HasPrefix(id, p) }) {
			return false
		}
	}
	return true
}

// activitiesByIdentity maps each worker identity to the activity types it
// started, over a workflow and its child workflows.
func activitiesByIdentity(t *testing.T, c client.Client, id, runID string) map[string][]string {
	out := map[string][]string{}
	var walk func(id, runID string)
	walk = func(id, runID string) {
		scheduled := map[int64]string{}
		it := c.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var children []*commonpb.WorkflowExecution
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
				scheduled[ev.GetEventId()] = a.GetActivityType().GetName()
			}
			if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
				out[a.GetIdentity()] = append(out[a.GetIdentity()], scheduled[a.GetScheduledEventId()])
			}
			if a := ev.GetChildWorkflowExecutionStartedEventAttributes(); a != nil {
				children = append(children, a.GetWorkflowExecution())
			}
		}
		for _, ch := range children {
			walk(ch.GetWorkflowId(), ch.GetRunId())
		}
	}
	walk(id, runID)
	return out
}

func repoRoot(t *testing.T) string { return devtest.RepoRoot(t) }

func startDevServer(t *testing.T, bin string) *testsuite.DevServer {
	return devtest.Start(t, bin, "", temporal.NewSearchAttributes(
		workflows.SearchExperiment.ValueSet(""), workflows.SearchDatasets.ValueSet(nil)))
}

func dialTest(t *testing.T, address string) client.Client {
	opts, err := ClientOptions(address, "default")
	require.NoError(t, err)
	c, err := client.Dial(opts)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func buildWorker(t *testing.T, root string) string {
	out := filepath.Join(t.TempDir(), "worker")
	cmd := exec.Command("go", "build", "-o", out, "./worker")
	cmd.Dir = root
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, string(b))
	return out
}
