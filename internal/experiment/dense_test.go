package experiment

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/embed"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/llm"
	"github.com/clirflow/clirflow/internal/llmtest"
	"github.com/clirflow/clirflow/internal/trec"
	"github.com/clirflow/clirflow/internal/vector"
	"github.com/clirflow/clirflow/internal/vector/qdranttest"
)

// failingEncoder fails every Embed call after the first `ok` calls.
type failingEncoder struct {
	Encoder
	ok    int64
	calls atomic.Int64
}

func (f *failingEncoder) Embed(ctx context.Context, texts []string, role embed.Role) ([][]float32, error) {
	if f.calls.Add(1) > f.ok {
		return nil, errors.New("endpoint gone")
	}
	return f.Encoder.Embed(ctx, texts, role)
}

func denseFixture(t *testing.T) (context.Context, artifact.Store, PreparedDataset, *llmtest.Server, func() *embed.Client) {
	t.Helper()
	ctx := context.Background()
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	e := loadDemo(t)
	p, err := PrepareDataset(ctx, s, PrepareInput{Dataset: e.Datasets[0], Field: "datasets[0]"})
	require.NoError(t, err)
	srv := llmtest.NewServer(llmtest.ServerOptions{EmbeddingDim: 32})
	t.Cleanup(srv.Close)
	newClient := func() *embed.Client {
		c, err := embed.New(llm.Endpoint{Name: "emb", BaseURL: srv.URL(), Model: "m", MaxConcurrency: 4}, embed.Options{})
		require.NoError(t, err)
		return c
	}
	return ctx, s, p, srv, newClient
}

// A load that dies half way leaves an incomplete collection that is never
// searched; the retry resumes after the checkpoint and embeds only the rest.
func TestDenseIndexResumesAndNeverServesAPartialCollection(t *testing.T) {
	ctx, s, p, srv, newClient := denseFixture(t)
	vs, err := vector.OpenEmbedded(filepath.Join(t.TempDir(), "vectors"))
	require.NoError(t, err)
	in := DenseIndexInput{Corpus: p.Corpus, Store: config.VectorStore{Kind: config.StoreEmbedded, BatchSize: 100}, Metric: "cosine", Field: "first_stages[0]"}

	enc := &failingEncoder{Encoder: newClient(), ok: 5}
	checkpoint := 0
	_, err = BuildDenseIndex(ctx, s, vs, enc, in, 0, func(n int) { checkpoint = n })
	require.ErrorContains(t, err, "endpoint gone")
	require.Equal(t, 500, checkpoint)
	name, err := in.Collection(enc.ID())
	require.NoError(t, err)
	info, err := vs.Info(ctx, name)
	require.NoError(t, err)
	require.False(t, info.Complete)
	_, err = vs.Search(ctx, name, make([]float32, 32), 10)
	require.ErrorIs(t, err, vector.ErrIncomplete)

	before := srv.Stats().Embeddings
	c := newClient()
	out, err := BuildDenseIndex(ctx, s, vs, c, in, checkpoint, nil)
	require.NoError(t, err)
	require.Equal(t, p.NumDocs, out.NumDocs)
	require.Equal(t, int64(p.NumDocs-500-out.Skipped), c.Stats().Texts, "only the documents after the checkpoint")
	require.Positive(t, srv.Stats().Embeddings-before)
	info, err = vs.Info(ctx, name)
	require.NoError(t, err)
	require.True(t, info.Complete)
	require.Equal(t, p.NumDocs-out.Skipped, info.Count)

	// Done: a second build is a lookup.
	again, err := BuildDenseIndex(ctx, s, vs, newClient(), in, 0, nil)
	require.NoError(t, err)
	require.True(t, again.Cached)

	// A checkpoint that does not match the collection restarts the load.
	in2 := in
	in2.Metric = "dot"
	_, err = BuildDenseIndex(ctx, s, vs, &failingEncoder{Encoder: newClient(), ok: 2}, in2, 0, nil)
	require.Error(t, err)
	out2, err := BuildDenseIndex(ctx, s, vs, newClient(), in2, 1234, nil)
	require.NoError(t, err)
	info, err = vs.Info(ctx, out2.Collection)
	require.NoError(t, err)
	require.Equal(t, p.NumDocs-out2.Skipped, info.Count)
}

// The Qdrant backend (against the gRPC fake) and the embedded store give the
// same dense run: the same documents in the same order (ties included, the
// demo has many identical descriptions), scores equal up to float32 rounding.
func TestDenseRunSameOnQdrantAndEmbedded(t *testing.T) {
	ctx, s, p, _, newClient := denseFixture(t)
	fake, err := qdranttest.Start(qdranttest.Options{})
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	q, err := vector.NewQdrant(vector.QdrantConfig{Host: fake.Host, Port: fake.Port})
	require.NoError(t, err)
	emb, err := vector.OpenEmbedded(filepath.Join(t.TempDir(), "vectors"))
	require.NoError(t, err)
	var runs [][]byte
	for _, st := range []struct {
		vs  vector.VectorStore
		cfg config.VectorStore
	}{{emb, config.VectorStore{Kind: config.StoreEmbedded}}, {q, config.VectorStore{Kind: config.StoreQdrant, Host: fake.Host, Port: fake.Port}}} {
		c := newClient()
		in := DenseIndexInput{Corpus: p.Corpus, Store: st.cfg, Metric: "cosine"}
		ix, err := BuildDenseIndex(ctx, s, st.vs, c, in, 0, nil)
		require.NoError(t, err)
		run, err := RetrieveDense(ctx, s, st.vs, c, DenseRetrieveInput{Index: ix, Topics: p.Topics, Store: st.cfg, Depth: 100, Tag: "dense"})
		require.NoError(t, err)
		require.Equal(t, p.NumTopics, run.NumQueries)
		b, err := artifact.ReadAll(ctx, s, run.Ref)
		require.NoError(t, err)
		runs = append(runs, b)
	}
	a, err := trec.ParseRun(bytes.NewReader(runs[0]), "embedded")
	require.NoError(t, err)
	b, err := trec.ParseRun(bytes.NewReader(runs[1]), "qdrant")
	require.NoError(t, err)
	require.Equal(t, len(a.Entries), len(b.Entries))
	for qid, hits := range a.Entries {
		other := b.Entries[qid]
		require.Len(t, other, len(hits), qid)
		for i, h := range hits {
			require.Equal(t, h.DocID, other[i].DocID, "query %s rank %d", qid, i+1)
			require.InDelta(t, h.Score, other[i].Score, 2e-6)
		}
	}
}

// Fusion through the store: minmax with weights by hand on a tiny pair of
// runs, and bad settings name the field.
func TestFuseMinMaxAndErrors(t *testing.T) {
	ctx := context.Background()
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	put := func(text string) artifact.Ref {
		ref, err := artifact.Put(ctx, s, []byte(text))
		require.NoError(t, err)
		return ref
	}
	a := put("q1 Q0 d1 1 10 a\nq1 Q0 d2 2 5 a\nq1 Q0 d3 3 0 a\n")
	b := put("q1 Q0 d3 1 2 b\nq1 Q0 d4 2 1 b\n")
	out, err := Fuse(ctx, s, FuseInput{Runs: []artifact.Ref{a, b}, Method: config.FusionMinMax, Weights: []float64{0.25, 0.75}, Depth: 1000, Cut: 100, Tag: "mm"})
	require.NoError(t, err)
	text, err := artifact.ReadAll(ctx, s, out.Ref)
	require.NoError(t, err)
	run, err := trec.ParseRun(bytes.NewReader(text), "fused")
	require.NoError(t, err)
	// a: d1 1, d2 .5, d3 0; b: d3 1, d4 0 → d3 .75, d1 .25, d2 .125, d4 0.
	var got []string
	for _, h := range run.Entries["q1"] {
		got = append(got, h.DocID)
	}
	require.Equal(t, []string{"d3", "d1", "d2", "d4"}, got)
	require.InDelta(t, 0.75, run.Entries["q1"][0].Score, 1e-6)

	_, err = Fuse(ctx, s, FuseInput{Runs: []artifact.Ref{a, b}, Method: config.FusionMinMax, Weights: []float64{1}, Tag: "mm2", Field: "first_stages[3]"})
	require.True(t, inputerr.Is(err))
	require.ErrorContains(t, err, "first_stages[3]")
}
