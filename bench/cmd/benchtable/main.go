// Command benchtable runs clirflow's performance benchmarks and prints one
// table: each figure beside the reference measured in the same run, the
// target and whether it is met (`make bench`).
//
// It compiles the test binaries of the benchmarked packages (bench/bm25cmp in
// this module; internal/e2e, internal/rerank, internal/vector and workflows in
// the main module, with GOWORK=off) and runs each benchmark in its own
// process, -count times, reporting medians (min–max below the table). Peak
// RSS is the VmHWM of the benchmark process: BM25 index builds run one build
// per process (the build rate from documents loaded in memory first, the peak
// RSS from builds that stream the corpus file, so that neither engine's
// figure includes the corpus, each in a binary that links only that engine's
// index: clirflow's with -tags nobleve), and the reranking benchmark's
// process is sampled every 20 ms while it runs (its Temporal dev server is a
// separate process, not counted).
//
//	cd bench && go run ./cmd/benchtable -repo .. [-count 3] [-only bm25,rerank,prp,vector,history] [-v]
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clirflow/clirflow/bench/bm25cmp"
)

var (
	repo         = flag.String("repo", "..", "root of the clirflow repository (the main module)")
	count        = flag.Int("count", 3, "runs of each benchmark (3 to 5); medians are reported")
	rrCount      = flag.Int("rerank-count", 0, "runs of the reranking benchmark (default -count)")
	buildCount   = flag.Int("build-count", 5, "runs of each BM25 index build, in memory and streaming (at least -count)")
	only         = flag.String("only", "", "comma-separated groups to run: bm25, rerank, prp, vector, history (default all)")
	dataDir      = flag.String("data", "", "Italian DDTP collection (default REPO/.clirflow/bench-data/ddtp-it)")
	verbose      = flag.Bool("v", false, "stream the benchmarks' output to stderr")
	bleveDefault = flag.Bool("bleve-default", true, "also measure bleve with its default document mapping (a note under the table)")
	keepBins     = flag.String("bin-dir", "", "directory for the compiled test binaries (default a temporary one)")
)

func main() {
	flag.Parse()
	if *count < 1 {
		fatalf("-count must be ≥ 1")
	}
	if *rrCount == 0 {
		*rrCount = *count
	}
	root, err := filepath.Abs(*repo)
	if err != nil {
		fatalf("%v", err)
	}
	if *dataDir == "" {
		*dataDir = filepath.Join(root, ".clirflow", "bench-data", "ddtp-it")
	}
	if *dataDir, err = filepath.Abs(*dataDir); err != nil {
		fatalf("%v", err)
	}
	groups := map[string]bool{"bm25": true, "rerank": true, "prp": true, "vector": true, "history": true}
	if *only != "" {
		want := map[string]bool{}
		for _, g := range strings.Split(*only, ",") {
			if !groups[g] {
				fatalf("-only: unknown group %q", g)
			}
			want[g] = true
		}
		groups = want
	}
	bins := *keepBins
	if bins == "" {
		if bins, err = os.MkdirTemp("", "benchtable"); err != nil {
			fatalf("%v", err)
		}
		defer os.RemoveAll(bins)
	}
	r := &runner{root: root, bins: bins}
	start := time.Now()
	var rows []row
	if groups["bm25"] {
		rows = append(rows, r.bm25()...)
	}
	if groups["rerank"] {
		rows = append(rows, r.rerank()...)
	}
	if groups["prp"] {
		rows = append(rows, r.prp())
	}
	if groups["vector"] {
		rows = append(rows, r.vector())
	}
	if groups["history"] {
		rows = append(rows, r.history())
	}
	fmt.Println()
	printTable(os.Stdout, rows)
	fmt.Printf("\n%d runs of each benchmark but the BM25 builds' (%d) and the paper grid's (1); medians, ranges above; GOMAXPROCS %s, %d CPUs, %s; total %v\n",
		*count, max(*count, *buildCount), orDefault(os.Getenv("GOMAXPROCS"), "default"), runtime.NumCPU(), loadavg(), time.Since(start).Round(time.Second))
	if r.failed {
		os.Exit(1)
	}
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "benchtable: "+format+"\n", a...)
	os.Exit(2)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "load unknown"
	}
	return "load average " + strings.Join(f[:3], " ")
}

// row is one line of the table.
type row struct {
	what, clirflow, reference, ratio, target string
	met                                      string // "yes", "**no**", "–"
	notes                                    []string
	err                                      error
}

func printTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| what | clirflow | reference | ratio | target | met |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
	for _, r := range rows {
		if r.err != nil {
			fmt.Fprintf(w, "| %s | error: %v | | | %s | **no** |\n", r.what, oneLine(r.err.Error()), r.target)
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.what, r.clirflow, r.reference, r.ratio, r.target, r.met)
	}
	var notes []string
	for _, r := range rows {
		notes = append(notes, r.notes...)
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, "- "+n)
		}
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

func metIf(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// runner compiles and runs benchmark binaries.
type runner struct {
	root, bins string
	failed     bool
	compiled   map[string]string
}

func (r *runner) logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "benchtable: "+format+"\n", a...)
}

// testBinary compiles the tests of pkg (relative to the module in dir) once,
// with the given build tags (comma-separated, or "").
func (r *runner) testBinary(dir, pkg, tags string) (string, error) {
	key := dir + "|" + pkg + "|" + tags
	if p, ok := r.compiled[key]; ok {
		return p, nil
	}
	name := filepath.Base(dir) + "_" + pkg
	if tags != "" {
		name += "_" + tags
	}
	out := filepath.Join(r.bins, strings.NewReplacer("/", "_", ".", "_", ",", "_").Replace(name)+".test")
	args := []string{"test", "-c", "-o", out}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	if tags != "" {
		r.logf("compiling %s -tags %s", pkg, tags)
	} else {
		r.logf("compiling %s", pkg)
	}
	if filepath.Base(dir) == "bench" {
		// The bench module follows the main module's requirements
		// (replace ../), which other changes may move ahead of bench/go.sum.
		args = append(args, "-mod=mod")
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go test -c %s: %v\n%s", pkg, err, b)
	}
	if r.compiled == nil {
		r.compiled = map[string]string{}
	}
	r.compiled[key] = out
	return out, nil
}

// result is one benchmark result line: its metrics by unit.
type result map[string]float64

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

// parse reads `go test -bench` output: name → one result per line.
func parse(out []byte) map[string][]result {
	res := map[string][]result{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		f := strings.Fields(m[3])
		rr := result{}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			rr[f[i+1]] = v
		}
		res[m[1]] = append(res[m[1]], rr)
	}
	return res
}

// run runs a compiled test binary in dir with args and returns its output
// and its peak RSS (VmHWM) in bytes, sampled every 20 ms while it runs.
func (r *runner) run(bin, dir string, env []string, args ...string) ([]byte, int64, error) {
	cmd := exec.Command(bin, append([]string{"-test.run", "^$"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	var w io.Writer = &buf
	if *verbose {
		w = io.MultiWriter(&buf, os.Stderr)
	}
	cmd.Stdout, cmd.Stderr = w, w
	r.logf("%s %s", filepath.Base(bin), strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	var peak int64
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := bm25cmp.ProcStatus(cmd.Process.Pid, "VmHWM"); err == nil {
				mu.Lock()
				peak = max(peak, v)
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		tail := buf.Bytes()
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		return buf.Bytes(), peak, fmt.Errorf("%s: %v\n%s", filepath.Base(bin), err, tail)
	}
	if bytes.Contains(buf.Bytes(), []byte("--- SKIP")) {
		return buf.Bytes(), peak, fmt.Errorf("%s skipped: %s", filepath.Base(bin), skipReason(buf.Bytes()))
	}
	return buf.Bytes(), peak, nil
}

func skipReason(out []byte) string {
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, ".go:") {
			return strings.TrimSpace(l)
		}
	}
	return "see -v"
}

// sample is the values of one metric over the runs.
type sample []float64

func (s sample) median() float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func (s sample) rng(format func(float64) string) string {
	if len(s) < 2 {
		return " (one run)"
	}
	return fmt.Sprintf(" %s–%s", format(slices.Min(s)), format(slices.Max(s)))
}

// pairedRatios is the range of a[i]/b[i] over the runs, which alternate
// between the engines.
func pairedRatios(a, b sample) string {
	var r sample
	for i := range min(len(a), len(b)) {
		r = append(r, a[i]/b[i])
	}
	return strings.TrimSpace(r.rng(func(v float64) string { return fmt.Sprintf("%.3f", v) }))
}

func collect(rs []result, unit string) (sample, error) {
	var s sample
	for _, r := range rs {
		v, ok := r[unit]
		if !ok {
			return nil, fmt.Errorf("no %q in the benchmark output", unit)
		}
		s = append(s, v)
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("no benchmark result with %q", unit)
	}
	return s, nil
}

// Number formats.
func thousands(v float64) string {
	neg := v < 0
	s := strconv.FormatInt(int64(math.Round(math.Abs(v))), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func fixed(prec int) func(float64) string {
	return func(v float64) string { return strconv.FormatFloat(v, 'f', prec, 64) }
}

func mb(v float64) string { return thousands(v) + " MB" }

func ms(v float64) string {
	switch {
	case v < 1:
		return strconv.FormatFloat(v, 'f', 3, 64) + " ms"
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
}

func errRows(err error, what ...string) []row {
	var rows []row
	for _, w := range what {
		rows = append(rows, row{what: w, err: err})
	}
	return rows
}

// bm25 compares clirflow's BM25 with bleve on the Italian DDTP collection:
// build rate (documents in memory) and peak RSS (documents streamed from the
// corpus file) with one build per process (engines alternating), then the
// median query latency, one process per engine. The rates and latencies come
// from one test binary with both engines; clirflow's streaming build runs in
// the binary built with -tags nobleve, so that each engine's peak RSS is that
// of a process linking only its own index.
func (r *runner) bm25() []row {
	whatBuild := "BM25 index build, Italian DDTP corpus (docs/s)"
	whatQuery := "BM25 top-100 query, median latency"
	whatRSS := "BM25 index build, peak RSS of the process"
	fail := func(err error) []row {
		r.failed = true
		return errRows(err, whatBuild, whatQuery, whatRSS)
	}
	if _, err := os.Stat(filepath.Join(*dataDir, "corpus.jsonl")); err != nil {
		return fail(fmt.Errorf("%v (make bench builds it)", err))
	}
	bin, err := r.testBinary(filepath.Join(r.root, "bench"), "./bm25cmp", "")
	if err != nil {
		return fail(err)
	}
	// clirflow's streaming build, whose figure is the peak RSS, runs in a
	// binary without bleve; bleve's in one with it.
	binNB, err := r.testBinary(filepath.Join(r.root, "bench"), "./bm25cmp", "nobleve")
	if err != nil {
		return fail(err)
	}
	dir := filepath.Join(r.root, "bench", "bm25cmp")
	env := []string{"CLIRFLOW_BENCH_DATA=" + *dataDir}
	builds := map[string][]result{}  // documents in memory
	streams := map[string][]result{} // documents streamed from the file
	engines := []string{"clirflow", "bleve"}
	if *bleveDefault {
		engines = append(engines, "bleve-default")
	}
	// One build per process varies from run to run (the build rate by ±10 %
	// on this 2-core machine, the peak RSS by about ±1.5 MB with where the
	// collector happens to run), so the builds, a few seconds each, run more
	// often than the other benchmarks.
	for i := 0; i < max(*count, *buildCount); i++ {
		for _, e := range engines {
			for _, b := range []struct {
				name string
				into map[string][]result
			}{{"BenchmarkBuild", builds}, {"BenchmarkBuildStream", streams}} {
				bin := bin
				if b.name == "BenchmarkBuildStream" && e == "clirflow" {
					bin = binNB
				}
				out, _, err := r.run(bin, dir, env, "-test.bench", "^"+b.name+"$/^"+e+"$", "-test.benchtime", "1x")
				if err != nil {
					return fail(err)
				}
				b.into[e] = append(b.into[e], parse(out)[b.name+"/"+e]...)
			}
		}
	}
	searches := map[string][]result{}
	for _, e := range engines {
		out, _, err := r.run(bin, dir, env, "-test.bench", "^BenchmarkSearch/"+e+"$", "-test.benchtime", "2000x", "-test.count", strconv.Itoa(*count))
		if err != nil {
			return fail(err)
		}
		searches[e] = parse(out)["BenchmarkSearch/"+e]
	}
	var rows []row

	// Build rate.
	cb, err1 := collect(builds["clirflow"], "docs/s")
	bb, err2 := collect(builds["bleve"], "docs/s")
	nd, err3 := collect(builds["clirflow"], "docs")
	if err := errors.Join(err1, err2, err3); err != nil {
		return fail(err)
	}
	ratio := cb.median() / bb.median()
	rows = append(rows, row{
		what:     fmt.Sprintf("BM25 index build, %s Italian DDTP docs loaded in memory (docs/s)", thousands(nd.median())),
		clirflow: thousands(cb.median()), reference: thousands(bb.median()) + " (bleve)",
		ratio: fmt.Sprintf("%.1f×", ratio), target: "≥ 10×", met: metIf(ratio >= 10),
		notes: []string{fmt.Sprintf("BM25 build docs/s over the runs (documents in memory): clirflow%s, bleve%s", cb.rng(thousands), bb.rng(thousands))},
	})

	// Query latency.
	cq, err1 := collect(searches["clirflow"], "median-µs")
	bq, err2 := collect(searches["bleve"], "median-µs")
	cp, err3 := collect(searches["clirflow"], "p99-µs")
	bp, err4 := collect(searches["bleve"], "p99-µs")
	nq, err5 := collect(searches["clirflow"], "queries")
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		rows = append(rows, row{what: whatQuery, err: err})
		r.failed = true
	} else {
		ratio := cq.median() / bq.median()
		toMS := func(v float64) string { return ms(v / 1000) }
		rows = append(rows, row{
			what:     fmt.Sprintf("BM25 top-100 query, median latency (%d English topics, OG)", int(nq.median())),
			clirflow: toMS(cq.median()), reference: toMS(bq.median()) + " (bleve)",
			ratio: fmt.Sprintf("%.3f", ratio), target: "≤ 0.2 (1/5)", met: metIf(ratio <= 0.2),
			notes: []string{fmt.Sprintf("BM25 query median over the runs: clirflow%s, bleve%s; p99 (median of runs): clirflow %s, bleve %s",
				cq.rng(toMS), bq.rng(toMS), toMS(cp.median()), toMS(bp.median()))},
		})
	}

	// Peak RSS, streaming.
	cr, err1 := collect(streams["clirflow"], "peak-MB")
	br, err2 := collect(streams["bleve"], "peak-MB")
	cbase, err3 := collect(streams["clirflow"], "base-MB")
	bbase, err9 := collect(streams["bleve"], "base-MB")
	cw, err10 := collect(streams["clirflow"], "write-peak-MB")
	cs, err4 := collect(streams["clirflow"], "docs/s")
	bs, err5 := collect(streams["bleve"], "docs/s")
	cm, err6 := collect(builds["clirflow"], "peak-MB")
	bm, err7 := collect(builds["bleve"], "peak-MB")
	mbase, err8 := collect(append(slices.Clone(builds["clirflow"]), builds["bleve"]...), "base-MB")
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8, err9, err10); err != nil {
		rows = append(rows, row{what: whatRSS, err: err})
		r.failed = true
	} else {
		ratio := cr.median() / br.median()
		rows = append(rows, row{
			what:     "BM25 index build streaming the corpus file, peak RSS of the process (VmHWM, one build per process, each engine's binary links only its own index)",
			clirflow: mb(cr.median()), reference: mb(br.median()) + " (bleve)",
			ratio: fmt.Sprintf("%.3f", ratio), target: "≤ 0.25 (1/4)", met: metIf(ratio <= 0.25),
			notes: []string{
				fmt.Sprintf("BM25 streaming build peak RSS over the runs: clirflow%s, bleve%s (ratio of the runs taken in turn: %s); the same reader feeds both (the product's: JSON decoder, batches of 2,048), neither holds the corpus; each build runs in the bm25cmp test binary of its engine, as a program using only that index would (clirflow's built with -tags nobleve; bleve's links clirflow's analysis code but does not run it), RSS before the build clirflow %s, bleve %s (above it: clirflow %s, bleve %s, ratio %.2f); streaming builds, JSON decoding included: clirflow %s docs/s, bleve %s",
					cr.rng(mb), br.rng(mb), pairedRatios(cr, br), mb(cbase.median()), mb(bbase.median()), mb(cr.median()-cbase.median()), mb(br.median()-bbase.median()),
					(cr.median()-cbase.median())/(br.median()-bbase.median()), thousands(cs.median()), thousands(bs.median())),
				fmt.Sprintf("BM25 streaming build and then writing the index out (serialized, as the product's BuildBM25Index stores it), peak RSS of clirflow's process over the runs:%s (median %s)", cw.rng(mb), mb(cw.median())),
				fmt.Sprintf("BM25 build from documents in memory, peak RSS: clirflow %s, bleve %s, both with the loaded corpus, %s before the build (above it: clirflow %s, bleve %s, ratio %.2f)",
					mb(cm.median()), mb(bm.median()), mb(mbase.median()), mb(cm.median()-mbase.median()), mb(bm.median()-mbase.median()),
					(cm.median()-mbase.median())/(bm.median()-mbase.median())),
			},
		})
	}
	// bleve as commonly configured, for context (not a row: the rows compare
	// against the leanest bleve index that answers the same queries).
	if *bleveDefault {
		db, err1 := collect(builds["bleve-default"], "docs/s")
		dr, err2 := collect(streams["bleve-default"], "peak-MB")
		dq, err3 := collect(searches["bleve-default"], "median-µs")
		if err := errors.Join(err1, err2, err3); err != nil {
			rows[len(rows)-1].notes = append(rows[len(rows)-1].notes, "bleve with its default mapping: "+oneLine(err.Error()))
		} else {
			rows[len(rows)-1].notes = append(rows[len(rows)-1].notes, fmt.Sprintf(
				"bleve with its default document mapping (text stored, term vectors, doc values, _all field; same analyzer, BM25, batches): %s docs/s, peak RSS %s (streaming), median query %s — clirflow's ratios against it: build %.1f×, memory %.2f, query %.3f",
				thousands(db.median()), mb(dr.median()), ms(dq.median()/1000),
				cb.median()/db.median(), cr.median()/dr.median(), cq.median()/dq.median()))
		}
	}
	return rows
}

// rerank runs internal/e2e's BenchmarkRerank (a dev server, the scripted LLM
// server, 200 queries) in its own process -rerank-count times.
func (r *runner) rerank() []row {
	whats := []string{"Reranking efficiency ratio", "Reranking overhead ratio", "LLM calls on a re-run", "Reranking, peak RSS of the benchmark process", "Reranking 100 queries, peak RSS of the worker process"}
	fail := func(err error) []row {
		r.failed = true
		return errRows(err, whats...)
	}
	temporal := filepath.Join(r.root, "bin", "temporal")
	if _, err := os.Stat(temporal); err != nil {
		return fail(fmt.Errorf("%v (make bin/temporal)", err))
	}
	bin, err := r.testBinary(r.root, "./internal/e2e", "")
	if err != nil {
		return fail(err)
	}
	// runs runs an e2e benchmark n times, each in its own process, and
	// returns its results and the processes' peak RSS in MB.
	runs := func(name string, n int) ([]result, sample, error) {
		var rs []result
		var peaks sample
		for range n {
			out, peak, err := r.run(bin, filepath.Join(r.root, "internal", "e2e"), []string{"CLIRFLOW_TEMPORAL_BIN=" + temporal},
				"-test.bench", "^"+name+"$", "-test.benchtime", "1x", "-test.timeout", "30m")
			if err != nil {
				return nil, nil, err
			}
			rs = append(rs, parse(out)[name]...)
			peaks = append(peaks, float64(peak)/(1<<20))
		}
		return rs, peaks, nil
	}
	rs, peaks, err := runs("BenchmarkRerank", *rrCount)
	if err != nil {
		return fail(err)
	}
	// The worker as deployed (its own process) reranking 100 queries.
	ws, _, err := runs("BenchmarkRerankWorkerRSS", *count)
	if err != nil {
		return fail(err)
	}
	wpeak, err7 := collect(ws, "worker-peak-MB")
	wstart, err8 := collect(ws, "worker-start-MB")
	wcalls, err9 := collect(ws, "calls")
	phase, err10 := collect(rs, "llm-phase-ratio")
	eff, err1 := collect(rs, "efficiency-ratio")
	ovh, err2 := collect(rs, "overhead-ratio")
	call, err3 := collect(rs, "ms/call@0ms")
	noop, err4 := collect(rs, "ms/noop")
	rerun, err5 := collect(rs, "rerun-calls")
	ovl, err6 := collect(rs, "overhead-ratio-local")
	skel, err11 := collect(rs, "skeleton-ratio")
	calls, err12 := collect(rs, "calls")
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8, err9, err10, err11, err12); err != nil {
		return fail(err)
	}
	f2 := fixed(2)
	return []row{
		{what: "Reranking efficiency: RerankRun wall ÷ (calls × 100 ms ÷ 32), 200 queries of 1 to 9 windows (" + thousands(calls.median()) + " calls)", clirflow: f2(eff.median()),
			reference: "1.00 (ideal)", ratio: f2(eff.median()), target: "≤ 1.10", met: metIf(eff.median() <= 1.10),
			notes: []string{"reranking efficiency ratio over the runs:" + eff.rng(f2) + "; the same from the first LLM request to the last answer (without preparing the candidates before and assembling and evaluating the run after): " + f2(phase.median()) + " (runs:" + phase.rng(f2) + ")"}},
		{what: "Reranking efficiency of a bare workflow of the same shape (the same calls, slots, 8 groups and local activities; a window is one bare HTTP request): what Temporal and this machine cost", clirflow: f2(skel.median()),
			reference: "1.00 (ideal)", ratio: f2(skel.median()), target: "–", met: "–",
			notes: []string{"bare workflow's efficiency ratio over the runs:" + skel.rng(f2) + "; clirflow's excess over it (medians): " + f2(eff.median()-skel.median())}},
		{what: "Reranking overhead: time per LLM call at a 0 ms stub ÷ per no-op activity", clirflow: ms(call.median()),
			reference: ms(noop.median()) + " (no-op activity)", ratio: f2(ovh.median()), target: "≤ 1.5", met: metIf(ovh.median() <= 1.5),
			notes: []string{"reranking overhead ratio over the runs:" + ovh.rng(f2) + "; against a no-op local activity: " + f2(ovl.median()) + " (runs:" + ovl.rng(f2) + ")"}},
		{what: "LLM calls when the reranking experiment runs again", clirflow: thousands(rerun.median()),
			reference: "–", ratio: "–", target: "0", met: metIf(slices.Max(rerun) == 0)},
		{what: "Reranking, peak RSS of the benchmark process (worker + client; 200 queries in 8 group workflows, 32 LLM calls in flight)",
			clirflow: mb(peaks.median()), reference: "–", ratio: "–", target: "–", met: "–",
			notes: []string{"reranking benchmark process VmHWM over the runs:" + peaks.rng(mb) + " (the dev server runs in its own process, not counted)"}},
		{what: "Reranking 100 queries concurrently, peak RSS of the worker process (bin/worker, 32 LLM calls in flight, top 100 of BM25 over 2,228 documents, first stage included)",
			clirflow: mb(wpeak.median()), reference: mb(wstart.median()) + " (the worker at the start)", ratio: "–", target: "–", met: "–",
			notes: []string{fmt.Sprintf("worker process VmHWM reranking 100 queries, over the runs:%s; RSS when the experiment started:%s; %s LLM calls", wpeak.rng(mb), wstart.rng(mb), thousands(wcalls.median()))}},
	}
}

// prp: llm-rankers' PRP bubble sort, top 100, k = 10, prompts per query.
func (r *runner) prp() row {
	what := "PRP bubble sort, top 100, k = 10: prompts per query, memoized vs un-memoized"
	bin, err := r.testBinary(r.root, "./internal/rerank", "")
	if err != nil {
		r.failed = true
		return row{what: what, err: err}
	}
	out, _, err := r.run(bin, filepath.Join(r.root, "internal", "rerank"), nil,
		"-test.bench", "^BenchmarkBubbleSortTop100$", "-test.benchtime", "1x", "-test.count", strconv.Itoa(*count))
	if err != nil {
		r.failed = true
		return row{what: what, err: err}
	}
	rs := parse(out)["BenchmarkBubbleSortTop100"]
	m, err1 := collect(rs, "prompts-memoized/query")
	u, err2 := collect(rs, "prompts-unmemoized/query")
	if err := errors.Join(err1, err2); err != nil {
		r.failed = true
		return row{what: what, err: err}
	}
	return row{what: what, clirflow: thousands(m.median()), reference: thousands(u.median()) + " (un-memoized)",
		ratio: fmt.Sprintf("%.2f", m.median()/u.median()), target: "–", met: "–"}
}

// vector: exact dense search over 50K × 1024 against the memory-bandwidth
// bound measured in the same benchmark.
func (r *runner) vector() row {
	what := "Embedded dense search, 50K × 1024, top 100 (queries/s)"
	bin, err := r.testBinary(r.root, "./internal/vector", "")
	if err != nil {
		r.failed = true
		return row{what: what, err: err}
	}
	out, _, err := r.run(bin, filepath.Join(r.root, "internal", "vector"), nil,
		"-test.bench", "^BenchmarkEmbeddedSearch$", "-test.benchtime", "20x", "-test.count", strconv.Itoa(*count))
	if err != nil {
		r.failed = true
		return row{what: what, err: err}
	}
	rs := parse(out)["BenchmarkEmbeddedSearch"]
	qps, err1 := collect(rs, "qps")
	bound, err2 := collect(rs, "bound_qps")
	ratio, err3 := collect(rs, "ratio")
	gbs, err4 := collect(rs, "GB/s")
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		r.failed = true
		return row{what: what, err: err}
	}
	f2 := fixed(2)
	return row{what: what, clirflow: thousands(qps.median()),
		reference: fmt.Sprintf("%s (memory-bandwidth bound, %.1f GB/s)", thousands(bound.median()), gbs.median()),
		ratio:     f2(ratio.median()), target: "≥ 0.5", met: metIf(ratio.median() >= 0.5),
		notes: []string{"dense search over the runs: ratio to the bandwidth bound" + ratio.rng(f2) + ", queries/s" + qps.rng(thousands)}}
}

// history: the Experiment workflow's history for the paper-sized grid
// (workflows' BenchmarkPaperGridHistory: stubs, real dev server; the full grid
// and, for a linear projection, the grid with 0 and 5 of its 10 rerankers).
func (r *runner) history() row {
	what := "Experiment history events, paper grid (26 datasets × 12 first stages × 10 rerankers)"
	fail := func(err error) row {
		r.failed = true
		return row{what: what, target: "< 10,240", err: err}
	}
	temporal := filepath.Join(r.root, "bin", "temporal")
	bin, err := r.testBinary(r.root, "./workflows", "")
	if err != nil {
		return fail(err)
	}
	out, _, err := r.run(bin, filepath.Join(r.root, "workflows"), []string{"CLIRFLOW_TEMPORAL_BIN=" + temporal},
		"-test.bench", "^BenchmarkPaperGridHistory$", "-test.benchtime", "1x", "-test.timeout", "30m", "-test.v")
	if err != nil {
		return fail(err)
	}
	res := parse(out)
	get := func(nr int, unit string) (float64, error) {
		s, err := collect(res[fmt.Sprintf("BenchmarkPaperGridHistory/rerankers=%d", nr)], unit)
		if err != nil {
			return 0, fmt.Errorf("rerankers=%d: %v", nr, err)
		}
		return s.median(), nil
	}
	var errs []error
	must := func(nr int, unit string) float64 {
		v, err := get(nr, unit)
		errs = append(errs, err)
		return v
	}
	ev0, ev5, ev10 := must(0, "history-events"), must(5, "history-events"), must(10, "history-events")
	ch0, ch5, ch10 := must(0, "max-child-events"), must(5, "max-child-events"), must(10, "max-child-events")
	ok5, ok10 := must(5, "completed"), must(10, "completed")
	kb10 := must(10, "history-KB")
	if err := errors.Join(errs...); err != nil {
		return fail(err)
	}
	rep10, _ := get(10, "report-input-KB")
	var cause string
	for _, l := range strings.Split(string(out), "\n") {
		if i := strings.Index(l, "paper-grid-10-0: stuck: "); i >= 0 && !strings.Contains(l, "attempt") {
			cause = strings.TrimSpace(l[i+len("paper-grid-10-0: stuck: "):])
		}
	}
	// The largest history is the Experiment's or one dataset's DatasetRuns child.
	largest := max(ev10, ch10)
	rw := row{what: what, reference: "10,240 (Temporal's warning limit)", target: "< 10,240"}
	if ok10 == 1 {
		rw.clirflow = fmt.Sprintf("%s (Experiment %s, largest DatasetRuns %s)", thousands(largest), thousands(ev10), thousands(ch10))
		rw.ratio = fmt.Sprintf("%.2f", largest/10240)
		rw.met = metIf(largest < 10240)
	} else {
		rw.clirflow = fmt.Sprintf("did not complete (Experiment stopped at %s events)", thousands(ev10))
		rw.ratio = "–"
		rw.met = "**no**"
		rw.notes = append(rw.notes, fmt.Sprintf("paper grid, 10 rerankers: did not complete (%s)", orDefault(cause, "see -v")))
	}
	rw.notes = append(rw.notes, fmt.Sprintf("paper grid, events of the Experiment / of the largest DatasetRuns child: no rerankers %s / %s; 5 rerankers %s / %s (%s); 10 rerankers %s / %s, Experiment history %s KB, WriteReport's input %s KB (runs by reference)",
		thousands(ev0), thousands(ch0), thousands(ev5), thousands(ch5), map[bool]string{true: "completed", false: "did not complete"}[ok5 == 1],
		thousands(ev10), thousands(ch10), thousands(kb10), thousands(rep10)))
	return rw
}
