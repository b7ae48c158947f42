package bm25cmp

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clirflow/clirflow/internal/bm25"
)

// The corpus: the Italian DDTP collection (`make bench` builds it; see
// DataDir). Benchmarks skip when it is missing.
//
//	go test -run '^$' -bench 'Build/bleve' -benchtime 1x ./bm25cmp/
//
// BenchmarkBuild indexes the corpus loaded in memory first (the build rate
// without reading or decoding JSON) and reports docs/s, and peak-MB: the
// process's VmHWM, which is the peak RSS of one build only when the process
// runs one build (-benchtime 1x -count 1 and one sub-benchmark, as `make
// bench` runs it); base-MB is the RSS with the corpus loaded, before any
// index. BenchmarkBuildStream indexes the corpus as it streams it from the
// JSONL file, one batch in memory at a time (Stream: the product's reader),
// so its peak-MB is the memory of the indexing itself plus the process's
// base-MB (a test binary that has loaded nothing); its docs/s include the
// JSON decoding; for clirflow, write-peak-MB is the peak once the index has
// also been serialized (as the product stores it). BenchmarkSearch reports
// the median and p99 latency of a top-100 query.
//
// Peak RSS is compared as for two programs, each linking only the index it
// uses: linking bleve adds about 9 MB to the RSS of this test binary before
// anything runs (base-MB 14 instead of 5). The bleve engines are in
// bleve.go, left out by the nobleve build tag, and `make bench` takes
// clirflow's streaming peak from a binary built with it, bleve's from the
// default one (which also links clirflow's analysis code, for the shared
// Source type, without running it: about 0.2 MB):
//
//	go test -tags nobleve -run '^$' -bench 'BuildStream/clirflow' -benchtime 1x ./bm25cmp/
//	go test -run '^$' -bench 'BuildStream/bleve$' -benchtime 1x ./bm25cmp/

var (
	dataOnce sync.Once
	data     *Data
	dataErr  error
	baseRSS  int64
)

func load(b *testing.B) *Data {
	dataOnce.Do(func() {
		data, dataErr = Load(DataDir())
		runtime.GC()
		baseRSS, _ = ProcStatus(os.Getpid(), "VmRSS")
	})
	if dataErr != nil {
		b.Skipf("no benchmark corpus (%v); `make bench` builds it", dataErr)
	}
	return data
}

func BenchmarkBuild(b *testing.B) {
	for _, name := range Engines {
		b.Run(name, func(b *testing.B) {
			d := load(b)
			var e Engine
			start := time.Now()
			for b.Loop() {
				if e != nil {
					e.Close()
				}
				var err error
				if e, err = Build(name, InMemory(d.Docs)); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(len(d.Docs))*float64(b.N)/elapsed.Seconds(), "docs/s")
			peak, err := PeakRSS()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
			b.ReportMetric(float64(baseRSS)/(1<<20), "base-MB")
			b.ReportMetric(float64(len(d.Docs)), "docs")
			e.Close()
		})
	}
}

func BenchmarkBuildStream(b *testing.B) {
	for _, name := range Engines {
		b.Run(name, func(b *testing.B) {
			dir := DataDir()
			if _, err := os.Stat(filepath.Join(dir, "corpus.jsonl")); err != nil {
				b.Skipf("no benchmark corpus (%v); `make bench` builds it", err)
			}
			runtime.GC()
			base, err := ProcStatus(os.Getpid(), "VmRSS")
			if err != nil {
				b.Fatal(err)
			}
			var e Engine
			n := 0
			src := Stream(dir)
			counted := func(fn func([]bm25.Doc) error) error {
				return src(func(batch []bm25.Doc) error {
					n += len(batch)
					return fn(batch)
				})
			}
			start := time.Now()
			for b.Loop() {
				if e != nil {
					e.Close()
				}
				if e, err = Build(name, counted); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(n)/elapsed.Seconds(), "docs/s")
			peak, err := PeakRSS()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
			b.ReportMetric(float64(base)/(1<<20), "base-MB")
			b.ReportMetric(float64(n/b.N), "docs")
			// The product's indexing step also writes the index out
			// (BuildBM25Index: into the artifact store).
			if w, ok := e.(io.WriterTo); ok {
				if _, err := w.WriteTo(io.Discard); err != nil {
					b.Fatal(err)
				}
				peak, err := PeakRSS()
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(peak)/(1<<20), "write-peak-MB")
			}
			e.Close()
		})
	}
}

var (
	engMu   sync.Mutex
	engines = map[string]Engine{}
)

// engine builds each engine once per process.
func engine(b *testing.B, name string) Engine {
	engMu.Lock()
	defer engMu.Unlock()
	if e := engines[name]; e != nil {
		return e
	}
	e, err := Build(name, InMemory(load(b).Docs))
	if err != nil {
		b.Fatal(err)
	}
	engines[name] = e
	return e
}

func BenchmarkSearch(b *testing.B) {
	for _, name := range Engines {
		b.Run(name, func(b *testing.B) {
			d := load(b)
			e := engine(b, name)
			for _, q := range d.Queries { // warm up
				if _, err := e.Search(q); err != nil {
					b.Fatal(err)
				}
			}
			lat := make([]time.Duration, 0, b.N)
			i := 0
			for b.Loop() {
				t0 := time.Now()
				if _, err := e.Search(d.Queries[i%len(d.Queries)]); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				i++
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "median-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
			b.ReportMetric(float64(len(d.Queries)), "queries")
		})
	}
}
