package trec

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// requireInputErr checks err is an *inputerr.Error naming file:line.
func requireInputErr(t *testing.T, err error, file string, line int, msg string) {
	t.Helper()
	var ie *inputerr.Error
	require.True(t, errors.As(err, &ie), "want *inputerr.Error, got %T %v", err, err)
	assert.Equal(t, file, ie.File)
	assert.Equal(t, line, ie.Line)
	assert.Contains(t, ie.Msg, msg)
}

func TestParseQrels(t *testing.T) {
	in := "# comment\n301 0 DOC-1 1\n301\t0\tdoc/../2\t0\n\n302 Q0 x -1\n302 0 y 3   \n"
	q, err := ParseQrels(strings.NewReader(in), "q.txt")
	require.NoError(t, err)
	assert.Equal(t, Qrels{
		"301": {"DOC-1": 1, "doc/../2": 0},
		"302": {"x": -1, "y": 3},
	}, q)
}

func TestParseQrelsErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		line int
		msg  string
	}{
		{"1 0 a 1\n1 0 a\n", 2, "4 fields"},
		{"1 0 a 1 extra\n", 1, "4 fields"},
		{"1 0 a 1\n1 0 b 1.5\n", 2, "not an integer"},
		{"1 0 a 1\n\n1 0 a 0\n", 3, `duplicate judgment for document "a" in query "1"`},
		{"", 0, "no judgments"},
		{"# only a comment\n", 0, "no judgments"},
	} {
		_, err := ParseQrels(strings.NewReader(c.in), "q.txt")
		requireInputErr(t, err, "q.txt", c.line, c.msg)
	}
}

func TestParseRun(t *testing.T) {
	// trec_eval's results.trunc has junk after the tag; results.test uses tabs
	// and leading spaces in the score column.
	in := "301\tQ0\tFBIS3-1\t99\t  2.5\tSTD more junk\n301 Q0 FBIS3-2 1 -1e-3 STD\n302 Q0 FBIS3-1 1 7 LAST\n"
	r, err := ParseRun(strings.NewReader(in), "r.txt")
	require.NoError(t, err)
	assert.Equal(t, "r.txt", r.Name)
	assert.Equal(t, "LAST", r.Tag)
	assert.Equal(t, map[string][]Result{
		"301": {{"FBIS3-1", 2.5, 99}, {"FBIS3-2", -0.001, 1}},
		"302": {{"FBIS3-1", 7, 1}},
	}, r.Entries)
}

func TestParseRunErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		line int
		msg  string
	}{
		{"1 Q0 a 1 1.0\n", 1, "6 fields"},
		{"1 Q0 a 1 1.0 t\n1 Q0 b 2 abc t\n", 2, "not a finite number"},
		{"1 Q0 a 1 NaN t\n", 1, "not a finite number"},
		{"1 Q0 a 1 inf t\n", 1, "not a finite number"},
		{"1 Q0 a 1 1e999 t\n", 1, "not a finite number"},
		{"1 Q0 a x 1 t\n", 1, "rank"},
		{"1 Q0 a 1 1 t\n2 Q0 a 1 1 t\n1 Q0 a 2 0 t\n", 3, `duplicate document "a" in query "1"`},
		{"", 0, "no results"},
		{"\n\n", 0, "no results"},
	} {
		_, err := ParseRun(strings.NewReader(c.in), "r.txt")
		requireInputErr(t, err, "r.txt", c.line, c.msg)
	}
}

func TestReadFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.run")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	_, err := ReadRun(empty)
	requireInputErr(t, err, empty, 0, "no results")
	_, err = ReadQrels(filepath.Join(dir, "missing"))
	requireInputErr(t, err, filepath.Join(dir, "missing"), 0, "cannot read qrels")

	// A very long line (beyond bufio.Scanner's default limit) still parses.
	long := strings.Repeat("x", 200_000)
	p := filepath.Join(dir, "long.run")
	require.NoError(t, os.WriteFile(p, []byte("1 Q0 "+long+" 1 1 t"), 0o644)) // no final newline
	r, err := ReadRun(p)
	require.NoError(t, err)
	assert.Equal(t, long, r.Entries["1"][0].DocID)
}

func TestSortResults(t *testing.T) {
	rs := []Result{{"a", 1, 1}, {"b", 2, 2}, {"c", 2, 3}, {"B", 2, 4}, {"d", 0.5, 5}}
	assert.False(t, ResultsSorted(rs))
	SortResults(rs)
	assert.True(t, ResultsSorted(rs))
	assert.True(t, ResultsSorted(nil))
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.DocID)
	}
	// ties at 2 by docno descending in byte order ('B' < 'b' < 'c')
	assert.Equal(t, []string{"c", "b", "B", "a", "d"}, ids)
}

func TestWriteRun(t *testing.T) {
	var buf bytes.Buffer
	err := WriteRun(&buf, "bm25", []Ranking{
		{QID: "q2", Hits: []Result{{DocID: "d9", Score: 12.3456789, Rank: 7}, {DocID: "d1", Score: -0.5}}},
		{QID: "q1", Hits: []Result{{DocID: "d1", Score: 1}}},
		{QID: "q3"},
	})
	require.NoError(t, err)
	want := "q2 Q0 d9 1 12.345679 bm25\nq2 Q0 d1 2 -0.500000 bm25\nq1 Q0 d1 1 1.000000 bm25\n"
	assert.Equal(t, want, buf.String())

	// What is written reads back.
	r, err := ParseRun(strings.NewReader(buf.String()), "w")
	require.NoError(t, err)
	assert.Equal(t, []Result{{"d9", 12.345679, 1}, {"d1", -0.5, 2}}, r.Entries["q2"])
}

func TestWriteRunRejectsUnwritable(t *testing.T) {
	for _, c := range []struct {
		tag   string
		rk    Ranking
		field string
	}{
		{"my tag", Ranking{QID: "q", Hits: []Result{{DocID: "d"}}}, "tag"},
		{"t", Ranking{QID: "#q", Hits: []Result{{DocID: "d"}}}, "rankings[0].qid"},
		{"t", Ranking{QID: "q", Hits: []Result{{DocID: "d x"}}}, "rankings[0].hits[0].doc_id"},
		{"t", Ranking{QID: "q", Hits: []Result{{DocID: ""}}}, "rankings[0].hits[0].doc_id"},
		{"t", Ranking{QID: "q", Hits: []Result{{DocID: "d", Score: math.NaN()}}}, "rankings[0].hits[0].score"},
	} {
		err := WriteRun(&bytes.Buffer{}, c.tag, []Ranking{c.rk})
		var ie *inputerr.Error
		require.True(t, errors.As(err, &ie), "%+v", c)
		assert.Equal(t, c.field, ie.Field)
	}
}

// BenchmarkParseRun: a first stage's run of 200 queries × 1,000 documents
// (what PrepareCandidates and Evaluate read).
func BenchmarkParseRun(b *testing.B) {
	var rs []Ranking
	for q := 0; q < 200; q++ {
		r := Ranking{QID: fmt.Sprintf("q-%03d", q)}
		for d := 0; d < 1000; d++ {
			r.Hits = append(r.Hits, Result{DocID: fmt.Sprintf("doc-%05d", (q*7919+d*104729)%50000), Score: float64(1000-d) / 7})
		}
		rs = append(rs, r)
	}
	var buf bytes.Buffer
	if err := WriteRun(&buf, "bm25", rs); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRun(bytes.NewReader(buf.Bytes()), "run"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/200000, "ns/line")
}

// Queries may come back after others (their results join the earlier ones,
// duplicates still found), and lines may be longer than the reader's buffer.
func TestParseRunInterleavedAndLongLines(t *testing.T) {
	long := strings.Repeat("x", 200_000)
	in := "q1 Q0 a 1 3 t\nq2 Q0 a 1 3 t\nq1 Q0 b 2 2 t\nq1 Q0 " + long + " 3 1 t\n"
	r, err := ParseRun(strings.NewReader(in), "r.txt")
	require.NoError(t, err)
	assert.Equal(t, map[string][]Result{
		"q1": {{"a", 3, 1}, {"b", 2, 2}, {long, 1, 3}},
		"q2": {{"a", 3, 1}},
	}, r.Entries)
	_, err = ParseRun(strings.NewReader(in+"q2 Q0 b 2 2 t\nq1 Q0 a 9 0 t\n"), "r.txt")
	requireInputErr(t, err, "r.txt", 6, `duplicate document "a" in query "q1"`)
	// Fields of a comment or blank line are not a result; tabs and \r split.
	r, err = ParseRun(strings.NewReader("# q1 Q0 z 1 1 t\n\n  \r\nq1\tQ0\tz\t1\t1\tt\r\n"), "r.txt")
	require.NoError(t, err)
	assert.Equal(t, map[string][]Result{"q1": {{"z", 1, 1}}}, r.Entries)
	assert.Equal(t, "t", r.Tag)
}

// RunOf is what ParseRun reads back from WriteRun's file: scores rounded
// alike (ties made by rounding included), ranks per ranking, a query split
// in two rankings, the last tag; and it refuses what ParseRun refuses.
func TestRunOfIsTheParsedRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 50 {
		var rks []Ranking
		for q := range 1 + rng.IntN(5) {
			rk := Ranking{QID: fmt.Sprint("q", q%3)}
			for d := range rng.IntN(30) {
				score := float64(rng.IntN(5)) + rng.Float64()*1e-6 - 3
				switch n % 3 { // whole numbers: those RunOf keeps as they are, and those it must round
				case 1:
					score = float64(rng.IntN(2000) - 1000)
				case 2:
					score = []float64{1 << 53, 1<<53 + 2, -(1 << 60), math.Copysign(0, -1), 1e300, 4503599627370495.5}[rng.IntN(6)]
				}
				rk.Hits = append(rk.Hits, Result{DocID: fmt.Sprintf("d%d-%d", q, d), Score: score})
			}
			rks = append(rks, rk)
		}
		var buf bytes.Buffer
		if err := WriteRun(&buf, "tag", rks); err != nil {
			t.Fatal(err)
		}
		got, ok := RunOf("run x", "tag", rks)
		want, err := ParseRun(&buf, "run x")
		if err != nil {
			if ok {
				t.Fatalf("case %d: ParseRun refused (%v), RunOf did not", n, err)
			}
			continue
		}
		if !ok || !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: RunOf %+v, ParseRun %+v", n, got, want)
		}
	}
	for name, rks := range map[string][]Ranking{
		"no results":          {{QID: "q1"}},
		"a document twice":    {{QID: "q1", Hits: []Result{{DocID: "d"}}}, {QID: "q1", Hits: []Result{{DocID: "d"}}}},
		"a control character": {{QID: "q1", Hits: []Result{{DocID: "d\x01"}}}},
	} {
		if _, ok := RunOf("r", "t", rks); ok {
			t.Errorf("%s: RunOf accepted what ParseRun refuses", name)
		}
	}
}
