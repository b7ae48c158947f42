package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/artifact"
)

// countingStore counts the artifacts opened.
type countingStore struct {
	artifact.Store
	opens atomic.Int64
}

func (s *countingStore) Open(ctx context.Context, ref artifact.Ref) (io.ReadCloser, error) {
	s.opens.Add(1)
	return s.Store.Open(ctx, ref)
}

// The windows of a run all start together: the candidates are read and
// decoded once, every query gets its passages (each stored once in the
// artifact), and a damaged artifact is an error for every caller that is not
// kept (the next call reads again).
func TestLoadQueryReadsCandidatesOnce(t *testing.T) {
	ctx := context.Background()
	fs, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	s := &countingStore{Store: fs}
	file := candidatesFile{
		Passages: map[string]string{"d1": "one", "d2": "two", "d3": "three"},
		Queries: []candidatesQuery{
			{QID: "q1", Query: "first", Docs: []string{"d2", "d1"}, Rest: []string{"d9"}},
			{QID: "q2", Query: "second", Docs: []string{"d1", "d3"}},
		},
	}
	b, err := json.Marshal(file)
	require.NoError(t, err)
	ref, err := artifact.Put(ctx, fs, b)
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			qid := []string{"q1", "q2"}[i%2]
			q, err := LoadQuery(ctx, s, ref, qid)
			if err == nil && q.QID != qid {
				err = io.ErrUnexpectedEOF
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, s.opens.Load())
	q1, err := LoadQuery(ctx, s, ref, "q1")
	require.NoError(t, err)
	require.Equal(t, []string{"d2", "d1"}, q1.IDs())
	p, ok := q1.Passage("d1")
	require.True(t, ok)
	require.Equal(t, "one", p)
	require.Equal(t, []string{"d9"}, q1.Rest)
	_, err = LoadQuery(ctx, s, ref, "q3")
	require.ErrorContains(t, err, "query q3 is not among the candidates")

	// A passage missing from the artifact: damaged, and not cached.
	delete(file.Passages, "d3")
	b, err = json.Marshal(file)
	require.NoError(t, err)
	bad, err := artifact.Put(ctx, fs, b)
	require.NoError(t, err)
	before := s.opens.Load()
	_, err = LoadQuery(ctx, s, bad, "q1")
	require.ErrorContains(t, err, `no passage for document "d3" of query q2`)
	_, err = LoadQuery(ctx, s, bad, "q1")
	require.Error(t, err)
	require.EqualValues(t, before+2, s.opens.Load())
}

// The candidates artifact's bytes are json.Marshal's, whatever the ids and
// passages hold (HTML characters, U+2028, invalid UTF-8, quotes, control
// characters, ids that sort differently as bytes and as runes).
func TestCandidatesEncodeIsMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"a", "Z", "é", "<b>", "&", "\\u2028", "\u2028", "\xff", "\"", "\\", "\n", "\x01", " ", "[1]", "😀", "\ufffd"}
	str := func() string {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	for n := range 200 {
		f := candidatesFile{Passages: map[string]string{}}
		for range rng.IntN(20) {
			f.Passages[str()] = str()
		}
		for q := range rng.IntN(4) {
			f.Queries = append(f.Queries, candidatesQuery{QID: fmt.Sprint(q), Query: str(), Docs: []string{str()}})
			if q%2 == 1 {
				f.Queries[q].Rest = []string{str(), str()}
			}
		}
		want, err := json.Marshal(f)
		require.NoError(t, err)
		got, err := f.encode()
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "case %d", n)
	}
}
