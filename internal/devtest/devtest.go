// Package devtest starts real Temporal dev servers for tests, configured as
// scripts/devserver.sh configures the user's: clirflow's search attributes
// and one task-queue partition (on 2 cores about 10x the activity throughput
// of the default four).
package devtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// RepoRoot is the directory of the go.mod above the working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Bin is the Temporal CLI that `make test` installs: $CLIRFLOW_TEMPORAL_BIN,
// else bin/temporal of the repository. Without it a test is skipped, or
// fails under CI.
func Bin(t testing.TB) string {
	t.Helper()
	p := os.Getenv("CLIRFLOW_TEMPORAL_BIN")
	if p == "" {
		p = filepath.Join(RepoRoot(t), "bin", "temporal")
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Temporal CLI not found at %s (make test installs it)", p)
		}
		t.Skipf("Temporal CLI not found at %s: run `make test`, which installs it", p)
	}
	return p
}

// Start runs a dev server of bin on a free port (state in dbFile, "" for
// memory) with the given search attributes, logs in the test's temp dir,
// stopped when the test ends.
func Start(t testing.TB, bin, dbFile string, attrs temporal.SearchAttributes) *testsuite.DevServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logs, err := os.Create(filepath.Join(t.TempDir(), "temporal.log"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     bin,
		DBFilename:       dbFile,
		LogLevel:         "warn",
		SearchAttributes: attrs,
		ExtraArgs: []string{
			"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
			"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
		},
		Stdout: logs, Stderr: logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}
