package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/llmtest"
	"github.com/clirflow/clirflow/internal/rerank"
	"github.com/clirflow/clirflow/workflows"
)

// The skeleton is the bar the reranking efficiency is measured against on
// this machine: the same calls (each query's windows, from the candidates
// of the benchmark's own run), the same 32 slots, the same scripted server
// at 100 ms, and the same workflow shape (a parent on the LLM queue, eight
// group children whose queries advance window by window as local
// activities, 2 s workflow tasks) — but nothing of the product: a window
// is one bare HTTP request whose result is padded to a window's marker
// size, with no candidates, prompts, parsing, caches or saved rankings, and
// no activities before or after the windows. What it loses to the ideal is
// what Temporal's workflow and this machine cost this design.

// skelHold and skelN sum the time bare windows hold a slot (the timeline
// prints the mean beside the server's arrival-to-answer time).
var skelHold, skelN atomic.Int64

// skeleton holds the bare window's dependencies.
type skeleton struct {
	hc  *http.Client
	sem chan struct{}
}

// skeletonResultPad makes a bare window's result the size of a listwise
// window's (about 600 bytes of JSON: permutation, answer, stats, hash), so
// that the markers the server stores are as large.
var skeletonResultPad = strings.Repeat("x", 560)

func newSkeleton(slots int) *skeleton {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &skeleton{hc: &http.Client{Transport: tr}, sem: make(chan struct{}, slots)}
}

// Window makes one chat request under a slot and returns the padded answer.
func (s *skeleton) Window(ctx context.Context, url string) (string, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	t0 := time.Now()
	defer func() { <-s.sem; skelHold.Add(int64(time.Since(t0))); skelN.Add(1) }()
	body := []byte(`{"model":"skeleton","messages":[{"role":"user","content":"[1] > [2]"}]}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return skeletonResultPad + string(b[:min(len(b), 40)]), nil
}

// SkeletonInput is the skeleton's one input: the windows of each query.
type SkeletonInput struct {
	URL     string
	Windows []int
}

// skeletonRun starts the queries in groups of workflows.GroupSize children
// on its own queue (the LLM queue), as RerankRun does after its candidates.
func skeletonRun(ctx workflow.Context, in SkeletonInput) error {
	info := workflow.GetInfo(ctx)
	size := workflows.GroupSize(len(in.Windows))
	var fs []workflow.ChildWorkflowFuture
	for lo := 0; lo < len(in.Windows); lo += size {
		hi := min(lo+size, len(in.Windows))
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID: fmt.Sprintf("%s/%d", info.WorkflowExecution.ID, lo), TaskQueue: info.TaskQueueName,
			WorkflowTaskTimeout: 2 * time.Second,
		})
		fs = append(fs, workflow.ExecuteChildWorkflow(cctx, "SkeletonGroup", SkeletonInput{URL: in.URL, Windows: in.Windows[lo:hi]}))
	}
	for _, f := range fs {
		if err := f.Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// skeletonGroup advances its queries from one selector, each query's
// windows in order, as the product's listwise groups do.
func skeletonGroup(ctx workflow.Context, in SkeletonInput) error {
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
	sel := workflow.NewSelector(ctx)
	left := append([]int(nil), in.Windows...)
	pending := 0
	var err error
	var advance func(i int)
	advance = func(i int) {
		if left[i] == 0 {
			return
		}
		left[i]--
		pending++
		sel.AddFuture(workflow.ExecuteLocalActivity(ctx, "SkeletonWindow", in.URL), func(f workflow.Future) {
			pending--
			if e := f.Get(ctx, nil); e != nil {
				err = e
				return
			}
			advance(i)
		})
	}
	for i := range left {
		advance(i)
	}
	for pending > 0 {
		sel.Select(ctx)
	}
	return err
}

// registerSkeleton registers the skeleton on the LLM worker.
func registerSkeleton(w interface {
	RegisterWorkflowWithOptions(any, workflow.RegisterOptions)
	RegisterActivityWithOptions(any, activity.RegisterOptions)
}, slots int) {
	w.RegisterWorkflowWithOptions(skeletonRun, workflow.RegisterOptions{Name: "SkeletonRun"})
	w.RegisterWorkflowWithOptions(skeletonGroup, workflow.RegisterOptions{Name: "SkeletonGroup"})
	w.RegisterActivityWithOptions(newSkeleton(slots).Window, activity.RegisterOptions{Name: "SkeletonWindow"})
}

// rerankWindows returns the number of windows of each query of the
// benchmark's RerankRun, from its PrepareCandidates result.
func rerankWindows(b *testing.B, c client.Client, rerankRunID string, r config.Reranker) []int {
	ctx := context.Background()
	it := c.GetWorkflowHistory(ctx, rerankRunID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(b, err)
		// The candidates come from a local activity (version 1 of
		// "rerank-prepare-local"), before from an activity.
		var result *commonpb.Payloads
		if m := ev.GetMarkerRecordedEventAttributes(); m != nil && m.GetMarkerName() == "LocalActivity" {
			var data struct{ ActivityType string }
			require.NoError(b, converter.GetDefaultDataConverter().FromPayloads(m.GetDetails()["data"], &data))
			if data.ActivityType == "PrepareCandidates" {
				result = m.GetDetails()["result"]
			}
		} else if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil {
			result = a.GetResult()
		}
		if result == nil {
			continue
		}
		var info experiment.CandidatesInfo
		require.NoError(b, converter.GetDefaultDataConverter().FromPayloads(result, &info))
		windows := make([]int, len(info.Counts))
		for i, n := range info.Counts {
			windows[i] = len(rerank.SlidingWindowPasses(n, 0, r.Top, r.Window, r.Stride, r.Passes))
		}
		return windows
	}
	b.Fatalf("no PrepareCandidates result in %s", rerankRunID)
	return nil
}

// skeletonWall runs the skeleton for windows at latency and returns its
// wall time and the requests the server got.
func skeletonWall(b *testing.B, c client.Client, windows []int, latency time.Duration) (time.Duration, int) {
	llm := llmtest.NewServer(llmtest.ServerOptions{Latency: latency})
	defer llm.Close()
	ctx := context.Background()
	opts := startOptions("skeleton")
	opts.TaskQueue = workflows.TaskQueue + workflows.LLMQueueSuffix
	run, err := c.ExecuteWorkflow(ctx, opts, "SkeletonRun", SkeletonInput{URL: llm.URL(), Windows: windows})
	require.NoError(b, err)
	require.NoError(b, run.Get(ctx, nil))
	d, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	require.NoError(b, err)
	info := d.GetWorkflowExecutionInfo()
	if tl := os.Getenv("CLIRFLOW_BENCH_TIMELINE"); tl != "" {
		f, err := os.Create(tl + "-skeleton.txt")
		require.NoError(b, err)
		defer f.Close()
		t0 := info.GetStartTime().AsTime()
		it := c.GetWorkflowHistory(ctx, run.GetID(), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(b, err)
			fmt.Fprintf(f, "%8.3fs %s\n", ev.GetEventTime().AsTime().Sub(t0).Seconds(), ev.GetEventType())
		}
		first, last, held := requestSpan(llm)
		fmt.Fprintf(f, "slot hold %.2f ms\n", float64(skelHold.Load())/float64(skelN.Load())/1e6)
		fmt.Fprintf(f, "requests from %.3fs to %.3fs, arrival to answer %.2f ms on average\n", first.Sub(t0).Seconds(), last.Sub(t0).Seconds(), float64(held)/1e6)
		printCapacityLost(f, chatLog(llm))
	}
	return info.GetCloseTime().AsTime().Sub(info.GetStartTime().AsTime()), llm.ChatRequests()
}
