package bm25

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/analysis"
)

func TestSmallFloat(t *testing.T) {
	assert.Equal(t, int32(231), maxInt4)
	assert.Equal(t, int32(24), numFreeValues)
	// 0..23 are stored as themselves.
	for i := 0; i < 24; i++ {
		assert.Equal(t, byte(i), intToByte4(i), i)
		assert.Equal(t, i, byte4ToInt(byte(i)), i)
	}
	// Worked by hand: v = i - 24 is encoded by longToInt4. For v < 8 the
	// value is subnormal (exact); for 8 <= v < 16, shift 0 (exact); for
	// 16 <= v < 32 shift 1 (even v kept); etc.
	cases := []struct {
		length  int
		encoded byte
		decoded int
	}{
		{24, 24, 24},  // v=0
		{31, 31, 31},  // v=7
		{32, 32, 32},  // v=8: bits 4, shift 0, (8&7)|1<<3 = 8 -> 24+8
		{39, 39, 39},  // v=15: (15&7)|8 = 15 -> 39
		{40, 40, 40},  // v=16: shift 1, (8&7)|2<<3 = 16 -> 40; decodes to 8<<1
		{41, 40, 40},  // v=17: 17>>1 = 8 -> same byte as 40
		{42, 41, 42},  // v=18: 9&7=1 | 16 = 17 -> 41; decodes (1|8)<<1 = 18
		{100, 57, 96}, // v=76: 7 bits, shift 3, 76>>3=9 -> 1|4<<3=33 -> 57; (1|8)<<3 = 72 -> 96
		// v=976 = 0b1111010000: 10 bits, shift 6, 976>>6 = 15, 15&7 = 7,
		// |(6+1)<<3 = 63 -> 87; decodes (7|8)<<6 = 960 -> 984
		{1000, 87, 984},
	}
	for _, c := range cases {
		assert.Equal(t, c.encoded, intToByte4(c.length), "encode %d", c.length)
		assert.Equal(t, c.decoded, byte4ToInt(c.encoded), "decode %d", c.length)
	}
	// Integer.MAX_VALUE: v = 2^31-25, 31 bits, shift 27, v>>27 = 15 -> 7|28<<3
	// = 231 -> byte 255, decoded 24 + (15<<27).
	assert.Equal(t, byte(255), intToByte4(math.MaxInt32))
	assert.Equal(t, 24+15<<27, byte4ToInt(255))
	// Monotonic, and decode(encode(x)) <= x.
	prev := 0
	for i := 0; i < 300000; i++ {
		b := intToByte4(i)
		d := byte4ToInt(b)
		assert.LessOrEqual(t, d, i)
		assert.GreaterOrEqual(t, int(b), prev)
		prev = int(b)
		if t.Failed() {
			return
		}
	}
	for b := 0; b < 256; b++ {
		assert.Equal(t, byte(b), intToByte4(byte4ToInt(byte(b))), b)
	}
}

func whitespace(t testing.TB) analysis.Analyzer {
	a, err := analysis.ForLanguage("none")
	require.NoError(t, err)
	return a
}

// tiny corpus, analysed by splitting on whitespace.
//
//	d1 "a b c"         length 3
//	d2 "a a b"         length 3
//	d3 "a c d"         length 3
//	d4 "a b" + 39 × z  length 41, stored as byte 40 -> decoded length 40
//	d5 "a b c"         length 3 (identical to d1: ties)
//
// docCount = 5, sumTotalTermFreq = 53, avgdl = float32(53/5) = 10.6
// df: a=5, b=4, c=3, d=1, z=1.
func tinyIndex(t testing.TB) *Index {
	b := NewBuilder(whitespace(t))
	require.NoError(t, b.Add("d1", "a b c"))
	require.NoError(t, b.Add("d2", "a a b"))
	require.NoError(t, b.Add("d3", "a c d"))
	require.NoError(t, b.Add("d4", "a b"+strings.Repeat(" z", 39)))
	require.NoError(t, b.Add("d5", "a b c"))
	ix, err := b.Build()
	require.NoError(t, err)
	return ix
}

// handScore is BM25 for one term written out with float32 arithmetic:
// idf = ln(1 + (N - df + 0.5)/(df + 0.5)); w = boost*idf;
// norm = 1/(k1*((1-b) + b*len/avgdl)); score = w - w/(1 + tf*norm).
func handScore(boost float32, df, n int, tf float32, qlen float32, k1, b float32) float32 {
	const avgdl = float32(10.6)
	idf := float32(math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5)))
	w := float32(boost * idf)
	bl := float32(b * qlen)
	den := float32(k1 * float32(float32(1-b)+float32(bl/avgdl)))
	norm := float32(1 / den)
	return float32(w - float32(w/float32(1+float32(tf*norm))))
}

func f32(bits uint32) float32 { return math.Float32frombits(bits) }

func TestScoresByHand(t *testing.T) {
	ix := tinyIndex(t)
	assert.Equal(t, 5, ix.NumDocs())
	assert.Equal(t, float64(float32(10.6)), ix.AvgDocLen())
	assert.Equal(t, "none", ix.Language())
	p := Params{K1: 0.9, B: 0.4}

	// Query "b": df 4, idf = ln(1 + 1.5/4.5) = 0.28768208. d1, d2 and d5
	// (length 3, tf 1) tie and come in insertion order; d4 has length 41
	// stored as 40.
	hits := ix.Search("b", 10, p)
	s3 := handScore(1, 4, 5, 1, 3, 0.9, 0.4)
	s40 := handScore(1, 4, 5, 1, 40, 0.9, 0.4)
	assert.Equal(t, []Hit{{"d1", s3}, {"d2", s3}, {"d5", s3}, {"d4", s40}}, hits)
	// Independently computed reference values (float32 emulation).
	assert.Equal(t, f32(0x3e336b62), s3)  // 0.17521432
	assert.Equal(t, f32(0x3dcb44d6), s40) // 0.09925239
	// With the real length 41 the score would differ: quantisation matters.
	assert.NotEqual(t, handScore(1, 4, 5, 1, 41, 0.9, 0.4), hits[3].Score)

	// Query "a a": one clause with boost 2. "a" is in every document:
	// idf = ln(1 + 0.5/5.5) = 0.08701137, small but positive.
	hits = ix.Search("a a", 10, p)
	require.Len(t, hits, 5)
	assert.Equal(t, Hit{"d2", handScore(2, 5, 5, 2, 3, 0.9, 0.4)}, hits[0])
	assert.Equal(t, f32(0x3e06e72e), hits[0].Score)
	for i, id := range []string{"d1", "d3", "d5"} {
		assert.Equal(t, Hit{id, handScore(2, 5, 5, 1, 3, 0.9, 0.4)}, hits[1+i])
		assert.Equal(t, f32(0x3dd91105), hits[1+i].Score)
	}
	assert.Equal(t, Hit{"d4", handScore(2, 5, 5, 1, 40, 0.9, 0.4)}, hits[4])
	assert.Equal(t, f32(0x3d75eb90), hits[4].Score)
	// boost 2 differs from boost 1
	assert.NotEqual(t, ix.Search("a", 10, p)[0].Score, hits[0].Score)

	// Multi-term query: sum in float64, then float32.
	hits = ix.Search("c d", 10, p)
	sumD3 := float32(float64(handScore(1, 3, 5, 1, 3, 0.9, 0.4)) + float64(handScore(1, 1, 5, 1, 3, 0.9, 0.4)))
	sC := handScore(1, 3, 5, 1, 3, 0.9, 0.4)
	assert.Equal(t, []Hit{{"d3", sumD3}, {"d1", sC}, {"d5", sC}}, hits)
	assert.Equal(t, f32(0x3f96180c), sumD3)
	assert.Equal(t, f32(0x3ea81426), sC)

	// The long document alone, tf 39.
	hits = ix.Search("z", 10, p)
	assert.Equal(t, []Hit{{"d4", handScore(1, 1, 5, 39, 40, 0.9, 0.4)}}, hits)
	assert.Equal(t, f32(0x3fa9356f), hits[0].Score)

	// k1 = 1.2, b = 0.75
	hits = ix.Search("a b c", 10, Params{K1: 1.2, B: 0.75})
	sum := func(xs ...float32) float32 {
		var s float64
		for _, x := range xs {
			s += float64(x)
		}
		return float32(s)
	}
	d1 := sum(handScore(1, 5, 5, 1, 3, 1.2, 0.75), handScore(1, 4, 5, 1, 3, 1.2, 0.75), handScore(1, 3, 5, 1, 3, 1.2, 0.75))
	d3 := sum(handScore(1, 5, 5, 1, 3, 1.2, 0.75), handScore(1, 3, 5, 1, 3, 1.2, 0.75))
	d2 := sum(handScore(1, 5, 5, 2, 3, 1.2, 0.75), handScore(1, 4, 5, 1, 3, 1.2, 0.75))
	d4 := sum(handScore(1, 5, 5, 1, 40, 1.2, 0.75), handScore(1, 4, 5, 1, 40, 1.2, 0.75))
	assert.Equal(t, []Hit{{"d1", d1}, {"d5", d1}, {"d3", d3}, {"d2", d2}, {"d4", d4}}, hits)
	assert.Equal(t, []float32{f32(0x3f1672c8), f32(0x3f1672c8), f32(0x3ece283b), f32(0x3e819db9), f32(0x3da366e1)},
		[]float32{hits[0].Score, hits[1].Score, hits[2].Score, hits[3].Score, hits[4].Score})

	// b = 0: no length normalisation, all four documents tie.
	hits = ix.Search("b", 10, Params{K1: 0.9, B: 0})
	s := handScore(1, 4, 5, 1, 3, 0.9, 0)
	assert.Equal(t, f32(0x3e1b0ba6), s)
	assert.Equal(t, []Hit{{"d1", s}, {"d2", s}, {"d4", s}, {"d5", s}}, hits)

	// k1 = 0: the norm is +Inf and a term scores exactly its weight (idf);
	// the unknown term "q" contributes nothing.
	hits = ix.Search("a z q", 10, Params{K1: 0, B: 0.4})
	idfA := float32(math.Log(1 + 0.5/5.5))
	idfZ := float32(math.Log(1 + 4.5/1.5))
	assert.Equal(t, []Hit{{"d4", float32(float64(idfA) + float64(idfZ))}, {"d1", idfA}, {"d2", idfA}, {"d3", idfA}, {"d5", idfA}}, hits)
	assert.Equal(t, f32(0x3fbc9548), hits[0].Score)

	// top-k cuts, keeping the order.
	assert.Equal(t, []Hit{{"d1", s3}, {"d2", s3}}, ix.Search("b", 2, p))
	// No terms, unknown terms, k <= 0.
	assert.Empty(t, ix.Search("", 10, p))
	assert.Empty(t, ix.Search("   ", 10, p))
	assert.Empty(t, ix.Search("q r", 10, p))
	assert.Empty(t, ix.Search("a", 0, p))
}

func TestBuilderErrors(t *testing.T) {
	b := NewBuilder(whitespace(t))
	_, err := b.Build()
	assert.Error(t, err, "empty corpus")

	b = NewBuilder(whitespace(t))
	assert.Error(t, b.Add("", "text"))
	require.NoError(t, b.Add("x", "text"))
	assert.Error(t, b.Add("x", "other"))
	_, err = b.Build()
	require.NoError(t, err)
	assert.Error(t, b.Add("y", "late"))
	_, err = b.Build()
	assert.Error(t, err)
}

func TestAddBatch(t *testing.T) {
	en, err := analysis.ForLanguage("en")
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		a    analysis.Analyzer
		s    synth
	}{
		{"whitespace", whitespace(t), zipfCorpus(3000, 60, 20000, numberWord)},
		// Stop words, stems: several raw tokens per term, tokens without one.
		{"en", en, zipfCorpus(3000, 60, 20000, func(i int) string {
			return []string{"The", "the", "and", "Running", "runs"}[i%5] + " " + pseudoWord(i)
		})},
		// An analyzer that is not an analysis.RawTokenizer.
		{"plain", &plainAnalyzer{en}, zipfCorpus(3000, 60, 20000, pseudoWord)},
	} {
		t.Run(c.name, func(t *testing.T) { testAddBatch(t, c.a, c.s) })
	}
	// One goroutine, and more than the batches have chunks of documents.
	for _, procs := range []int{1, 16} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			testAddBatch(t, en, zipfCorpus(3000, 60, 20000, pseudoWord))
		})
	}
}

// A document's Title is indexed as if joined to its Text by a space, for
// every language's analyzer and one that is not an analysis.RawTokenizer:
// titles and texts of mixed scripts, punctuation at the join (elisions,
// hyphens, apostrophes, CJK, numbers), empty either side.
func TestTitleIsJoinedText(t *testing.T) {
	pieces := []string{"l'", "dell'", "d’", "-", "word", "Running", "日本語", "中", "文", "٣", "3.5", ",", ".", " ", "\n", "é", "Straße", "x", "don't", "'s", "«", "»", "\t", "_", "a-b"}
	rng := rand.New(rand.NewPCG(9, 10))
	str := func() string {
		var b strings.Builder
		for range rng.IntN(10) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	var docs []Doc
	for i := range 600 {
		docs = append(docs, Doc{ID: fmt.Sprint("d", i), Title: str(), Text: str()})
	}
	docs = append(docs, Doc{ID: "only-text", Text: "running words"}, Doc{ID: "only-title", Title: "l'acqua"})
	var analyzers []analysis.Analyzer
	for _, lang := range analysis.Languages() {
		a, err := analysis.ForLanguage(lang)
		require.NoError(t, err)
		analyzers = append(analyzers, a)
	}
	analyzers = append(analyzers, &plainAnalyzer{analyzers[0]})
	for _, a := range analyzers {
		titled, joined := NewBuilder(a), NewBuilder(a)
		var flat []Doc
		for _, d := range docs {
			text := d.Text
			if d.Title != "" {
				text = d.Title + " " + d.Text
			}
			flat = append(flat, Doc{ID: d.ID, Text: text})
		}
		require.NoError(t, titled.AddBatch(docs))
		require.NoError(t, joined.AddBatch(flat))
		want, err := joined.Build()
		require.NoError(t, err)
		got, err := titled.Build()
		require.NoError(t, err)
		equalIndexes(t, want, got)
	}
}

// plainAnalyzer hides the analysis.RawTokenizer methods of an analyzer.
type plainAnalyzer struct{ a analysis.Analyzer }

func (p plainAnalyzer) Language() string             { return p.a.Language() }
func (p plainAnalyzer) Analyze(text string) []string { return p.a.Analyze(text) }
func (p plainAnalyzer) Version() string              { return p.a.Version() }

func testAddBatch(t *testing.T, a analysis.Analyzer, s synth) {
	seq := NewBuilder(a)
	bat := NewBuilder(a)
	var batch []Doc
	for i, d := range s.docs {
		id := fmt.Sprintf("doc%d", i)
		require.NoError(t, seq.Add(id, d))
		batch = append(batch, Doc{ID: id, Text: d})
	}
	require.NoError(t, bat.Add(batch[0].ID, batch[0].Text))
	require.NoError(t, bat.AddBatch(batch[1:1000]))
	require.NoError(t, bat.AddBatch(batch[1000:]))
	// Invalid batches add nothing.
	assert.Error(t, bat.AddBatch([]Doc{{ID: "new1", Text: "x"}, {ID: "doc5", Text: "y"}}))
	assert.Error(t, bat.AddBatch([]Doc{{ID: "new1", Text: "x"}, {ID: "new1", Text: "y"}}))
	assert.Error(t, bat.AddBatch([]Doc{{ID: "new1", Text: "x"}, {ID: "", Text: "y"}}))
	want, err := seq.Build()
	require.NoError(t, err)
	got, err := bat.Build()
	require.NoError(t, err)
	equalIndexes(t, want, got)
}

func TestEmptyDocuments(t *testing.T) {
	// A document without terms does not count in docCount (Lucene's
	// CollectionStatistics.docCount), nor in avgdl.
	b := NewBuilder(whitespace(t))
	require.NoError(t, b.Add("e", "   "))
	require.NoError(t, b.Add("x", "a b"))
	require.NoError(t, b.Add("y", "b c d e"))
	ix, err := b.Build()
	require.NoError(t, err)
	assert.Equal(t, 3, ix.NumDocs())
	assert.Equal(t, 3.0, ix.AvgDocLen())
	hits := ix.Search("a", 5, DefaultParams)
	idf := float32(math.Log(1 + (2-1+0.5)/(1+0.5)))
	norm := float32(1 / float32(float32(0.9)*float32(float32(0.6)+float32(float32(float32(0.4)*2)/3))))
	want := float32(idf - float32(idf/float32(1+norm)))
	assert.Equal(t, []Hit{{"x", want}}, hits)

	// Only empty documents: builds, finds nothing.
	b = NewBuilder(whitespace(t))
	require.NoError(t, b.Add("e", ""))
	ix, err = b.Build()
	require.NoError(t, err)
	assert.Empty(t, ix.Search("a", 5, DefaultParams))
	assert.Equal(t, 0.0, ix.AvgDocLen())
}

func TestEnglishAnalyzerIndex(t *testing.T) {
	a, err := analysis.ForLanguage("en")
	require.NoError(t, err)
	b := NewBuilder(a)
	require.NoError(t, b.Add("1", "Running libraries"))
	require.NoError(t, b.Add("2", "The cat runs to the library"))
	require.NoError(t, b.Add("3", "Dogs"))
	ix, err := b.Build()
	require.NoError(t, err)
	// Stop words count in neither length: doc 2 has 3 terms (cat run librari).
	assert.Equal(t, float64(float32(6.0/3)), ix.AvgDocLen())
	hits := ix.Search("the LIBRARY runner", 10, DefaultParams)
	require.Len(t, hits, 2)
	assert.Equal(t, "1", hits[0].DocID)
	assert.Equal(t, "2", hits[1].DocID)
}

func equalIndexes(t *testing.T, want, got *Index) {
	t.Helper()
	assert.Equal(t, want.lang, got.lang)
	assert.Equal(t, want.anaVer, got.anaVer)
	assert.Equal(t, want.ids, got.ids)
	assert.Equal(t, want.idOff, got.idOff)
	assert.Equal(t, want.norms, got.norms)
	assert.Equal(t, want.docCount, got.docCount)
	assert.Equal(t, want.sumTTF, got.sumTTF)
	assert.Equal(t, want.terms.bytes, got.terms.bytes)
	assert.Equal(t, want.terms.off, got.terms.off)
	for id := range uint32(want.terms.len()) {
		term := string(want.terms.term(id))
		got, ok := got.terms.find(term, got.terms.hash(term))
		assert.True(t, ok)
		assert.Equal(t, id, got)
	}
	assert.Equal(t, want.df, got.df)
	assert.Equal(t, want.postOff, got.postOff)
	assert.Equal(t, want.post, got.post)
	assert.Equal(t, want.avgdl, got.avgdl)
	assert.Same(t, want.analyzer, got.analyzer)
}

func TestSerializationRoundTrip(t *testing.T) {
	for _, ix := range []*Index{tinyIndex(t), syntheticIndex(t, 2000)} {
		var buf bytes.Buffer
		n, err := ix.WriteTo(&buf)
		require.NoError(t, err)
		assert.Equal(t, int64(buf.Len()), n)
		got, err := Read(bytes.NewReader(buf.Bytes()))
		require.NoError(t, err)
		equalIndexes(t, ix, got)
		for _, q := range []string{"a b c", "z", "w3 w17 w250", "w1 w1 w42"} {
			assert.Equal(t, ix.Search(q, 50, DefaultParams), got.Search(q, 50, DefaultParams))
		}
		// Deterministic output.
		var buf2 bytes.Buffer
		_, err = got.WriteTo(&buf2)
		require.NoError(t, err)
		assert.Equal(t, buf.Bytes(), buf2.Bytes())
	}
}

// The serialized bytes are the format's, whichever way WriteTo produces
// them (these digests are those of the first, buffered WriteTo); writing
// holds no copy of the index, and a failing writer's error is returned.
func TestWriteToStreams(t *testing.T) {
	ix := syntheticIndex(t, 30000)
	var buf bytes.Buffer
	n, err := ix.WriteTo(&buf)
	require.NoError(t, err)
	assert.Equal(t, int64(buf.Len()), n)
	sum := sha256.Sum256(buf.Bytes())
	assert.Equal(t, "a126fd3b02cbd03b10dc3bb6a3d19e9533580592ebfa87c7f8dee23f461a3fd8", hex.EncodeToString(sum[:]))
	var tiny bytes.Buffer
	_, err = tinyIndex(t).WriteTo(&tiny)
	require.NoError(t, err)
	sum = sha256.Sum256(tiny.Bytes())
	assert.Equal(t, "2d9798b7f2110aa484f4e753400126aefc264ba4de829fd35f658bac2e85dc2b", hex.EncodeToString(sum[:]))

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = ix.WriteTo(discard{})
	require.NoError(t, err)
	runtime.ReadMemStats(&after)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(buf.Len()/8),
		"writing a %d-byte index allocated %d bytes", buf.Len(), after.TotalAlloc-before.TotalAlloc)

	w := &failAfter{n: 100_000}
	n, err = ix.WriteTo(w)
	assert.ErrorIs(t, err, errWriteFailed)
	assert.Equal(t, int64(w.written), n)
	assert.Less(t, n, int64(buf.Len()))
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

var errWriteFailed = errors.New("disk full")

// failAfter accepts n bytes, then fails.
type failAfter struct{ n, written int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.written+len(p) > f.n {
		m := f.n - f.written
		f.written = f.n
		return m, errWriteFailed
	}
	f.written += len(p)
	return len(p), nil
}

// Read decodes as it reads: it allocates the index and little besides (the
// first Read, which read the whole payload before decoding it, allocated
// 3.9 times the serialized size here), reads nothing after the checksum,
// and a damaged length cannot make a small input allocate much.
func TestReadStreams(t *testing.T) {
	var buf bytes.Buffer
	_, err := syntheticIndex(t, 30000).WriteTo(&buf)
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = Read(bytes.NewReader(buf.Bytes()))
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(3*buf.Len()))

	var tiny bytes.Buffer
	_, err = tinyIndex(t).WriteTo(&tiny)
	require.NoError(t, err)
	r := bytes.NewReader(append(bytes.Clone(tiny.Bytes()), "garbage"...))
	_, err = Read(r)
	require.NoError(t, err)
	assert.Equal(t, len("garbage"), r.Len())

	damaged := bytes.Clone(tiny.Bytes())
	binary.LittleEndian.PutUint64(damaged[len(magic)+4:], 1<<40)
	runtime.ReadMemStats(&before)
	_, err = Read(bytes.NewReader(damaged))
	runtime.ReadMemStats(&after)
	assert.ErrorIs(t, err, ErrCorrupt)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20))

	// A header and counts that claim far more than the input holds: one
	// document, then 2^38 terms in a 2^40-byte payload of a few bytes.
	crafted := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint32([]byte(magic), formatVersion), 1<<40)
	for _, v := range []uint64{0, 0, 1, 1} { // language, analyzer version, 1 document, id of 1 byte
		crafted = binary.AppendUvarint(crafted, v)
	}
	crafted = append(crafted, 'a', 1)           // the id, its norm
	for _, v := range []uint64{1, 1, 1 << 38} { // docCount, sumTotalTermFreq, terms
		crafted = binary.AppendUvarint(crafted, v)
	}
	runtime.ReadMemStats(&before)
	_, err = Read(bytes.NewReader(crafted))
	runtime.ReadMemStats(&after)
	assert.ErrorIs(t, err, ErrCorrupt)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20))
}

func TestSerializationCorruption(t *testing.T) {
	var buf bytes.Buffer
	_, err := tinyIndex(t).WriteTo(&buf)
	require.NoError(t, err)
	data := buf.Bytes()

	// Every truncation fails.
	for n := 0; n < len(data); n++ {
		_, err := Read(bytes.NewReader(data[:n]))
		require.Error(t, err, "truncated to %d bytes", n)
	}
	// Every single bit flip fails (CRC-32C detects all of them).
	for i := 0; i < len(data); i++ {
		for bit := 0; bit < 8; bit++ {
			c := bytes.Clone(data)
			c[i] ^= 1 << bit
			_, err := Read(bytes.NewReader(c))
			require.Error(t, err, "flip byte %d bit %d", i, bit)
		}
	}
	// Data after a valid index is not read; an unrelated file is rejected.
	ix, err := Read(bytes.NewReader(append(bytes.Clone(data), "garbage"...)))
	require.NoError(t, err)
	assert.Equal(t, 5, ix.NumDocs())
	_, err = Read(strings.NewReader("not an index at all, not an index at all"))
	assert.ErrorIs(t, err, ErrCorrupt)
	_, err = Read(bytes.NewReader(data[:10]))
	assert.ErrorIs(t, err, ErrCorrupt)
}

func decodeBytes(p []byte) (*Index, error) {
	return decodePayload(bufio.NewReader(bytes.NewReader(p)), uint64(len(p)))
}

func TestDecodeValidatesWithoutChecksum(t *testing.T) {
	// Structurally invalid payloads are rejected by the decoder itself, not
	// only by the checksum (defence in depth, never a panic).
	var buf bytes.Buffer
	_, err := tinyIndex(t).WriteTo(&buf)
	require.NoError(t, err)
	payload := buf.Bytes()[headerLen : buf.Len()-4]
	_, err = decodeBytes(payload)
	require.NoError(t, err)
	for i := 0; i < len(payload); i++ {
		for _, v := range []byte{0, 1, 0x7f, 0x80, 0xff, payload[i] + 1} {
			c := bytes.Clone(payload)
			c[i] = v
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic decoding payload with byte %d = %#x: %v", i, v, r)
					}
				}()
				ix, err := decodeBytes(c)
				if err == nil {
					// Some changes are valid indexes (e.g. another doc id):
					// they must be searchable.
					ix.analyzer = whitespace(t)
					ix.init()
					ix.Search("a b c d z", 10, DefaultParams)
				} else {
					assert.True(t, errors.Is(err, ErrCorrupt))
				}
			}()
		}
	}
}

func TestConcurrentSearchAndAdd(t *testing.T) {
	words := func(i int) string { return "w" + string(rune('a'+i%7)) + " w" + string(rune('a'+i%5)) }
	b := NewBuilder(whitespace(t))
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				assert.NoError(t, b.Add(string(rune('A'+g))+strings.Repeat("x", i%3)+string(rune(i+100)), words(i)))
			}
		}(g)
	}
	wg.Wait()
	ix, err := b.Build()
	require.NoError(t, err)
	assert.Equal(t, 2000, ix.NumDocs())

	ix = syntheticIndex(t, 3000)
	queries := []string{"w1 w2", "w7 w7 w99", "w500", "w3 w5 w8 w13"}
	want := make([][]Hit, len(queries))
	for i, q := range queries {
		want[i] = ix.Search(q, 100, DefaultParams)
		require.NotEmpty(t, want[i])
	}
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				q := (g + i) % len(queries)
				assert.Equal(t, want[q], ix.Search(queries[q], 100, DefaultParams))
			}
		}(g)
	}
	wg.Wait()
}

func TestTopKMatchesFullSort(t *testing.T) {
	ix := syntheticIndex(t, 3000)
	all := ix.Search("w2 w9 w33 w33", ix.NumDocs(), DefaultParams)
	require.NotEmpty(t, all)
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		require.True(t, a.Score > b.Score || (a.Score == b.Score && ix.docNum(a.DocID) < ix.docNum(b.DocID)), i)
	}
	for _, k := range []int{1, 5, 100, 1000} {
		got := ix.Search("w2 w9 w33 w33", k, DefaultParams)
		assert.Equal(t, all[:min(k, len(all))], got, k)
	}
}

func (ix *Index) docNum(id string) int {
	for d := range uint32(ix.NumDocs()) {
		if ix.docID(d) == id {
			return int(d)
		}
	}
	return -1
}
