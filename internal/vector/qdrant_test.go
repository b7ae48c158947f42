package vector_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/vector"
	"github.com/clirflow/clirflow/internal/vector/qdranttest"
)

func newQdrant(t *testing.T, cfg vector.QdrantConfig) *vector.Qdrant {
	s, err := vector.NewQdrant(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// The HNSW graph is deferred while loading (m=0, indexing_threshold=0) and
// Qdrant's defaults come back with FinishLoad, which also sets the flag Search checks.
func TestQdrantBulkLoadSettings(t *testing.T) {
	ctx := context.Background()
	b, srv := fakeQdrant(t)
	require.NoError(t, b.store.Create(ctx, "c", 4, vector.Cosine))
	st, ok := srv.Collection("c")
	require.True(t, ok)
	assert.Equal(t, uint64(0), st.HNSWM)
	assert.Equal(t, uint64(0), st.IndexingThreshold)
	assert.False(t, st.Metadata["clirflow_complete"].GetBoolValue())
	require.NoError(t, b.store.FinishLoad(ctx, "c"))
	st, _ = srv.Collection("c")
	assert.Equal(t, uint64(16), st.HNSWM)
	assert.Equal(t, uint64(20000), st.IndexingThreshold)
	assert.True(t, st.Metadata["clirflow_complete"].GetBoolValue())
}

func TestQdrantBatchesAndPointIDs(t *testing.T) {
	ctx := context.Background()
	srv, err := qdranttest.Start(qdranttest.Options{})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	s := newQdrant(t, vector.QdrantConfig{Host: srv.Host, Port: srv.Port, BatchSize: 64})
	docs, _ := randomData(9, 200, 0, 4)
	require.NoError(t, s.Create(ctx, "c", 4, vector.Dot))
	require.NoError(t, s.Upsert(ctx, "c", append(docs, docs[0]))) // a repeated document is sent once
	assert.Equal(t, 4, srv.Calls("Points/Upsert"), "200 points in batches of 64")
	st, _ := srv.Collection("c")
	require.Len(t, st.Payloads, 200)
	for _, d := range docs {
		id := vector.PointID(d.DocID)
		assert.Equal(t, d.DocID, st.Payloads[id]["doc_id"].GetStringValue())
		assert.Equal(t, uuid.Version(5), uuid.MustParse(id).Version())
	}
	assert.Equal(t, vector.PointID("doc-1"), vector.PointID("doc-1"))
	assert.NotEqual(t, vector.PointID("doc-1"), vector.PointID("doc-2"))
}

func TestQdrantConfig(t *testing.T) {
	for _, n := range []int{32, 63, 257} {
		_, err := vector.NewQdrant(vector.QdrantConfig{BatchSize: n})
		require.ErrorIs(t, err, vector.ErrInvalid, "batch size %d", n)
		assert.True(t, inputerr.Is(err))
	}
	_, err := vector.NewQdrant(vector.QdrantConfig{Port: 70000})
	require.ErrorIs(t, err, vector.ErrInvalid)
	cfg := vector.QdrantConfig{Host: "q.example", Port: 6334, APIKey: "hunter2-secret", UseTLS: true}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, cfg)
		assert.NotContains(t, out, "hunter2", format)
		assert.Contains(t, out, "q.example:6334", format)
		assert.Contains(t, out, "[redacted]", format)
	}
}

func TestQdrantAPIKey(t *testing.T) {
	ctx := context.Background()
	srv, err := qdranttest.Start(qdranttest.Options{APIKey: "right-key"})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	good := newQdrant(t, vector.QdrantConfig{Host: srv.Host, Port: srv.Port, APIKey: "right-key"})
	require.NoError(t, good.Create(ctx, "c", 2, vector.Dot))
	for _, key := range []string{"wrong-key", ""} {
		bad := newQdrant(t, vector.QdrantConfig{Host: srv.Host, Port: srv.Port, APIKey: key})
		_, err := bad.Info(ctx, "c")
		require.Error(t, err)
		assert.True(t, vector.IsPermanent(err), "a refused key is not worth a retry: %v", err)
		assert.NotContains(t, err.Error(), "right-key")
		if key != "" {
			assert.NotContains(t, err.Error(), key)
		}
	}
}

// Unavailable is the retryable error; once the server answers again, the same call succeeds.
func TestQdrantUnavailable(t *testing.T) {
	ctx := context.Background()
	b, srv := fakeQdrant(t)
	srv.FailNext(2)
	for range 2 {
		err := b.store.Create(ctx, "c", 2, vector.Dot)
		require.ErrorIs(t, err, vector.ErrUnavailable)
		assert.False(t, vector.IsPermanent(err))
	}
	require.NoError(t, b.store.Create(ctx, "c", 2, vector.Dot))
	require.NoError(t, b.store.Upsert(ctx, "c", []vector.Point{{"a", []float32{1, 1}}}))
	require.NoError(t, b.store.FinishLoad(ctx, "c"))

	srv.SetDown(true)
	_, err := b.store.Search(ctx, "c", []float32{1, 0}, 1)
	require.ErrorIs(t, err, vector.ErrUnavailable)
	// A retried batch re-sends the same point ids, so it overwrites instead of duplicating.
	require.ErrorIs(t, b.store.Upsert(ctx, "c", []vector.Point{{"a", []float32{2, 2}}}), vector.ErrUnavailable)
	srv.SetDown(false)
	require.NoError(t, b.store.Upsert(ctx, "c", []vector.Point{{"a", []float32{2, 2}}}))
	hits, err := b.store.Search(ctx, "c", []float32{1, 0}, 5)
	require.NoError(t, err)
	assert.Equal(t, []vector.Hit{{"a", 2}}, hits)
}

func TestQdrantUnreachable(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := lis.Addr().(*net.TCPAddr).Port
	lis.Close() // nothing listens there now
	s := newQdrant(t, vector.QdrantConfig{Host: "127.0.0.1", Port: port})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = s.Info(ctx, "c")
	require.ErrorIs(t, err, vector.ErrUnavailable)
	assert.False(t, vector.IsPermanent(err))
}

// Search checks the load flag on the server, not only in its own cache: a
// collection finished by another worker becomes searchable, and one deleted
// and re-created elsewhere is noticed through the server's errors.
func TestQdrantTwoClients(t *testing.T) {
	ctx := context.Background()
	a, srv := fakeQdrant(t)
	b := newQdrant(t, vector.QdrantConfig{Host: srv.Host, Port: srv.Port})
	require.NoError(t, a.store.Create(ctx, "c", 2, vector.Dot))
	require.NoError(t, a.store.Upsert(ctx, "c", []vector.Point{{"a", []float32{1, 0}}}))
	_, err := b.Search(ctx, "c", []float32{1, 0}, 1)
	require.ErrorIs(t, err, vector.ErrIncomplete)
	require.NoError(t, a.store.FinishLoad(ctx, "c"))
	hits, err := b.Search(ctx, "c", []float32{1, 0}, 1)
	require.NoError(t, err)
	assert.Equal(t, []vector.Hit{{"a", 1}}, hits)

	require.NoError(t, a.store.Delete(ctx, "c"))
	_, err = b.Search(ctx, "c", []float32{1, 0}, 1)
	require.ErrorIs(t, err, vector.ErrNotFound, "the server's NotFound")
	require.NoError(t, b.Create(ctx, "c", 2, vector.Dot)) // b now believes dim 2
	require.NoError(t, a.store.Delete(ctx, "c"))
	require.NoError(t, a.store.Create(ctx, "c", 3, vector.Dot))
	err = b.Upsert(ctx, "c", []vector.Point{{"a", []float32{1, 0}}})
	assertInvalid(t, err, "the server's InvalidArgument for a wrong dimension")
	assert.Contains(t, err.Error(), "expected dim: 3, got 2")
}
