package vector_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/vector"
)

func openAt(t *testing.T, dir string) *vector.Embedded {
	s, err := vector.OpenEmbedded(dir)
	require.NoError(t, err)
	return s
}

func TestEmbeddedPersists(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openAt(t, dir)
	docs, queries := randomData(3, 300, 3, 16)
	require.NoError(t, a.Create(ctx, "done", 16, vector.Cosine))
	require.NoError(t, a.Upsert(ctx, "done", docs[:100]))
	require.NoError(t, a.Upsert(ctx, "done", docs[100:]))
	require.NoError(t, a.FinishLoad(ctx, "done"))
	require.NoError(t, a.Create(ctx, "half", 16, vector.Dot))
	require.NoError(t, a.Upsert(ctx, "half", docs[:10]))

	b := openAt(t, dir) // a new process, as far as the disk is concerned
	for _, q := range queries {
		want, err := a.Search(ctx, "done", q, 20)
		require.NoError(t, err)
		got, err := b.Search(ctx, "done", q, 20)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		checkTopK(t, "reopened", bruteForce(docs, q, vector.Cosine), got, 20)
	}
	info, err := b.Info(ctx, "half")
	require.NoError(t, err)
	assert.Equal(t, vector.CollectionInfo{Dim: 16, Metric: vector.Dot, Count: 10}, info)
	_, err = b.Search(ctx, "half", queries[0], 5)
	require.ErrorIs(t, err, vector.ErrIncomplete, "an unfinished load stays unfinished across restarts")
	require.NoError(t, b.Upsert(ctx, "half", docs[10:20]))
	require.NoError(t, b.FinishLoad(ctx, "half"))
	got, err := openAt(t, dir).Search(ctx, "half", queries[0], 5)
	require.NoError(t, err)
	checkTopK(t, "resumed load", bruteForce(docs[:20], queries[0], vector.Dot), got, 5)
}

// A crash between writing data and committing the header leaves bytes past
// the committed count: they must be invisible, and cut off by the next append.
func TestEmbeddedIgnoresUncommittedTail(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openAt(t, dir)
	require.NoError(t, a.Create(ctx, "c", 2, vector.Dot))
	require.NoError(t, a.Upsert(ctx, "c", []vector.Point{{"a", []float32{1, 0}}, {"b", []float32{0, 1}}}))
	require.NoError(t, a.FinishLoad(ctx, "c"))
	appendFile(t, filepath.Join(dir, "c", "vectors-1.f32"), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	appendFile(t, filepath.Join(dir, "c", "ids-1.jsonl"), []byte("\"ghost\"\n\"half-writ"))

	b := openAt(t, dir)
	info, err := b.Info(ctx, "c")
	require.NoError(t, err)
	assert.Equal(t, 2, info.Count)
	require.NoError(t, b.Upsert(ctx, "c", []vector.Point{{"new", []float32{3, 3}}}))
	hits, err := openAt(t, dir).Search(ctx, "c", []float32{1, 1}, 5)
	require.NoError(t, err)
	assert.Equal(t, []vector.Hit{{"new", 6}, {"a", 1}, {"b", 1}}, hits)
}

func appendFile(t *testing.T, path string, b []byte) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(b)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// Replacing a stored vector writes a new generation of the files, never the old ones in place.
func TestEmbeddedOverwriteWritesNewGeneration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openAt(t, dir)
	require.NoError(t, a.Create(ctx, "c", 2, vector.Dot))
	require.NoError(t, a.Upsert(ctx, "c", []vector.Point{{"a", []float32{1, 0}}, {"b", []float32{0, 1}}}))
	require.NoError(t, a.FinishLoad(ctx, "c"))
	require.NoError(t, a.Upsert(ctx, "c", []vector.Point{{"a", []float32{0, 4}}}))
	names := dirNames(t, filepath.Join(dir, "c"))
	assert.Equal(t, []string{"header.json", "ids-2.jsonl", "vectors-2.f32"}, names)
	hits, err := openAt(t, dir).Search(ctx, "c", []float32{0, 1}, 5)
	require.NoError(t, err)
	assert.Equal(t, []vector.Hit{{"a", 4}, {"b", 1}}, hits)
}

func dirNames(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Two stores on one directory (two workers sharing a disk) see each other's commits.
func TestEmbeddedSeesOtherWriters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := openAt(t, dir), openAt(t, dir)
	require.NoError(t, a.Create(ctx, "c", 2, vector.Dot))
	require.NoError(t, a.Upsert(ctx, "c", []vector.Point{{"a", []float32{1, 0}}}))
	_, err := b.Search(ctx, "c", []float32{1, 0}, 1)
	require.ErrorIs(t, err, vector.ErrIncomplete)
	require.NoError(t, a.FinishLoad(ctx, "c"))
	hits, err := b.Search(ctx, "c", []float32{1, 0}, 5)
	require.NoError(t, err)
	assert.Equal(t, []vector.Hit{{"a", 1}}, hits)
	require.NoError(t, a.Upsert(ctx, "c", []vector.Point{{"b", []float32{2, 0}}}))
	hits, err = b.Search(ctx, "c", []float32{1, 0}, 5)
	require.NoError(t, err)
	assert.Equal(t, []vector.Hit{{"b", 2}, {"a", 1}}, hits)
	require.NoError(t, a.Delete(ctx, "c"))
	_, err = b.Search(ctx, "c", []float32{1, 0}, 5)
	require.ErrorIs(t, err, vector.ErrNotFound)
	require.NoError(t, a.Create(ctx, "c", 3, vector.Cosine))
	info, err := b.Info(ctx, "c")
	require.NoError(t, err)
	assert.Equal(t, vector.CollectionInfo{Dim: 3, Metric: vector.Cosine}, info)
}

// The scan split across goroutines must give the same answer, and many
// concurrent searches must not disturb each other (run with -race).
func TestEmbeddedParallelScan(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // four shares even on a small machine
	ctx := context.Background()
	s := openAt(t, t.TempDir())
	docs, queries := randomData(5, 5000, 8, 256)
	load(t, backend{store: s}, "big", 256, vector.Dot, docs)
	want := make([][]vector.Hit, len(queries))
	for i, q := range queries {
		var err error
		want[i], err = s.Search(ctx, "big", q, 50)
		require.NoError(t, err)
		checkTopK(t, fmt.Sprintf("query %d", i), bruteForce(docs, q, vector.Dot), want[i], 50)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range queries {
				q := queries[(i+g)%len(queries)]
				got, err := s.Search(ctx, "big", q, 50)
				assert.NoError(t, err)
				assert.Equal(t, want[(i+g)%len(queries)], got)
			}
		})
	}
	wg.Wait()
}

// Equal scores are cut at k by doc id, also when the scan is split.
func TestEmbeddedTiesAtTheCutoff(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	ctx := context.Background()
	s := openAt(t, t.TempDir())
	const n, dim = 3000, 256
	docs := make([]vector.Point, n)
	v := make([]float32, dim)
	v[0] = 1
	for i := range docs {
		docs[i] = vector.Point{DocID: fmt.Sprintf("d%04d", (i*7919)%n), Vector: v} // ids out of insertion order
	}
	load(t, backend{store: s}, "ties", dim, vector.Cosine, docs)
	hits, err := s.Search(ctx, "ties", v, 5)
	require.NoError(t, err)
	assert.Equal(t, []string{"d0000", "d0001", "d0002", "d0003", "d0004"}, ids(hits))
}

func TestEmbeddedNamesStayInside(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "store")
	s := openAt(t, root)
	for _, name := range []string{"../evil", "a/b", ".hidden", "a b", "ü", strings.Repeat("a", 256)} {
		assertInvalid(t, s.Create(ctx, name, 2, vector.Dot), "name %q", name)
	}
	assert.Equal(t, []string{"store"}, dirNames(t, filepath.Dir(root)))
	assert.Equal(t, []string{".tmp"}, dirNames(t, root))
}
