package vector_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net"
	"os"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/vector"
	"github.com/clirflow/clirflow/internal/vector/qdranttest"
)

// A backend under test: a fresh store, and a prefix that keeps collection
// names apart on a shared real server.
type backend struct {
	store  vector.VectorStore
	prefix string
}

func embedded(t *testing.T) backend {
	s, err := vector.OpenEmbedded(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return backend{store: s}
}

func fakeQdrant(t *testing.T) (backend, *qdranttest.Server) {
	srv, err := qdranttest.Start(qdranttest.Options{})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	s, err := vector.NewQdrant(vector.QdrantConfig{Host: srv.Host, Port: srv.Port})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return backend{store: s}, srv
}

// realQdrant connects to QDRANT_ADDR (host:port of the gRPC API), or skips.
func realQdrant(t *testing.T) backend {
	addr := os.Getenv("QDRANT_ADDR")
	if addr == "" {
		t.Skip("QDRANT_ADDR not set: skipping the suite against a real Qdrant (set it to the gRPC host:port, e.g. localhost:6334)")
	}
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err, "QDRANT_ADDR")
	var p int
	_, err = fmt.Sscan(port, &p)
	require.NoError(t, err, "QDRANT_ADDR port")
	// Exact: without it Qdrant answers from its HNSW graph, which is approximate.
	s, err := vector.NewQdrant(vector.QdrantConfig{Host: host, Port: p, APIKey: os.Getenv("QDRANT_API_KEY"), Exact: true})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	var r [4]byte
	rand.Read(r[:])
	return backend{store: s, prefix: "clirflow-test-" + hex.EncodeToString(r[:]) + "-"}
}

func TestConformanceEmbedded(t *testing.T) { runConformance(t, embedded) }

func TestConformanceQdrantFake(t *testing.T) {
	runConformance(t, func(t *testing.T) backend { b, _ := fakeQdrant(t); return b })
}

func TestConformanceQdrantReal(t *testing.T) {
	realQdrant(t) // skips, once, without QDRANT_ADDR
	runConformance(t, realQdrant)
}

// runConformance is the behaviour every VectorStore must show.
func runConformance(t *testing.T, open func(*testing.T) backend) {
	ctx := context.Background()

	for _, metric := range []vector.Metric{vector.Cosine, vector.Dot} {
		t.Run("TopKMatchesBruteForce/"+string(metric), func(t *testing.T) {
			b := open(t)
			name := b.prefix + "random-" + string(metric)
			docs, queries := randomData(1, 2000, 20, 64)
			load(t, b, name, 64, metric, docs)
			info, err := b.store.Info(ctx, name)
			require.NoError(t, err)
			assert.Equal(t, vector.CollectionInfo{Dim: 64, Metric: metric, Count: 2000, Complete: true}, info)
			for qi, q := range queries {
				got, err := b.store.Search(ctx, name, q, 100)
				require.NoError(t, err)
				checkTopK(t, fmt.Sprintf("query %d", qi), bruteForce(docs, q, metric), got, 100)
			}
		})
	}

	t.Run("InvalidInput", func(t *testing.T) {
		b := open(t)
		name := b.prefix + "invalid"
		for _, c := range []struct {
			name   string
			dim    int
			metric vector.Metric
		}{{"", 4, vector.Cosine}, {"a/b", 4, vector.Cosine}, {"..", 4, vector.Cosine}, {name, 0, vector.Cosine}, {name, 4, "l2"}} {
			assertInvalid(t, b.store.Create(ctx, c.name, c.dim, c.metric), "create %q dim %d metric %q", c.name, c.dim, c.metric)
		}
		require.NoError(t, b.store.Create(ctx, name, 4, vector.Cosine))
		t.Cleanup(func() { b.store.Delete(ctx, name) })
		require.ErrorIs(t, b.store.Create(ctx, name, 4, vector.Cosine), vector.ErrExists)
		require.NoError(t, b.store.Upsert(ctx, name, []vector.Point{{DocID: "ok", Vector: []float32{1, 0, 0, 0}}}))

		nan, inf := float32(math.NaN()), float32(math.Inf(1))
		for what, pts := range map[string][]vector.Point{
			"short vector":  {{DocID: "d1", Vector: []float32{1, 2, 3}}},
			"long vector":   {{DocID: "d1", Vector: []float32{1, 2, 3, 4, 5}}},
			"NaN":           {{DocID: "d1", Vector: []float32{1, nan, 3, 4}}},
			"+Inf":          {{DocID: "d1", Vector: []float32{1, 2, inf, 4}}},
			"empty doc id":  {{DocID: "", Vector: []float32{1, 2, 3, 4}}},
			"bad 2nd point": {{DocID: "d1", Vector: []float32{1, 2, 3, 4}}, {DocID: "d2", Vector: []float32{1}}},
		} {
			assertInvalid(t, b.store.Upsert(ctx, name, pts), "upsert %s", what)
		}
		info, err := b.store.Info(ctx, name)
		require.NoError(t, err)
		assert.Equal(t, 1, info.Count, "a rejected upsert writes nothing, not even its valid points")

		_, err = b.store.Search(ctx, name, []float32{1, 0, 0, 0}, 10)
		require.ErrorIs(t, err, vector.ErrIncomplete, "search before FinishLoad")
		assert.False(t, vector.IsPermanent(nil))
		require.NoError(t, b.store.FinishLoad(ctx, name))
		require.NoError(t, b.store.FinishLoad(ctx, name), "FinishLoad is idempotent")
		for what, q := range map[string][]float32{"short query": {1, 0}, "long query": {1, 0, 0, 0, 0}, "NaN query": {nan, 0, 0, 0}, "-Inf query": {float32(math.Inf(-1)), 0, 0, 0}} {
			_, err := b.store.Search(ctx, name, q, 10)
			assertInvalid(t, err, "search %s", what)
		}
		_, err = b.store.Search(ctx, name, []float32{1, 0, 0, 0}, 0)
		assertInvalid(t, err, "search k=0")
	})

	t.Run("MissingCollection", func(t *testing.T) {
		b := open(t)
		name := b.prefix + "missing"
		check := func(err error, op string) {
			t.Helper()
			require.ErrorIs(t, err, vector.ErrNotFound, op)
			assert.True(t, vector.IsPermanent(err), op)
		}
		check(b.store.Upsert(ctx, name, []vector.Point{{DocID: "a", Vector: []float32{1}}}), "upsert")
		_, err := b.store.Search(ctx, name, []float32{1}, 1)
		check(err, "search")
		_, err = b.store.Info(ctx, name)
		check(err, "info")
		check(b.store.FinishLoad(ctx, name), "finish load")
		check(b.store.Delete(ctx, name), "delete")
	})

	t.Run("ReUpsertOverwrites", func(t *testing.T) {
		b := open(t)
		name := b.prefix + "overwrite"
		load(t, b, name, 3, vector.Dot, []vector.Point{
			{DocID: "a", Vector: []float32{1, 0, 0}},
			{DocID: "b", Vector: []float32{0, 1, 0}},
			{DocID: "c", Vector: []float32{0, 0, 1}},
		})
		require.NoError(t, b.store.Upsert(ctx, name, []vector.Point{
			{DocID: "a", Vector: []float32{0, 0, 5}},
			{DocID: "d", Vector: []float32{0, 0, 7}},
			{DocID: "d", Vector: []float32{0, 0, 2}}, // the last point of a document wins
		}))
		info, err := b.store.Info(ctx, name)
		require.NoError(t, err)
		assert.Equal(t, 4, info.Count)
		hits, err := b.store.Search(ctx, name, []float32{0, 0, 1}, 10)
		require.NoError(t, err)
		assert.Equal(t, []vector.Hit{{"a", 5}, {"d", 2}, {"c", 1}, {"b", 0}}, hits)
	})

	t.Run("CosineAndTies", func(t *testing.T) {
		b := open(t)
		name := b.prefix + "cosine"
		load(t, b, name, 2, vector.Cosine, []vector.Point{
			{DocID: "unit", Vector: []float32{3, 4}},
			{DocID: "long", Vector: []float32{6, 8}},
			{DocID: "zero", Vector: []float32{0, 0}},
			{DocID: "opposite", Vector: []float32{-3, -4}},
		})
		hits, err := b.store.Search(ctx, name, []float32{30, 40}, 10)
		require.NoError(t, err)
		require.Len(t, hits, 4)
		// Equal after normalisation, so the tie goes to the smaller doc id; the zero vector scores 0 (not NaN).
		assert.Equal(t, []string{"long", "unit", "zero", "opposite"}, ids(hits))
		assert.InDelta(t, 1, hits[0].Score, 1e-6)
		assert.Equal(t, hits[0].Score, hits[1].Score)
		assert.Equal(t, float32(0), hits[2].Score)
		assert.InDelta(t, -1, hits[3].Score, 1e-6)
		hits, err = b.store.Search(ctx, name, []float32{3, 4}, 1)
		require.NoError(t, err)
		assert.Len(t, hits, 1)
	})

	t.Run("EmptyCollection", func(t *testing.T) {
		b := open(t)
		name := b.prefix + "empty"
		load(t, b, name, 8, vector.Dot, nil)
		hits, err := b.store.Search(ctx, name, make([]float32, 8), 5)
		require.NoError(t, err)
		assert.Empty(t, hits)
	})

	t.Run("Delete", func(t *testing.T) {
		b := open(t)
		name := b.prefix + "delete"
		load(t, b, name, 2, vector.Dot, []vector.Point{{DocID: "a", Vector: []float32{1, 2}}})
		require.NoError(t, b.store.Delete(ctx, name))
		_, err := b.store.Info(ctx, name)
		require.ErrorIs(t, err, vector.ErrNotFound)
		_, err = b.store.Search(ctx, name, []float32{1, 2}, 1)
		require.ErrorIs(t, err, vector.ErrNotFound)
		require.ErrorIs(t, b.store.Delete(ctx, name), vector.ErrNotFound)
		// The name is free again, for a collection of another shape.
		require.NoError(t, b.store.Create(ctx, name, 3, vector.Cosine))
		t.Cleanup(func() { b.store.Delete(ctx, name) })
		info, err := b.store.Info(ctx, name)
		require.NoError(t, err)
		assert.Equal(t, vector.CollectionInfo{Dim: 3, Metric: vector.Cosine}, info)
		assertInvalid(t, b.store.Upsert(ctx, name, []vector.Point{{DocID: "a", Vector: []float32{1, 2}}}), "old dimension after re-create")
	})
}

// TestBackendsAgree loads the same random vectors into every backend and wants
// the same top 100, ids and order.
func TestBackendsAgree(t *testing.T) {
	ctx := context.Background()
	docs, queries := randomData(7, 2000, 20, 64)
	stores := map[string]backend{"embedded": embedded(t)}
	stores["qdrant-fake"], _ = fakeQdrant(t)
	if os.Getenv("QDRANT_ADDR") != "" {
		stores["qdrant"] = realQdrant(t)
	} else {
		t.Log("QDRANT_ADDR not set: comparing the embedded store with the fake Qdrant only")
	}
	for _, metric := range []vector.Metric{vector.Cosine, vector.Dot} {
		results := map[string][][]vector.Hit{}
		for bname, b := range stores {
			name := b.prefix + "agree-" + string(metric)
			load(t, b, name, 64, metric, docs)
			for _, q := range queries {
				hits, err := b.store.Search(ctx, name, q, 100)
				require.NoError(t, err)
				results[bname] = append(results[bname], hits)
			}
		}
		for bname, res := range results {
			for qi := range queries {
				want, got := results["embedded"][qi], res[qi]
				require.Equal(t, ids(want), ids(got), "%s vs embedded, %s, query %d", bname, metric, qi)
				for i := range want {
					require.InDelta(t, want[i].Score, got[i].Score, tolerance(want[i].Score), "%s, %s, query %d rank %d", bname, metric, qi, i)
				}
			}
		}
	}
}

// load creates a collection, upserts docs in two calls and finishes the load.
func load(t *testing.T, b backend, name string, dim int, metric vector.Metric, docs []vector.Point) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, b.store.Create(ctx, name, dim, metric))
	t.Cleanup(func() { b.store.Delete(context.Background(), name) })
	half := len(docs) / 2
	for _, part := range [][]vector.Point{docs[:half], docs[half:]} {
		if len(part) > 0 {
			require.NoError(t, b.store.Upsert(ctx, name, part))
		}
	}
	require.NoError(t, b.store.FinishLoad(ctx, name))
}

// randomData draws n documents and nq queries of dim Gaussian components
// (Gaussian, so cosine and dot rank differently).
func randomData(seed uint64, n, nq, dim int) ([]vector.Point, [][]float32) {
	r := mrand.New(mrand.NewPCG(seed, 42))
	vec := func() []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	}
	perm := r.Perm(n) // ids in another order than insertion, so ties cannot follow it by accident
	docs := make([]vector.Point, n)
	for i := range docs {
		docs[i] = vector.Point{DocID: fmt.Sprintf("doc-%05d", perm[i]), Vector: vec()}
	}
	queries := make([][]float32, nq)
	for i := range queries {
		queries[i] = vec()
	}
	return docs, queries
}

// bruteForce scores every document in float64, independently of the stores,
// and returns all of them best first.
func bruteForce(docs []vector.Point, q []float32, metric vector.Metric) []vector.Hit {
	norm := func(v []float32) float64 {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		return math.Sqrt(s)
	}
	byID := map[string]float32{}
	for _, d := range docs {
		var s float64
		for i := range q {
			s += float64(q[i]) * float64(d.Vector[i])
		}
		if metric == vector.Cosine {
			s /= norm(q) * norm(d.Vector)
		}
		byID[d.DocID] = float32(s) // a duplicate id keeps its last vector, as upsert does
	}
	hits := make([]vector.Hit, 0, len(byID))
	for id, s := range byID {
		hits = append(hits, vector.Hit{DocID: id, Score: s})
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].DocID < hits[j].DocID
	})
	return hits
}

func tolerance(score float32) float64 { return 1e-5 * math.Max(1, math.Abs(float64(score))) }

// checkTopK wants got to be a correct top k of the ranking all (every
// document, best first): each rank's score is the k-th best score, each hit's
// score is that document's true score, no document twice, and the order is
// score descending, doc id ascending. Scores count as equal within a float32
// rounding tolerance, so only true near-ties may come out in another order.
func checkTopK(t *testing.T, what string, all, got []vector.Hit, k int) {
	t.Helper()
	require.Len(t, got, min(k, len(all)), what)
	truth := map[string]float32{}
	for _, h := range all {
		truth[h.DocID] = h.Score
	}
	seen := map[string]bool{}
	for i, h := range got {
		s, ok := truth[h.DocID]
		require.True(t, ok, "%s: rank %d: unknown doc %q", what, i, h.DocID)
		require.False(t, seen[h.DocID], "%s: doc %q twice", what, h.DocID)
		seen[h.DocID] = true
		require.InDelta(t, s, h.Score, tolerance(s), "%s: rank %d: score of %q", what, i, h.DocID)
		require.InDelta(t, all[i].Score, h.Score, tolerance(s), "%s: rank %d: want %q (%v), got %q (%v)", what, i, all[i].DocID, all[i].Score, h.DocID, h.Score)
		if i > 0 {
			p := got[i-1]
			require.True(t, p.Score > h.Score || p.Score == h.Score && p.DocID < h.DocID, "%s: ranks %d, %d out of order", what, i-1, i)
		}
	}
}

func assertInvalid(t *testing.T, err error, format string, args ...any) {
	t.Helper()
	what := fmt.Sprintf(format, args...)
	require.ErrorIs(t, err, vector.ErrInvalid, what)
	assert.True(t, inputerr.Is(err), "%s: want an *inputerr.Error, got %v", what, err)
	assert.True(t, vector.IsPermanent(err), what)
}

func ids(hits []vector.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.DocID
	}
	return out
}
