package platform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/workflows"
)

// Environment of the artifact store and of a worker's local caches.
const (
	// EnvS3Endpoint is the S3-compatible server (host:port or URL) of an
	// s3:// artifact store; empty means AWS S3.
	EnvS3Endpoint = "CLIRFLOW_S3_ENDPOINT"
	// EnvS3Insecure=1 talks plain http to an endpoint given without scheme.
	EnvS3Insecure = "CLIRFLOW_S3_INSECURE"
	// EnvS3Region is the bucket's region (default AWS_REGION, else asked of
	// the server).
	EnvS3Region = "CLIRFLOW_S3_REGION"
	// EnvS3PathStyle=1 forces path-style requests.
	EnvS3PathStyle = "CLIRFLOW_S3_PATH_STYLE"
	// EnvCacheDir is where a worker keeps its local caches: translations/,
	// llm-cache/, embed-cache/ and the embedded vector store vectors/.
	EnvCacheDir = "CLIRFLOW_CACHE_DIR"
	// EnvQueues is the worker's -queues default.
	EnvQueues = "CLIRFLOW_QUEUES"
	// DefaultS3CacheDir is the cache directory of a worker on an S3 store
	// (a directory store keeps its caches beside the artifacts, as always).
	DefaultS3CacheDir = ".clirflow/cache"
)

// Cleaner is implemented by stores that leave local temporary files behind
// when a process is killed mid-write.
type Cleaner interface {
	CleanTmp(age time.Duration) (int, error)
}

// OpenStore opens the artifact store at location: s3://BUCKET[/PREFIX] (an
// S3-compatible bucket, configured by CLIRFLOW_S3_* and the standard AWS_*
// credential variables) or a directory. tmpDir buffers S3 uploads in progress
// (default the system temp directory); a directory store ignores it.
func OpenStore(ctx context.Context, location, tmpDir string) (artifact.Store, error) {
	if !artifact.IsS3URL(location) {
		return artifact.NewFS(location)
	}
	bucket, prefix, err := artifact.ParseS3URL(location)
	if err != nil {
		return nil, err
	}
	region := Env(EnvS3Region, os.Getenv("AWS_REGION"))
	return artifact.NewS3(ctx, artifact.S3Config{
		Endpoint:     os.Getenv(EnvS3Endpoint),
		Bucket:       bucket,
		Prefix:       prefix,
		AccessKey:    os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretKey:    os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: os.Getenv("AWS_SESSION_TOKEN"),
		Region:       region,
		Insecure:     envTrue(EnvS3Insecure),
		PathStyle:    envTrue(EnvS3PathStyle),
		TmpDir:       tmpDir,
	})
}

func envTrue(name string) bool {
	switch strings.ToLower(os.Getenv(name)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// CacheDir is a worker's local cache directory: cacheDir when given, else
// beside the artifacts for a directory store (the layout clirflow always had),
// else DefaultS3CacheDir.
func CacheDir(cacheDir, location string) (string, error) {
	switch {
	case cacheDir != "":
	case artifact.IsS3URL(location):
		cacheDir = DefaultS3CacheDir
	default:
		cacheDir = location
	}
	abs, err := filepath.Abs(cacheDir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	return abs, nil
}

// Queues selects the task queues a worker process polls.
type Queues string

const (
	// QueuesBoth: workflows and CPU activities on TASKQUEUE, LLM calls on
	// TASKQUEUE-llm (the default; one process does everything).
	QueuesBoth Queues = "both"
	// QueuesCPU: only TASKQUEUE (workflows, preparation, BM25, evaluation,
	// reports).
	QueuesCPU Queues = "cpu"
	// QueuesLLM: only TASKQUEUE-llm (reranking, embeddings, dense search).
	QueuesLLM Queues = "llm"
)

// ParseQueues reads a -queues flag value.
func ParseQueues(s string) (Queues, error) {
	switch q := Queues(s); q {
	case QueuesBoth, QueuesCPU, QueuesLLM:
		return q, nil
	case "":
		return QueuesBoth, nil
	}
	return "", fmt.Errorf("queues %q: want %s, %s or %s", s, QueuesCPU, QueuesLLM, QueuesBoth)
}

func (q Queues) cpu() bool { return q != QueuesLLM }
func (q Queues) llm() bool { return q != QueuesCPU }

// Names are the task queues polled for the base queue name.
func (q Queues) Names(taskQueue string) []string {
	var out []string
	if q.cpu() {
		out = append(out, taskQueue)
	}
	if q.llm() {
		out = append(out, taskQueue+workflows.LLMQueueSuffix)
	}
	return out
}
