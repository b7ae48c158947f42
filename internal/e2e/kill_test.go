package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/workflows"
)

// A worker process killed with SIGKILL in the middle of the demo, then
// started again, finishes the experiment with the recorded scores.
func TestWorkerSIGKILLDuringDemo(t *testing.T) {
	srv := startDevServer(t, "")
	c := dial(t, srv.Address)
	bin := buildBinary(t, "worker")
	artifacts := t.TempDir()
	logDir := t.TempDir()

	startProc := func(n int) *exec.Cmd {
		log, err := os.Create(filepath.Join(logDir, "worker"+string(rune('0'+n))+".log"))
		require.NoError(t, err)
		cmd := exec.Command(bin, "-address", srv.Address, "-artifacts", artifacts)
		cmd.Stdout, cmd.Stderr = log, log
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
		return cmd
	}

	exp := demoConfig(t)
	w1 := startProc(1)
	run := startExperiment(t, c, workflows.TaskQueue, exp)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Kill as soon as the first stage has completed and more work is pending.
	var p workflows.Progress
	require.Eventually(t, func() bool {
		v, err := c.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.ProgressQuery)
		return err == nil && v.Get(&p) == nil && p.Done >= 1
	}, time.Minute, 20*time.Millisecond)
	require.NoError(t, w1.Process.Signal(syscall.SIGKILL))
	_, _ = w1.Process.Wait()
	t.Logf("killed worker at progress %d/%d (%s)", p.Done, p.Total, p.Current)
	require.Less(t, p.Done, p.Total, "the kill must land before the end")

	startProc(2)
	var res workflows.ExperimentResult
	require.NoError(t, run.Get(ctx, &res))
	require.Empty(t, res.Report.Drift)
	require.Empty(t, experiment.CheckExpected(exp.WithDefaults(), res.Runs))
	for p := range tempFiles(t, artifacts) {
		// A write killed mid-way may leave a temp file; it is never under objects/.
		t.Logf("left in tmp/: %s", p)
	}
}
