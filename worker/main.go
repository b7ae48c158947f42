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
	w, err := platform.NewWorker(c, store, *queue, worker.Options{WorkerStopTimeout: 30 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("worker on %s, namespace %s, task queue %s, artifacts %s", opts.HostPort, opts.Namespace, *queue, store.Root())
	// Run returns on SIGINT/SIGTERM after in-flight tasks finish (graceful stop).
	if err := w.Run(worker.InterruptCh()); err != nil {
		log.Fatal(err)
	}
}
