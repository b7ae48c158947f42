package qdranttest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/clirflow/clirflow/internal/vector/qdranttest"
)

func start(t *testing.T, opts qdranttest.Options, key string) (*qdranttest.Server, *qdrant.Client) {
	srv, err := qdranttest.Start(opts)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	c, err := qdrant.NewClient(&qdrant.Config{Host: srv.Host, Port: srv.Port, APIKey: key, SkipCompatibilityCheck: true})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return srv, c
}

// code is the gRPC status code inside the go-client's wrapped error.
func code(err error) codes.Code {
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		return se.GRPCStatus().Code()
	}
	return codes.Unknown
}

func create(t *testing.T, c *qdrant.Client, name string, dim uint64, dist qdrant.Distance) error {
	return c.CreateCollection(context.Background(), &qdrant.CreateCollection{
		CollectionName: name,
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: dim, Distance: dist}),
	})
}

func upsert(c *qdrant.Client, name string, pts ...*qdrant.PointStruct) error {
	_, err := c.Upsert(context.Background(), &qdrant.UpsertPoints{CollectionName: name, Wait: qdrant.PtrOf(true), Points: pts})
	return err
}

func pt(id uint64, v ...float32) *qdrant.PointStruct {
	return &qdrant.PointStruct{Id: qdrant.NewIDNum(id), Vectors: qdrant.NewVectors(v...)}
}

func TestStatusCodes(t *testing.T) {
	ctx := context.Background()
	srv, c := start(t, qdranttest.Options{}, "")
	h, err := c.HealthCheck(ctx)
	require.NoError(t, err)
	assert.Equal(t, qdranttest.Version, h.GetVersion())

	_, err = c.GetCollectionInfo(ctx, "missing")
	assert.Equal(t, codes.NotFound, code(err))
	_, err = c.Query(ctx, &qdrant.QueryPoints{CollectionName: "missing", Query: qdrant.NewQuery(1, 0)})
	assert.Equal(t, codes.NotFound, code(err))

	require.NoError(t, create(t, c, "c", 2, qdrant.Distance_Dot))
	assert.Equal(t, codes.AlreadyExists, code(create(t, c, "c", 2, qdrant.Distance_Dot)))
	ok, err := c.CollectionExists(ctx, "c")
	require.NoError(t, err)
	assert.True(t, ok)

	err = upsert(c, "c", pt(1, 1, 2), pt(2, 1, 2, 3))
	assert.Equal(t, codes.InvalidArgument, code(err))
	assert.Contains(t, err.Error(), "expected dim: 2, got 3")
	n, err := c.Count(ctx, &qdrant.CountPoints{CollectionName: "c"})
	require.NoError(t, err)
	assert.Zero(t, n, "a rejected upsert writes none of its points")
	_, err = c.Query(ctx, &qdrant.QueryPoints{CollectionName: "c", Query: qdrant.NewQuery(1)})
	assert.Equal(t, codes.InvalidArgument, code(err))

	require.NoError(t, c.DeleteCollection(ctx, "c"))
	assert.Error(t, c.DeleteCollection(ctx, "c"), "result=false for a missing collection")

	srv.FailNext(2)
	for range 2 {
		_, err = c.HealthCheck(ctx)
		assert.Equal(t, codes.Unavailable, code(err))
	}
	_, err = c.HealthCheck(ctx)
	assert.NoError(t, err)
	assert.Equal(t, 4, srv.Calls("Qdrant/HealthCheck"))
	srv.SetDown(true)
	_, err = c.ListCollections(ctx)
	assert.Equal(t, codes.Unavailable, code(err))
}

func TestSearchSemantics(t *testing.T) {
	ctx := context.Background()
	_, c := start(t, qdranttest.Options{}, "")
	require.NoError(t, create(t, c, "cos", 2, qdrant.Distance_Cosine))
	require.NoError(t, create(t, c, "dot", 2, qdrant.Distance_Dot))
	for _, name := range []string{"cos", "dot"} {
		require.NoError(t, upsert(c, name, pt(1, 3, 4), pt(2, 0, 10), pt(3, 9, 9)))
		require.NoError(t, upsert(c, name, pt(3, -1, 0))) // same id: replaced
	}
	res, err := c.Query(ctx, &qdrant.QueryPoints{CollectionName: "cos", Query: qdrant.NewQuery(0, 2), Limit: qdrant.PtrOf(uint64(5))})
	require.NoError(t, err)
	require.Len(t, res, 3)
	assert.Equal(t, uint64(2), res[0].GetId().GetNum())
	assert.InDelta(t, 1, res[0].GetScore(), 1e-6)
	assert.InDelta(t, 0.8, res[1].GetScore(), 1e-6)
	assert.InDelta(t, 0, res[2].GetScore(), 1e-6)

	res, err = c.Query(ctx, &qdrant.QueryPoints{CollectionName: "dot", Query: qdrant.NewQuery(0, 2), Limit: qdrant.PtrOf(uint64(2))})
	require.NoError(t, err)
	require.Len(t, res, 2)
	assert.Equal(t, float32(20), res[0].GetScore())
	assert.Equal(t, float32(8), res[1].GetScore())
}

func TestAPIKey(t *testing.T) {
	ctx := context.Background()
	_, good := start(t, qdranttest.Options{APIKey: "k"}, "k")
	require.NoError(t, create(t, good, "c", 2, qdrant.Distance_Dot))
	srv2, err := qdranttest.Start(qdranttest.Options{APIKey: "k"})
	require.NoError(t, err)
	t.Cleanup(srv2.Close)
	bad, err := qdrant.NewClient(&qdrant.Config{Host: srv2.Host, Port: srv2.Port, APIKey: "nope", SkipCompatibilityCheck: true})
	require.NoError(t, err)
	defer bad.Close()
	_, err = bad.ListCollections(ctx)
	assert.Equal(t, codes.PermissionDenied, code(err))
}
