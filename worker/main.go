// Command worker runs clirflow's workflows and activities.
package main

import (
	"context"
	"flag"
	"log"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/platform"
	"github.com/clirflow/clirflow/workflows"
)

func main() {
	address := flag.String("address", "", "Temporal frontend host:port (default $TEMPORAL_ADDRESS or "+platform.DefaultAddress+")")
	namespace := flag.String("namespace", "", "Temporal namespace (default $TEMPORAL_NAMESPACE or default)")
	queue := flag.String("task-queue", platform.Env(platform.EnvTaskQueue, workflows.TaskQueue), "task queue")
	artifacts := flag.String("artifacts", platform.Env(platform.EnvArtifacts, platform.DefaultArtifacts), "artifact store directory")
	llmConcurrency := flag.Int("llm-concurrency", platform.DefaultLLMConcurrency, "LLM activities in flight in this worker (each endpoint also has its own max_concurrency)")
	flag.Parse()

	ctx := context.Background()
	shutdown, err := platform.SetupTracing(ctx, "clirflow-worker")
	if err != nil {
		log.Fatal(err)
	}
	defer shutdown(ctx)
	store, err := artifact.NewFS(*artifacts)
	if err != nil {
		log.Fatal(err)
	}
	// Writes a killed worker left in progress; an hour is longer than any write.
	if n, err := store.CleanTmp(time.Hour); err == nil && n > 0 {
		log.Printf("removed %d stale temporary files", n)
	}
	opts, err := platform.ClientOptions(*address, *namespace)
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.Dial(opts)
	if err != nil {
		log.Fatalf("connect to Temporal at %s: %v", opts.HostPort, err)
	}
	defer c.Close()
	if err := platform.EnsureSearchAttributes(ctx, c, opts.Namespace); err != nil {
		log.Printf("warning: %v", err)
	}
	ws, err := platform.NewWorkers(c, store, *queue, worker.Options{WorkerStopTimeout: 30 * time.Second}, *llmConcurrency)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("worker on %s, namespace %s, task queues %s and %s%s, artifacts %s", opts.HostPort, opts.Namespace, *queue, *queue, workflows.LLMQueueSuffix, store.Root())
	if err := ws.Start(); err != nil {
		log.Fatal(err)
	}
	// SIGINT/SIGTERM: stop polling, let in-flight tasks finish (graceful stop).
	<-worker.InterruptCh()
	ws.Stop()
}
