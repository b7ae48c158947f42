// Package e2e runs experiments through a real Temporal dev server (the
// `temporal` CLI binary that `make test` installs into ./bin) and real workers.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/devtest"
	"github.com/clirflow/clirflow/internal/platform"
	"github.com/clirflow/clirflow/workflows"
)

func repoRoot(t testing.TB) string { return devtest.RepoRoot(t) }

func temporalBin(t testing.TB) string { return devtest.Bin(t) }

// devServer is a real Temporal dev server on a free port, configured like
// scripts/devserver.sh.
type devServer struct {
	*testsuite.DevServer
	Address string
}

func startDevServer(t testing.TB, dbFile string) *devServer {
	t.Helper()
	srv := devtest.Start(t, temporalBin(t), dbFile, temporal.NewSearchAttributes(
		workflows.SearchExperiment.ValueSet(""), workflows.SearchDatasets.ValueSet(nil)))
	return &devServer{DevServer: srv, Address: srv.FrontendHostPort()}
}

func dial(t testing.TB, address string) client.Client {
	opts, err := platform.ClientOptions(address, "default")
	require.NoError(t, err)
	c, err := client.Dial(opts)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// startWorker runs a worker in this process on its own task queue.
func startWorker(t testing.TB, c client.Client, store *artifact.FS, queue string) {
	t.Helper()
	require.NoError(t, platform.EnsureSearchAttributes(context.Background(), c, "default"))
	ws, err := platform.NewWorkers(c, store, queue, worker.Options{}, 0)
	require.NoError(t, err)
	require.NoError(t, ws.Start())
	t.Cleanup(ws.Stop)
}

// buildBinary compiles a command of this module into a temp dir.
func buildBinary(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = repoRoot(t)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, string(b))
	return out
}

// demoConfig loads configs/demo.yaml with its paths resolved against the repo
// and the output redirected to a temp dir.
func demoConfig(t testing.TB) config.Experiment {
	root := repoRoot(t)
	e, err := config.Load(filepath.Join(root, "configs", "demo.yaml"), root)
	require.NoError(t, err)
	e.Output = filepath.Join(t.TempDir(), "results")
	require.NoError(t, e.WithDefaults().Validate())
	return e
}

func startExperiment(t testing.TB, c client.Client, queue string, e config.Experiment) client.WorkflowRun {
	t.Helper()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID:        fmt.Sprintf("test-%s-%d", e.Name, time.Now().UnixNano()),
		TaskQueue: queue,
	}, "Experiment", e)
	require.NoError(t, err)
	return run
}

// rawJSON sends a document as the UI's Start Workflow form does: one JSON payload.
func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }

func startOptions(name string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: fmt.Sprintf("test-%s-%d", name, time.Now().UnixNano()), TaskQueue: workflows.TaskQueue}
}

// serverWithWorker starts a dev server and an in-process worker (CPU and LLM
// task queues) over a fresh artifact store.
func serverWithWorker(t testing.TB) (client.Client, *artifact.FS) {
	t.Helper()
	srv := startDevServer(t, "")
	c := dial(t, srv.Address)
	store, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	startWorker(t, c, store, workflows.TaskQueue)
	return c, store
}
