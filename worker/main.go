// Command worker runs clirflow's workflows and activities.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/codec"
	"github.com/clirflow/clirflow/internal/platform"
	"github.com/clirflow/clirflow/workflows"
)

func main() {
	address := flag.String("address", "", "Temporal frontend host:port (default $TEMPORAL_ADDRESS or "+platform.DefaultAddress+")")
	namespace := flag.String("namespace", "", "Temporal namespace (default $TEMPORAL_NAMESPACE or default)")
	queue := flag.String("task-queue", platform.Env(platform.EnvTaskQueue, workflows.TaskQueue), "task queue")
	artifacts := flag.String("artifacts", platform.Env(platform.EnvArtifacts, platform.DefaultArtifacts), "artifact store: a directory, or s3://BUCKET[/PREFIX] shared by workers on many machines (see "+platform.EnvS3Endpoint+")")
	cacheDir := flag.String("cache-dir", os.Getenv(platform.EnvCacheDir), "local directory of this worker's caches (translations, LLM responses, embeddings, embedded vector store); default beside a directory store, else "+platform.DefaultS3CacheDir)
	queuesFlag := flag.String("queues", platform.Env(platform.EnvQueues, string(platform.QueuesBoth)), "task queues to poll: cpu (TASKQUEUE: workflows and CPU activities), llm (TASKQUEUE"+workflows.LLMQueueSuffix+") or both")
	codecKey := flag.String("codec-key", "", "payload encryption key file, the starter's key (default $"+platform.EnvCodecKeyFile+"; none: no encryption)")
	llmConcurrency := flag.Int("llm-concurrency", platform.DefaultLLMConcurrency, "LLM and embedding requests in flight in this worker, all endpoints together (each endpoint also has its own max_concurrency)")
	flag.Parse()

	ctx := context.Background()
	shutdown, err := platform.SetupTracing(ctx, "clirflow-worker")
	if err != nil {
		log.Fatal(err)
	}
	defer shutdown(ctx)
	queues, err := platform.ParseQueues(*queuesFlag)
	if err != nil {
		log.Fatal(err)
	}
	if before, after := platform.RaiseProcs(queues); after != before {
		log.Printf("GOMAXPROCS %d (%d CPUs): spare Ps for LLM answers (set GOMAXPROCS to choose)", after, before)
	}
	cache, err := platform.CacheDir(*cacheDir, *artifacts)
	if err != nil {
		log.Fatal(err)
	}
	store, err := platform.OpenStore(ctx, *artifacts, filepath.Join(cache, "tmp"))
	if err != nil {
		log.Fatal(err)
	}
	// Writes a killed worker left in progress; an hour is longer than any write.
	if cl, ok := store.(platform.Cleaner); ok {
		if n, err := cl.CleanTmp(time.Hour); err == nil && n > 0 {
			log.Printf("removed %d stale temporary files", n)
		}
	}
	opts, err := platform.ClientOptionsWithCodecKey(*address, *namespace, *codecKey)
	if err != nil {
		log.Fatal(err)
	}
	if f := platform.CodecKeyFile(*codecKey); f != "" {
		// The id lets operators check that starters and the codec server use the same key.
		if k, err := codec.Load(f); err == nil {
			log.Printf("payloads encrypted with key id %s (%s)", k.KeyID(), f)
		}
	}
	// A server that is down (restarting, not up yet) is waited for, as a
	// supervisor would restart us; a bad address keeps saying so in the log.
	var c client.Client
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		if c, err = client.DialContext(ctx, opts); err == nil {
			break
		}
		log.Printf("connect to Temporal at %s: %v (again in %s)", opts.HostPort, err, wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			log.Fatalf("connect to Temporal at %s: %v", opts.HostPort, ctx.Err())
		}
	}
	defer c.Close()
	if err := platform.EnsureSearchAttributes(ctx, c, opts.Namespace); err != nil {
		log.Printf("warning: %v", err)
	}
	ws, err := platform.NewWorkersWithStore(c, store, cache, *queue, worker.Options{WorkerStopTimeout: 30 * time.Second}, *llmConcurrency, queues)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("worker on %s, namespace %s, task queues %s, artifacts %s, local caches %s", opts.HostPort, opts.Namespace, strings.Join(queues.Names(*queue), " and "), store.Root(), cache)
	if _, shared := store.(*artifact.S3); shared && queues != platform.QueuesCPU {
		log.Printf("note: the embedded vector store (%s) is this worker's own: with several LLM workers, dense stages need vector_store: qdrant", filepath.Join(cache, "vectors"))
	}
	if err := ws.Start(); err != nil {
		log.Fatal(err)
	}
	// SIGINT/SIGTERM: stop polling, let in-flight tasks finish (graceful stop).
	<-worker.InterruptCh()
	ws.Stop()
}
