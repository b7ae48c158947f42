package bm25

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/analysis"
)

// synthetic corpus: a Zipfian vocabulary of made-up words "w<rank>"
// analysed by whitespace, or of pronounceable pseudo-words for the English
// analyzer benchmark.
type synth struct {
	docs    []string
	queries []string
}

func zipfCorpus(nDocs, docLen, vocab int, words func(int) string) synth {
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.07, 2, uint64(vocab-1))
	var sb strings.Builder
	s := synth{docs: make([]string, nDocs)}
	for i := range s.docs {
		sb.Reset()
		n := docLen/2 + r.IntN(docLen)
		for j := 0; j < n; j++ {
			if j > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(words(int(z.Uint64())))
		}
		s.docs[i] = sb.String()
	}
	for i := 0; i < 1000; i++ {
		sb.Reset()
		n := 3 + r.IntN(6)
		for j := 0; j < n; j++ {
			if j > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(words(int(z.Uint64())))
		}
		s.queries = append(s.queries, sb.String())
	}
	return s
}

func numberWord(i int) string { return "w" + strconv.Itoa(i) }

var syllables = []string{"ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "den", "ing", "er", "tion", "al", "ous", "pre", "con", "str", "ab", "ly", "es"}

// pseudoWord maps a rank to a deterministic pseudo-English word.
func pseudoWord(i int) string {
	var sb strings.Builder
	i++
	for i > 0 {
		sb.WriteString(syllables[i%len(syllables)])
		i /= len(syllables)
	}
	return sb.String()
}

func syntheticIndex(t testing.TB, n int) *Index {
	s := zipfCorpus(n, 60, 20000, numberWord)
	b := NewBuilder(whitespace(t))
	for i, d := range s.docs {
		require.NoError(t, b.Add(fmt.Sprintf("doc%d", i), d))
	}
	ix, err := b.Build()
	require.NoError(t, err)
	return ix
}

const benchDocs = 50000

var (
	benchCorpusEn  synth
	benchCorpusRaw synth
)

func corpusEn() synth {
	if benchCorpusEn.docs == nil {
		benchCorpusEn = zipfCorpus(benchDocs, 60, 100000, pseudoWord)
	}
	return benchCorpusEn
}

func corpusRaw() synth {
	if benchCorpusRaw.docs == nil {
		benchCorpusRaw = zipfCorpus(benchDocs, 60, 100000, numberWord)
	}
	return benchCorpusRaw
}

func buildBench(b *testing.B, a analysis.Analyzer, ids []string, docs []string) {
	b.ReportAllocs()
	var ix *Index
	start := time.Now()
	for b.Loop() {
		bl := NewBuilder(a)
		for i, d := range docs {
			if err := bl.Add(ids[i], d); err != nil {
				b.Fatal(err)
			}
		}
		var err error
		if ix, err = bl.Build(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(docs))*float64(b.N)/time.Since(start).Seconds(), "docs/s")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heapMB")
	runtime.KeepAlive(ix)
}

func docIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "doc" + strconv.Itoa(i)
	}
	return ids
}

// BenchmarkBuild indexes 50K synthetic documents of ~60 tokens with the
// English analyzer (tokenize, stop words, Porter stemming).
func BenchmarkBuild(b *testing.B) {
	a, err := analysis.ForLanguage("en")
	require.NoError(b, err)
	s := corpusEn()
	buildBench(b, a, docIDs(len(s.docs)), s.docs)
}

// BenchmarkBuildWhitespace is BenchmarkBuild with the whitespace analyzer:
// mostly the indexing cost itself.
func BenchmarkBuildWhitespace(b *testing.B) {
	s := corpusRaw()
	buildBench(b, whitespace(b), docIDs(len(s.docs)), s.docs)
}

func searchBench(b *testing.B, ix *Index, queries []string) {
	// Median latency over one pass of the queries, reported once.
	lat := make([]time.Duration, 0, len(queries))
	for _, q := range queries {
		t0 := time.Now()
		ix.Search(q, 100, DefaultParams)
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		ix.Search(queries[i%len(queries)], 100, DefaultParams)
		i++
	}
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "median-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkSearchTop100 runs top-100 queries of 3-8 Zipfian terms against
// the 50K-document English synthetic index; ns/op is per query.
func BenchmarkSearchTop100(b *testing.B) {
	a, err := analysis.ForLanguage("en")
	require.NoError(b, err)
	s := corpusEn()
	bl := NewBuilder(a)
	for i, d := range s.docs {
		require.NoError(b, bl.Add("doc"+strconv.Itoa(i), d))
	}
	ix, err := bl.Build()
	require.NoError(b, err)
	searchBench(b, ix, s.queries)
}

// ddtp-de corpus produced by the data pipeline, when present.
const ddtpPath = "../../data/ddtp-de/corpus.jsonl"

func loadDDTP(b *testing.B) (ids, docs, queries []string) {
	f, err := os.Open(ddtpPath)
	if err != nil {
		b.Skipf("skipping: %s not available (%v)", ddtpPath, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var rec struct {
			ID    string `json:"id"`
			Title string `json:"title"`
			Text  string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			b.Fatalf("%s: %v", ddtpPath, err)
		}
		ids = append(ids, rec.ID)
		docs = append(docs, strings.TrimSpace(rec.Title+"\n"+rec.Text))
		if rec.Title != "" && len(queries) < 1000 && len(ids)%7 == 0 {
			queries = append(queries, rec.Title)
		}
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	if len(docs) == 0 {
		b.Skipf("skipping: %s is empty", ddtpPath)
	}
	if len(queries) == 0 {
		for i := 0; i < len(docs) && i < 1000; i += 7 {
			queries = append(queries, docs[i][:min(len(docs[i]), 80)])
		}
	}
	return ids, docs, queries
}

// BenchmarkBuildDDTPde indexes data/ddtp-de/corpus.jsonl (title + text) with
// the German analyzer.
func BenchmarkBuildDDTPde(b *testing.B) {
	ids, docs, _ := loadDDTP(b)
	a, err := analysis.ForLanguage("de")
	require.NoError(b, err)
	buildBench(b, a, ids, docs)
}

// BenchmarkSearchTop100DDTPde queries the ddtp-de index with document titles.
func BenchmarkSearchTop100DDTPde(b *testing.B) {
	ids, docs, queries := loadDDTP(b)
	a, err := analysis.ForLanguage("de")
	require.NoError(b, err)
	bl := NewBuilder(a)
	for i, d := range docs {
		require.NoError(b, bl.Add(ids[i], d))
	}
	ix, err := bl.Build()
	require.NoError(b, err)
	searchBench(b, ix, queries)
}

// BenchmarkBuildBatch is BenchmarkBuild through AddBatch (parallel analysis)
// in batches of 1000 documents.
func BenchmarkBuildBatch(b *testing.B) {
	a, err := analysis.ForLanguage("en")
	require.NoError(b, err)
	s := corpusEn()
	ids := docIDs(len(s.docs))
	docs := make([]Doc, len(s.docs))
	for i := range docs {
		docs[i] = Doc{ID: ids[i], Text: s.docs[i]}
	}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		bl := NewBuilder(a)
		for i := 0; i < len(docs); i += 1000 {
			if err := bl.AddBatch(docs[i:min(i+1000, len(docs))]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := bl.Build(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(docs))*float64(b.N)/time.Since(start).Seconds(), "docs/s")
}
