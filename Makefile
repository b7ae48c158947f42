# clirflow — the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
TEMPORAL_VERSION := v1.5.1
VERSITYGW_VERSION := v1.8.0
GO ?= go

.PHONY: demo test build up down bench bench-rerank bench-vector test-qdrant vet fmt clean deps

# Run the demo experiment end to end on the embedded defaults.
demo: deps bin/temporal build
	scripts/demo.sh

# The whole test suite; .ci/run calls this. Integration tests start their own
# Temporal dev servers (bin/temporal) on free ports.
test: deps bin/temporal bin/versitygw vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	scripts/with-s3.sh env CLIRFLOW_TEMPORAL_BIN=$(CURDIR)/bin/temporal $(GO) test -count=1 -timeout 40m ./...

# A real S3-compatible server for the S3 artifact-store tests (versitygw from
# the Go module proxy: no S3 server is packaged in Debian bookworm; about 8
# minutes on 2 cores, once).
bin/versitygw:
	@mkdir -p bin
	GOBIN=$(CURDIR)/bin $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

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

# The performance table (README, "Performance"): clirflow's BM25 beside bleve
# v2 on the Italian DDTP corpus (built once into $(BENCH_DATA)/ddtp-it),
# reranking efficiency and memory, PRP prompts, dense search, and the history
# of a paper-sized experiment; every benchmark $(BENCH_COUNT) times, medians,
# about 6 minutes on 2 cores. The `bench` module (bench/) holds bleve, so the
# product's go.mod does not.
BENCH_DATA := .clirflow/bench-data
BENCH_COUNT ?= 3
BENCH_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

bench: bin/temporal $(BENCH_DATA)/ddtp-it/corpus.jsonl
	cd bench && GOWORK=off $(GO) run -mod=mod ./cmd/benchtable -repo .. -count $(BENCH_COUNT) -data ../$(BENCH_DATA)/ddtp-it

# Debian's English and Italian package descriptions (apt lists of the system's
# Debian suite, kept apart from its own lists), then the demo builder (~49.7K
# documents on bookworm).
$(BENCH_DATA)/ddtp-it/corpus.jsonl:
	mkdir -p $(BENCH_DATA)/apt-lists/partial
	$(BENCH_SUDO) apt-get -o Acquire::Languages="en,it" -o Dir::State::Lists=$(CURDIR)/$(BENCH_DATA)/apt-lists update
	$(GO) run ./starter build-demo -apt-lists $(BENCH_DATA)/apt-lists -lang it -out $(BENCH_DATA)/ddtp-it

# The package micro-benchmarks: BM25 on synthetic and demo corpora,
# translation (apertium, apertium-apy) and DT translate + index.
.PHONY: bench-micro
bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/bm25/
	$(GO) test -run '^$$' -bench . -benchtime 3x ./internal/experiment/ ./internal/translate/

# Reranking efficiency against the scripted LLM server on a real dev server
# (about a minute): efficiency-ratio, llm-phase-ratio, skeleton-ratio (the
# same calls through a bare workflow of the same shape: the bar Temporal and
# this machine set), overhead-ratio, rerun-calls, and the peak RSS of a worker
# process reranking 100 queries (BenchmarkRerankWorkerRSS); and the same
# calls through the LLM client alone, without Temporal (its floor).
bench-rerank: bin/temporal
	CLIRFLOW_TEMPORAL_BIN=$(CURDIR)/bin/temporal $(GO) test -run '^$$' -bench BenchmarkRerank -benchtime 1x ./internal/e2e/
	$(GO) test -run '^$$' -bench ChatPipeline -benchtime 3x ./internal/llm/
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

# Reliability checks with figures (README, "Reliability"), one table at the
# end: R1 worker SIGKILLs and a dev-server restart mid-run, R2 a flaky LLM
# endpoint, R3 the bad-input corpus, R4 secrets (API key, payload codec), R5
# 20 experiments at once. `make test` runs the same tests; the long versions:
# CLIRFLOW_RELIABILITY_LONG=1 make reliability. Logs: .clirflow/reliability/.
.PHONY: reliability
reliability: bin/temporal
	@dir=.clirflow/reliability; mkdir -p $$dir; rm -f $$dir/*.log $$dir/table; rc=0; \
	export CLIRFLOW_TEMPORAL_BIN=$(CURDIR)/bin/temporal; \
	step() { \
	  part=$$1; check=$$2; log=$$dir/$$3.log; shift 3; \
	  echo "== $$part $$check: $$*"; start=$$(date +%s); \
	  if "$$@" >$$log 2>&1; then res=PASS; else res=FAIL; rc=1; grep -E '^\s*(--- FAIL|FAIL|panic:|.*Error( Trace)?:)' $$log | head -20; fi; \
	  secs=$$(( $$(date +%s) - start )); \
	  figs=$$(grep -m1 '^RELIABILITY|' $$log | cut -d'|' -f4-); \
	  [ -n "$$figs" ] || figs="$$(grep -cE '^\s*--- PASS' $$log) passed, $$(grep -cE '^\s*--- FAIL' $$log) failed (tests and subtests)"; \
	  echo "   $$res in $$secs s (log $$log)"; \
	  printf '%s|%s|%s %s s|%s\n' "$$part" "$$check" "$$res" "$$secs" "$$figs" >>$$dir/table; \
	}; \
	e2e="$(GO) test -count=1 -v -timeout 60m ./internal/e2e/ -run"; \
	step R1 "crash + restart (TestReliabilityCrashRestart)" r1 $$e2e '^TestReliabilityCrashRestart$$'; \
	step R2 "flaky LLM endpoint (TestReliabilityFlakyEndpoint)" r2 $$e2e '^TestReliabilityFlakyEndpoint$$'; \
	step R3 "bad input (go test -run BadInput ./activities/)" r3 $(GO) test -count=1 -v -run BadInput ./activities/; \
	step R4 "API key (TestAPIKeyNeverLeaves)" r4-key $$e2e '^TestAPIKeyNeverLeaves$$'; \
	step R4 "payload codec (go test ./internal/codec/)" r4-codec $(GO) test -count=1 -v ./internal/codec/; \
	step R5 "load (TestReliabilityLoad)" r5 $$e2e '^TestReliabilityLoad$$'; \
	echo; echo "Reliability$${CLIRFLOW_RELIABILITY_LONG:+ (long versions)}:"; \
	awk -F'|' '{ n = split($$4, f, "; "); \
	  printf "%-3s %-52s %-10s %s\n", $$1, $$2, $$3, f[1]; \
	  for (i = 2; i <= n; i++) printf "%-3s %-52s %-10s %s\n", "", "", "", f[i] }' $$dir/table; \
	exit $$rc
