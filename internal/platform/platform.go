// Package platform wires clirflow to Temporal and OpenTelemetry: client
// options from the standard Temporal environment, tracing, search attributes
// and worker registration. worker/ and starter/ stay tiny because of it.
package platform

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/clirflow/clirflow/activities"
	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/codec"
	"github.com/clirflow/clirflow/internal/llm"
	"github.com/clirflow/clirflow/internal/rerank"
	"github.com/clirflow/clirflow/internal/translate"
	"github.com/clirflow/clirflow/workflows"
)

// Defaults shared by worker, starter, Makefile and docker-compose (a test checks
// docker-compose.yml against them).
const (
	DefaultAddress   = "localhost:7233"
	DefaultNamespace = "default"
	DefaultUI        = "http://localhost:8233"
	DefaultArtifacts = "artifacts"
	EnvArtifacts     = "CLIRFLOW_ARTIFACTS"
	EnvTaskQueue     = "CLIRFLOW_TASK_QUEUE"
	EnvUI            = "CLIRFLOW_UI"
	// EnvCodecKeyFile names the payload encryption key file (internal/codec).
	EnvCodecKeyFile = "CLIRFLOW_CODEC_KEY_FILE"
	// EnvGRPCCompression is "gzip" or "none": compression of the requests to
	// the Temporal server (default: none for a server on this host, gzip
	// otherwise, see GRPCCompression).
	EnvGRPCCompression = "CLIRFLOW_TEMPORAL_COMPRESSION"
)

// Env returns the value of an environment variable or def.
func Env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// ClientOptions reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
// TLS settings and config profiles the way the Temporal CLI does; non-empty
// arguments (from flags) override them. Tracing is always on: spans go nowhere
// unless an exporter is configured. Payloads are encrypted when
// $CLIRFLOW_CODEC_KEY_FILE is set.
func ClientOptions(address, namespace string) (client.Options, error) {
	return ClientOptionsWithCodecKey(address, namespace, "")
}

// CodecKeyFile is the payload encryption key file: the flag's value, else
// $CLIRFLOW_CODEC_KEY_FILE; "" means no encryption.
func CodecKeyFile(flag string) string {
	if flag != "" {
		return flag
	}
	return os.Getenv(EnvCodecKeyFile)
}

// ClientOptionsWithCodecKey is ClientOptions with payloads encrypted under
// the key in codecKeyFile (see CodecKeyFile). Workers and clients of a
// namespace must agree: the codec is part of the client, and workers inherit
// it, so one setting covers workflow and activity inputs, results, queries
// and failure messages.
func ClientOptionsWithCodecKey(address, namespace, codecKeyFile string) (client.Options, error) {
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client config: %w", err)
	}
	if address != "" {
		opts.HostPort = address
	}
	if opts.HostPort == "" {
		opts.HostPort = DefaultAddress
	}
	if namespace != "" {
		opts.Namespace = namespace
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	comp, err := GRPCCompression(opts.HostPort, os.Getenv(EnvGRPCCompression))
	if err != nil {
		return client.Options{}, err
	}
	opts.ConnectionOptions.GrpcCompression = comp
	tracing, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{})
	if err != nil {
		return client.Options{}, err
	}
	opts.Interceptors = append(opts.Interceptors, tracing)
	opts.Logger = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if f := CodecKeyFile(codecKeyFile); f != "" {
		c, err := codec.Load(f)
		if err != nil {
			return client.Options{}, err
		}
		// Wrap what envconfig chose (a profile may name a remote codec).
		dc := opts.DataConverter
		if dc == nil {
			dc = converter.GetDefaultDataConverter()
		}
		opts.DataConverter = converter.NewCodecDataConverter(dc, c)
		// Failure messages and stack traces can quote inputs; by default they
		// are stored in the clear, so move them into encrypted attributes.
		opts.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
			DataConverter: opts.DataConverter, EncodeCommonAttributes: true})
	}
	return opts, nil
}

// GRPCCompression chooses the compression of requests to the Temporal server
// at hostPort: setting is "gzip", "none" or "" (automatic). Automatic is gzip,
// the SDK's default, unless the server is on a loopback address: there gzip
// saves no bandwidth and costs both processes CPU (a sixth of the worker's
// CPU in the reranking benchmark, where the dev server shares its cores).
func GRPCCompression(hostPort, setting string) (client.GrpcCompression, error) {
	switch setting {
	case "gzip":
		return &client.GrpcCompressionGzip{}, nil
	case "none":
		return &client.GrpcCompressionNone{}, nil
	case "":
	default:
		return nil, fmt.Errorf("%s=%q: want gzip or none", EnvGRPCCompression, setting)
	}
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		host = hostPort
	}
	if host == "localhost" {
		return &client.GrpcCompressionNone{}, nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return &client.GrpcCompressionNone{}, nil
	}
	return &client.GrpcCompressionGzip{}, nil
}

// SetupTracing installs an OTLP/gRPC exporter when OTEL_EXPORTER_OTLP_ENDPOINT
// (or the traces-specific variable) is set; the exporter reads the other
// standard OTEL_* variables itself. The returned function flushes spans.
func SetupTracing(ctx context.Context, service string) (func(context.Context) error, error) {
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return func(context.Context) error { return nil }, nil
	}
	if os.Getenv("OTEL_SERVICE_NAME") == "" {
		os.Setenv("OTEL_SERVICE_NAME", service)
	}
	exp, err := otlptracegrpc.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp.Shutdown, nil
}

// EnsureSearchAttributes registers clirflow's search attributes when the
// namespace lacks them (the dev server allows it; on a managed cluster an
// operator does it once). Without them, experiments could not be filtered in
// the UI and upserts would fail.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	want := map[string]enumspb.IndexedValueType{
		workflows.SearchExperiment.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		workflows.SearchDatasets.GetName():   enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
	}
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range want {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("register search attributes %v (ask an operator to run `temporal operator search-attribute create`): %w", keys(missing), err)
	}
	return nil
}

func keys(m map[string]enumspb.IndexedValueType) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// DefaultLLMConcurrency is how many LLM requests one worker has in flight.
const DefaultLLMConcurrency = 32

// Workers are the workers of one process: workflows and CPU-bound activities
// on the task queue, LLM calls on TASKQUEUE-llm.
type Workers []worker.Worker

// Start starts every worker; Stop stops them.
func (ws Workers) Start() error {
	for _, w := range ws {
		if err := w.Start(); err != nil {
			return err
		}
	}
	return nil
}

// Stop stops every worker (in-flight tasks finish first).
func (ws Workers) Stop() {
	for _, w := range ws {
		w.Stop()
	}
}

// NewWorkers registers every workflow and activity over a directory store,
// with the local caches beside the artifacts (see NewWorkersWithStore).
func NewWorkers(c client.Client, store *artifact.FS, taskQueue string, opts worker.Options, llmConcurrency int) (Workers, error) {
	return NewWorkersWithStore(c, store, store.Root(), taskQueue, opts, llmConcurrency, QueuesBoth)
}

// NewWorkersWithStore registers every workflow and activity. Every result a
// workflow references goes to store, which the workers of a deployment share;
// the translation and LLM response caches, the embedding cache and the
// embedded vector store live in cacheDir (translations/, llm-cache/,
// embed-cache/, vectors/), local to this process's machine and shared by its
// experiments and worker processes. llmConcurrency bounds LLM requests in
// flight in this process; queues selects the task queues it polls.
func NewWorkersWithStore(c client.Client, store artifact.Store, cacheDir, taskQueue string, opts worker.Options, llmConcurrency int, queues Queues) (Workers, error) {
	tcache, err := translate.NewFileCache(filepath.Join(cacheDir, "translations"))
	if err != nil {
		return nil, err
	}
	lcache, err := translate.NewFileCache(filepath.Join(cacheDir, "llm-cache"))
	if err != nil {
		return nil, err
	}
	tok, err := rerank.NewTiktoken("cl100k_base")
	if err != nil {
		return nil, err
	}
	w := worker.New(c, taskQueue, opts)
	w.RegisterWorkflowWithOptions(workflows.Experiment, workflow.RegisterOptions{Name: "Experiment"})
	w.RegisterWorkflowWithOptions(workflows.DatasetRuns, workflow.RegisterOptions{Name: "DatasetRuns"})
	w.RegisterWorkflowWithOptions(workflows.Run, workflow.RegisterOptions{Name: "Run"})
	w.RegisterWorkflowWithOptions(workflows.RerankRun, workflow.RegisterOptions{Name: "RerankRun"})
	w.RegisterWorkflowWithOptions(workflows.RerankQuery, workflow.RegisterOptions{Name: "RerankQuery"})
	w.RegisterActivity(&activities.Activities{Store: store, TranslationCache: tcache, Translators: NewTranslators(), Tokenizer: tok})

	if llmConcurrency <= 0 {
		llmConcurrency = DefaultLLMConcurrency
	}
	// The LLM worker also runs the RerankQueries/RerankQuery workflows, whose
	// windows are local activities. Requests in flight are bounded by the
	// gate (llmConcurrency for the process, each endpoint's own limit inside
	// the client); twice as many local activities may run, so that a
	// window's prompt and audit record do not keep a request slot idle.
	gate := llm.NewGate(llmConcurrency)
	lopts := opts
	lopts.MaxConcurrentActivityExecutionSize = llmConcurrency
	lopts.MaxConcurrentLocalActivityExecutionSize = 2 * llmConcurrency
	// A run's group workflows start together: more pollers pick up their
	// first tasks sooner (the first requests of a run went out 0.1 s later
	// with the default 2).
	lopts.MaxConcurrentWorkflowTaskPollers = 8
	lw := worker.New(c, taskQueue+workflows.LLMQueueSuffix, lopts)
	lw.RegisterWorkflowWithOptions(workflows.RerankQuery, workflow.RegisterOptions{Name: "RerankQuery"})
	lw.RegisterWorkflowWithOptions(workflows.RerankQueries, workflow.RegisterOptions{Name: "RerankQueries"})
	dense, err := NewDenseDeps(cacheDir, gate)
	if err != nil {
		return nil, err
	}
	lw.RegisterActivity(&activities.LLMActivities{Store: store, Clients: NewLLMClients(lcache, gate), Dense: dense})
	var ws Workers
	if queues.cpu() {
		ws = append(ws, w)
	}
	if queues.llm() {
		ws = append(ws, lw)
	}
	return ws, nil
}
