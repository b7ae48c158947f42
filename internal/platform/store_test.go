package platform

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/clirflow/clirflow/internal/artifact"
)

func TestOpenStore(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "artifacts")
	s, err := OpenStore(ctx, dir, "")
	require.NoError(t, err)
	require.IsType(t, &artifact.FS{}, s)
	require.Equal(t, dir, s.Root())
	_, ok := s.(Cleaner)
	require.True(t, ok)

	_, err = OpenStore(ctx, "s3://", "")
	require.ErrorContains(t, err, "s3://BUCKET")
	// An unreachable endpoint fails at open, not at the first activity.
	t.Setenv(EnvS3Endpoint, "http://127.0.0.1:1")
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	t.Setenv("AWS_REGION", "us-east-1")
	_, err = OpenStore(ctx, "s3://bucket/prefix", t.TempDir())
	require.ErrorContains(t, err, "s3://bucket/prefix")
}

func TestCacheDir(t *testing.T) {
	t.Chdir(t.TempDir())
	got, err := CacheDir("", "artifacts")
	require.NoError(t, err)
	require.Equal(t, "artifacts", filepath.Base(got), "a directory store keeps its caches beside the artifacts")
	got, err = CacheDir("", "s3://bucket/x")
	require.NoError(t, err)
	require.Equal(t, filepath.Join(filepath.Dir(got), "cache"), got)
	require.DirExists(t, got)
	mine := filepath.Join(t.TempDir(), "c")
	got, err = CacheDir(mine, "s3://bucket/x")
	require.NoError(t, err)
	require.Equal(t, mine, got)
	require.DirExists(t, mine)
}

func TestQueues(t *testing.T) {
	for in, want := range map[string]Queues{"": QueuesBoth, "both": QueuesBoth, "cpu": QueuesCPU, "llm": QueuesLLM} {
		q, err := ParseQueues(in)
		require.NoError(t, err)
		require.Equal(t, want, q)
	}
	_, err := ParseQueues("gpu")
	require.Error(t, err)
	require.Equal(t, []string{"q", "q-llm"}, QueuesBoth.Names("q"))
	require.Equal(t, []string{"q"}, QueuesCPU.Names("q"))
	require.Equal(t, []string{"q-llm"}, QueuesLLM.Names("q"))

	// The workers built for each choice (no server is contacted until Start).
	c, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	require.NoError(t, err)
	defer c.Close()
	store, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	for q, n := range map[Queues]int{QueuesBoth: 2, QueuesCPU: 1, QueuesLLM: 1} {
		ws, err := NewWorkersWithStore(c, store, t.TempDir(), "q", worker.Options{}, 1, q)
		require.NoError(t, err)
		require.Len(t, ws, n, q)
	}
}

// gzip costs CPU on both ends and saves nothing on loopback.
func TestGRPCCompression(t *testing.T) {
	for _, c := range []struct {
		hostPort, setting string
		gzip              bool
	}{
		{"localhost:7233", "", false},
		{"127.0.0.1:7233", "", false},
		{"[::1]:7233", "", false},
		{"temporal.example.org:7233", "", true},
		{"10.0.0.5:7233", "", true},
		{"localhost:7233", "gzip", true},
		{"temporal.example.org:7233", "none", false},
	} {
		comp, err := GRPCCompression(c.hostPort, c.setting)
		require.NoError(t, err)
		_, isGzip := comp.(*client.GrpcCompressionGzip)
		require.Equal(t, c.gzip, isGzip, "%s %q", c.hostPort, c.setting)
	}
	_, err := GRPCCompression("localhost:7233", "zstd")
	require.ErrorContains(t, err, "CLIRFLOW_TEMPORAL_COMPRESSION=\"zstd\": want gzip or none")
}
