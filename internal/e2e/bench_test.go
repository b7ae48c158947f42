package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/llmtest"
	"github.com/clirflow/clirflow/internal/platform"
	"github.com/clirflow/clirflow/workflows"
)

// The reranking benchmarks (make bench-rerank): listwise top-100 reranking
// of the 200 Spanish demo queries (1 to 9 sequential windows per query, 1,202
// calls; queries in parallel, 32 LLM calls in flight) against the scripted
// server.
//
//   - efficiency: wall time of the rerank ÷ (calls × stub latency ÷ 32) at a
//     100 ms stub; 1.0 would be a perfectly packed pipeline (target ≤ 1.10);
//   - overhead: wall time per call at a 0 ms stub ÷ wall time per activity of
//     a bare no-op workflow of the same shape (200 children × 9 sequential
//     no-op activities, same concurrency) on the same server in the same run
//     (target ≤ 1.5); windows are local activities, so the same ratio against
//     no-op local activities is reported too (overhead-ratio-local);
//   - re-run: LLM calls when the experiment is started again (target 0);
//   - llm-phase-ratio: the efficiency ratio from the first LLM request to the
//     last answer (a breakdown, not the target's measure);
//   - skeleton-ratio: the efficiency of a bare workflow of the same shape
//     making the same calls (skeleton_bench_test.go): the bar that Temporal
//     and this machine set, measured in the same run.
//
// CLIRFLOW_BENCH_TIMELINE=PREFIX writes PREFIX-100ms.txt and PREFIX-0ms.txt:
// the CPU used by this process and by the dev server during each
// experiment, the LLM slots left unused (capacityLost), the RerankRun's
// history events with their times, and each query group's workflow tasks;
// PREFIX-skeleton.txt the bare workflow's events and unused slots. CLIRFLOW_BENCH_CPUPROFILE=FILE writes a CPU profile of this
// process during the 100 ms experiment.
func BenchmarkRerank(b *testing.B) {
	// The workers run in this process, with bin/worker's runtime settings.
	before, _ := platform.RaiseProcs(platform.QueuesBoth)
	defer runtime.GOMAXPROCS(before)
	for i := 0; i < b.N; i++ {
		exp := demoConfig(b)
		rel, _ := relevanceFromQrels(b, exp.Datasets[0])
		srv := startDevServer(b, "")
		c := dial(b, srv.Address)
		store, err := artifact.NewFS(b.TempDir())
		require.NoError(b, err)
		ws, err := platform.NewWorkers(c, store, workflows.TaskQueue, worker.Options{}, 32)
		require.NoError(b, err)
		ws[0].RegisterWorkflowWithOptions(noopQuery, workflow.RegisterOptions{Name: "NoopQuery"})
		ws[0].RegisterWorkflowWithOptions(noopRun, workflow.RegisterOptions{Name: "NoopRun"})
		ws[1].RegisterActivityWithOptions(noopActivity, activity.RegisterOptions{Name: "Noop"})
		ws[1].RegisterWorkflowWithOptions(noopLocalQuery, workflow.RegisterOptions{Name: "NoopLocalQuery"})
		require.NoError(b, platform.EnsureSearchAttributes(context.Background(), c, "default"))
		registerSkeleton(ws[1], 32)
		require.NoError(b, ws.Start())

		wall100, calls100, phase100, runID := rerankWall(b, c, rel, 100*time.Millisecond)
		ideal := time.Duration(calls100) * 100 * time.Millisecond / 32
		b.ReportMetric(float64(wall100)/float64(ideal), "efficiency-ratio")
		b.ReportMetric(float64(calls100), "calls")
		// The bar on this machine: the same calls through a bare workflow of
		// the same shape (skeleton_bench_test.go).
		windows := rerankWindows(b, c, runID, rerankExperiment(b, "http://127.0.0.1:1/v1").WithDefaults().Rerankers[0])
		skel, skelCalls := skeletonWall(b, c, windows, 100*time.Millisecond)
		// It makes a few calls more: windows whose prompt repeats another's
		// are answered by the product's response cache.
		require.InDelta(b, calls100, skelCalls, float64(calls100)/50, "the skeleton makes the benchmark's calls")
		b.ReportMetric(float64(skel)/float64(time.Duration(skelCalls)*100*time.Millisecond/32), "skeleton-ratio")
		// The same from the first LLM request to the last answer: what the
		// windows cost, without preparing the candidates before them and
		// assembling and evaluating the run after.
		b.ReportMetric(float64(phase100)/float64(ideal), "llm-phase-ratio")

		wall0, calls0, _, _ := rerankWall(b, c, rel, 0)
		noop := noopWall(b, c, "NoopQuery", "")
		noopLocal := noopWall(b, c, "NoopLocalQuery", workflows.TaskQueue+workflows.LLMQueueSuffix)
		perCall := float64(wall0) / float64(calls0)
		perNoop := float64(noop) / float64(200*9)
		perNoopLocal := float64(noopLocal) / float64(200*9)
		b.ReportMetric(perCall/perNoop, "overhead-ratio")
		b.ReportMetric(perCall/perNoopLocal, "overhead-ratio-local")
		b.ReportMetric(perCall/1e6, "ms/call@0ms")
		b.ReportMetric(perNoop/1e6, "ms/noop")
		b.ReportMetric(perNoopLocal/1e6, "ms/noop-local")

		// Re-run against the same store: nothing asked.
		_, again, _, _ := rerankWall(b, c, rel, 0)
		b.ReportMetric(float64(again), "rerun-calls")
		ws.Stop()
	}
}

// BenchmarkRerankWorkerRSS reports the peak RSS of a worker process
// (bin/worker as deployed, -llm-concurrency 32; the scripted server and this
// client run in the benchmark's process) reranking 100 queries of the
// Spanish demo concurrently: BM25 over its 2,228 documents, then a listwise
// reranker over each query's top 100, 100 ms answers. worker-peak-MB is its
// VmHWM at the end (first stage included), worker-start-MB its RSS when the
// experiment starts.
func BenchmarkRerankWorkerRSS(b *testing.B) {
	for i := 0; i < b.N; i++ {
		srv := startDevServer(b, "")
		c := dial(b, srv.Address)
		require.NoError(b, platform.EnsureSearchAttributes(context.Background(), c, "default"))
		log, err := os.Create(filepath.Join(b.TempDir(), "worker.log"))
		require.NoError(b, err)
		cmd := exec.Command(buildBinary(b, "worker"), "-address", srv.Address, "-artifacts", b.TempDir(), "-llm-concurrency", "32")
		cmd.Stdout, cmd.Stderr = log, log
		require.NoError(b, cmd.Start())
		b.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait(); log.Close() })
		pid := strconv.Itoa(cmd.Process.Pid)

		exp := demoConfig(b)
		rel, _ := relevanceFromQrels(b, exp.Datasets[0])
		llm := llmtest.NewServer(llmtest.ServerOptions{Answerer: llmtest.ListwiseByRelevance(rel), Latency: 100 * time.Millisecond})
		defer llm.Close()
		exp = rerankExperiment(b, llm.URL())
		const queries = 100
		exp.Datasets[0] = cutDataset(b, exp.Datasets[0], 0, queries, 1<<30, 1)
		require.NoError(b, exp.WithDefaults().Validate())
		// The worker has started when it has polled (its RSS is then that of
		// a connected, idle worker).
		require.Eventually(b, func() bool {
			d, err := c.DescribeTaskQueue(context.Background(), workflows.TaskQueue+workflows.LLMQueueSuffix, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
			return err == nil && len(d.GetPollers()) > 0
		}, time.Minute, 50*time.Millisecond)
		startRSS := procStatusMB(b, pid, "VmRSS")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		var res workflows.ExperimentResult
		require.NoError(b, startExperiment(b, c, workflows.TaskQueue, exp).Get(ctx, &res))
		require.Len(b, res.Runs, 2)
		require.Equal(b, queries, res.Runs[1].Run.NumQueries)
		b.ReportMetric(procStatusMB(b, pid, "VmHWM"), "worker-peak-MB")
		b.ReportMetric(startRSS, "worker-start-MB")
		b.ReportMetric(queries, "queries")
		b.ReportMetric(float64(llm.ChatRequests()), "calls")
		b.ReportMetric(float64(llm.Stats().MaxConcurrent), "max-in-flight")
	}
}

// rerankWall runs the rerank experiment and returns the RerankRun child's
// wall time (first stage excluded) and the HTTP requests the server got.
func rerankWall(b *testing.B, c client.Client, rel llmtest.Relevance, latency time.Duration) (wall time.Duration, calls int, llmPhase time.Duration, rerankRunID string) {
	llm := llmtest.NewServer(llmtest.ServerOptions{Answerer: llmtest.ListwiseByRelevance(rel), Latency: latency})
	defer llm.Close()
	// Each latency is its own model name, so its first run pays every call;
	// a second run with the same model is answered from the response cache.
	exp := rerankExperiment(b, llm.URL())
	exp.Endpoints[0].Model = fmt.Sprintf("llmtest-%d", latency.Milliseconds())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	selfCPU0, kidsCPU0 := cpuTimes()
	// Requests in flight at the scripted server, sampled every 10 ms.
	var inflight []int
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
				inflight = append(inflight, llm.Stats().InFlight)
			}
		}
	}()
	if pf := os.Getenv("CLIRFLOW_BENCH_CPUPROFILE"); pf != "" && latency > 0 {
		f, err := os.Create(pf)
		require.NoError(b, err)
		require.NoError(b, pprof.StartCPUProfile(f))
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	run := startExperiment(b, c, workflows.TaskQueue, exp)
	var res workflows.ExperimentResult
	require.NoError(b, run.Get(ctx, &res))
	selfCPU1, kidsCPU1 := cpuTimes()
	close(stopSampling)
	<-sampled
	child := run.GetID() + "/ddtp-es/bm25-og+rankgpt"
	d, err := c.DescribeWorkflowExecution(ctx, child, "")
	require.NoError(b, err)
	info := d.GetWorkflowExecutionInfo()
	// The LLM phase: from the first request's arrival to the last answer.
	firstReq, lastReq, held := requestSpan(llm)
	if tl := os.Getenv("CLIRFLOW_BENCH_TIMELINE"); tl != "" {
		f, err := os.Create(fmt.Sprintf("%s-%dms.txt", tl, latency.Milliseconds()))
		require.NoError(b, err)
		defer f.Close()
		fmt.Fprintf(f, "CPU during the experiment: this process %.2fs, the dev server %.2fs\n", selfCPU1-selfCPU0, kidsCPU1-kidsCPU0)
		fmt.Fprintf(f, "requests in flight, mean per 250 ms from the experiment's start:")
		for i := 0; i < len(inflight); i += 25 {
			sum, n := 0, 0
			for _, v := range inflight[i:min(i+25, len(inflight))] {
				sum += v
				n++
			}
			fmt.Fprintf(f, " %.1f", float64(sum)/float64(n))
		}
		fmt.Fprintln(f)
		t0 := info.GetStartTime().AsTime()
		fmt.Fprintf(f, "requests from %.3fs (first arrival) to %.3fs (last answer) of the RerankRun, arrival to answer %.2f ms on average\n", firstReq.Sub(t0).Seconds(), lastReq.Sub(t0).Seconds(), float64(held)/1e6)
		printCapacityLost(f, chatLog(llm))
		// The ramp: when the first 48 requests arrived.
		var starts []float64
		for _, e := range chatLog(llm) {
			starts = append(starts, e.Start.Sub(t0).Seconds())
		}
		sort.Float64s(starts)
		fmt.Fprintf(f, "first arrivals:")
		for _, s := range starts[:min(48, len(starts))] {
			fmt.Fprintf(f, " %.3f", s)
		}
		fmt.Fprintln(f)
		it := c.GetWorkflowHistory(ctx, child, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var groups []string
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(b, err)
			fmt.Fprintf(f, "%8.3fs %s\n", ev.GetEventTime().AsTime().Sub(t0).Seconds(), ev.GetEventType())
			if a := ev.GetStartChildWorkflowExecutionInitiatedEventAttributes(); a != nil {
				groups = append(groups, a.GetWorkflowId())
			}
		}
		// Each group's workflow tasks and its last local activity's marker.
		for _, g := range groups {
			fmt.Fprintf(f, "group %s:", g)
			it := c.GetWorkflowHistory(ctx, g, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			var lastMarker float64
			for it.HasNext() {
				ev, err := it.Next()
				require.NoError(b, err)
				at := ev.GetEventTime().AsTime().Sub(t0).Seconds()
				if ev.GetEventType() == enumspb.EVENT_TYPE_MARKER_RECORDED {
					lastMarker = at
					continue
				}
				fmt.Fprintf(f, " %.3f %s;", at, strings.TrimPrefix(ev.GetEventType().String(), "EVENT_TYPE_"))
			}
			fmt.Fprintf(f, " last marker %.3f\n", lastMarker)
		}
	}
	b.Logf("latency %v: %d requests, max %d in flight", latency, llm.ChatRequests(), llm.Stats().MaxConcurrent)
	return info.GetCloseTime().AsTime().Sub(info.GetStartTime().AsTime()), llm.ChatRequests(), lastReq.Sub(firstReq), child
}

// requestSpan returns the first request's arrival, the last answer and the
// mean time from a request's arrival to its answer at the scripted server.
func requestSpan(llm *llmtest.Server) (first, last time.Time, meanHeld time.Duration) {
	log := chatLog(llm)
	var held time.Duration
	for _, e := range log {
		held += e.Answered.Sub(e.Start)
		if first.IsZero() || e.Start.Before(first) {
			first = e.Start
		}
		if e.Answered.After(last) {
			last = e.Answered
		}
	}
	return first, last, held / time.Duration(max(len(log), 1))
}

func noopActivity(ctx context.Context) error { return nil }

func noopQuery(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: workflow.GetInfo(ctx).TaskQueueName + workflows.LLMQueueSuffix, StartToCloseTimeout: time.Minute,
	})
	for i := 0; i < 9; i++ {
		if err := workflow.ExecuteActivity(ctx, "Noop").Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// noopLocalQuery is noopQuery with local activities, run where RerankQuery
// runs (the LLM queue).
func noopLocalQuery(ctx workflow.Context) error {
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
	for i := 0; i < 9; i++ {
		if err := workflow.ExecuteLocalActivity(ctx, noopActivity).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// noopRun starts 200 children of the given workflow type on queue ("" = its own).
func noopRun(ctx workflow.Context, child, queue string) error {
	parent := workflow.GetInfo(ctx).WorkflowExecution.ID
	fs := make([]workflow.ChildWorkflowFuture, 200)
	for i := range fs {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: fmt.Sprintf("%s/%d", parent, i), TaskQueue: queue})
		fs[i] = workflow.ExecuteChildWorkflow(cctx, child)
	}
	for _, f := range fs {
		if err := f.Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func noopWall(b *testing.B, c client.Client, child, queue string) time.Duration {
	ctx := context.Background()
	run, err := c.ExecuteWorkflow(ctx, startOptions("noop-"+child), "NoopRun", child, queue)
	require.NoError(b, err)
	require.NoError(b, run.Get(ctx, nil))
	d, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	require.NoError(b, err)
	info := d.GetWorkflowExecutionInfo()
	return info.GetCloseTime().AsTime().Sub(info.GetStartTime().AsTime())
}

// cpuTimes returns the CPU seconds (user+system) of this process and of its
// child processes (the dev server), from /proc.
func cpuTimes() (self, kids float64) {
	stat := func(pid string) (ppid int, cpu float64, ok bool) {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return 0, 0, false
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) < 13 {
			return 0, 0, false
		}
		ppid, _ = strconv.Atoi(f[1])
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		return ppid, (ut + st) / 100, true
	}
	_, self, _ = stat(strconv.Itoa(os.Getpid()))
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if ppid, cpu, ok := stat(e.Name()); ok && ppid == os.Getpid() {
			kids += cpu
		}
	}
	return self, kids
}

// capacityLost splits what the requests in log left of 32 slots unused
// (in seconds of all 32) into the ramp (from the first arrival until 31
// are in flight), the steady middle (until 31 are in flight for the last
// time) and the tail (to the last answer); with each part's length.
func capacityLost(log []llmtest.LogEntry) (ramp, steady, tail, rampLen, steadyLen, tailLen float64) {
	type change struct {
		t time.Time
		d int
	}
	var cs []change
	for _, e := range log {
		cs = append(cs, change{e.Start, 1}, change{e.Answered, -1})
	}
	if len(cs) == 0 {
		return
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].t.Before(cs[j].t) })
	first, last := cs[0].t, cs[len(cs)-1].t
	full, lastFull := first, first
	n := 0
	for _, c := range cs {
		if n += c.d; n >= 31 {
			if full == first {
				full = c.t
			}
			lastFull = c.t
		}
	}
	// lost integrates 32 minus the requests in flight over [a, z).
	lost := func(a, z time.Time) float64 {
		n, sum, prev := 0, 0.0, a
		for _, c := range cs {
			if c.t.After(z) {
				break
			}
			if c.t.After(a) {
				sum += float64(32-n) * c.t.Sub(prev).Seconds()
				prev = c.t
			}
			n += c.d
		}
		return sum / 32
	}
	return lost(first, full), lost(full, lastFull), lost(lastFull, last),
		full.Sub(first).Seconds(), lastFull.Sub(full).Seconds(), last.Sub(lastFull).Seconds()
}

func printCapacityLost(w io.Writer, log []llmtest.LogEntry) {
	r, s, t, rl, sl, tl := capacityLost(log)
	fmt.Fprintf(w, "slots unused, in seconds of all 32: %.3f ramp (%.3fs), %.3f steady (%.3fs), %.3f tail (%.3fs)\n", r, rl, s, sl, t, tl)
}
