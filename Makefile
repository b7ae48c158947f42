# clirflow — the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
TEMPORAL_VERSION := v1.5.1
GO ?= go

.PHONY: demo test build up down bench bench-rerank bench-vector test-qdrant vet fmt clean deps

# Run the demo experiment end to end on the embedded defaults.
demo: deps bin/temporal build
	scripts/demo.sh

# The whole test suite; .ci/run calls this. Integration tests start their own
# Temporal dev servers (bin/temporal) on free ports.
test: deps bin/temporal vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	CLIRFLOW_TEMPORAL_BIN=$(CURDIR)/bin/temporal $(GO) test -count=1 -timeout 40m ./...

# Debian packages of the translation stages (apertium, FreeDict), if missing.
deps:
	@scripts/deps.sh

bin/temporal:
	@mkdir -p bin
	@echo "installing the Temporal CLI $(TEMPORAL_VERSION) into ./bin (about 3 minutes on 2 cores, once)"
	GOBIN=$(CURDIR)/bin $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_VERSION)

build:
	$(GO) build -o bin/worker ./worker
	$(GO) build -o bin/starter ./starter

vet:
	$(GO) vet ./...

# Keep a dev server (UI on :8233) and a worker running for the UI and `bin/starter run`.
up: deps bin/temporal build
	scripts/devserver.sh start
	@mkdir -p .clirflow
	bin/worker >.clirflow/worker.log 2>&1 & echo $$! > .clirflow/worker.pid
	@echo "worker running (log .clirflow/worker.log); stop both with 'make down'"

down:
	-@[ -f .clirflow/worker.pid ] && kill $$(cat .clirflow/worker.pid) 2>/dev/null; rm -f .clirflow/worker.pid
	scripts/devserver.sh stop

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/bm25/
	$(GO) test -run '^$$' -bench . -benchtime 3x ./internal/experiment/ ./internal/translate/

# Reranking efficiency against the scripted LLM server on a real dev server
# (about a minute): efficiency-ratio, overhead-ratio, rerun-calls.
bench-rerank: bin/temporal
	CLIRFLOW_TEMPORAL_BIN=$(CURDIR)/bin/temporal $(GO) test -run '^$$' -bench BenchmarkRerank -benchtime 1x ./internal/e2e/
	$(GO) test -run '^$$' -bench BubbleSort -benchtime 1x ./internal/rerank/

# Exact search (queries/s and ratio to the memory-bandwidth bound, 50K x 1024)
# and upserts into the Qdrant gRPC test server (points/s).
bench-vector:
	$(GO) test -run '^$$' -bench . -benchtime 20x ./internal/vector/

# The vector-store conformance suite against a real Qdrant (e.g. `docker
# compose up qdrant`): make test-qdrant QDRANT_ADDR=localhost:6334
test-qdrant:
	@test -n "$(QDRANT_ADDR)" || { echo "set QDRANT_ADDR=host:port (gRPC)"; exit 2; }
	QDRANT_ADDR=$(QDRANT_ADDR) $(GO) test -count=1 -v -run 'Conformance|Agree' ./internal/vector/

clean:
	rm -rf results .clirflow
