package e2e

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/dataset"
	"github.com/clirflow/clirflow/internal/embed"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/llmtest"
	"github.com/clirflow/clirflow/internal/trec"
	"github.com/clirflow/clirflow/workflows"
)

// A dense first stage (scripted embeddings endpoint, embedded vector store)
// and an RRF hybrid of it with BM25 run through the real server and are
// evaluated; the dense run is the exact top 100 of the server's vectors and
// the hybrid is RRF computed here from the two run files; a re-run embeds
// nothing.
func TestDenseAndHybridThroughServer(t *testing.T) {
	const model = "llmtest-embed"
	dim := 64
	srv := llmtest.NewServer(llmtest.ServerOptions{EmbeddingDim: dim})
	defer srv.Close()
	exp := demoConfig(t)
	exp.Datasets, exp.Translators, exp.Expected = exp.Datasets[:1], nil, nil
	exp.Endpoints = []config.Endpoint{{Name: "emb", BaseURL: srv.URL(), Model: model, MaxConcurrency: 8}}
	exp.FirstStages = []config.FirstStage{
		{Name: "bm25-og", Kind: config.KindBM25},
		{Name: "dense-og", Kind: config.KindDense, Endpoint: "emb", Encoder: &embed.Spec{Preset: "bge-m3", Dim: &dim}},
		{Name: "hybrid", Kind: config.KindFusion, Inputs: []string{"bm25-og", "dense-og"}},
	}
	require.NoError(t, exp.WithDefaults().Validate())

	c, store := serverWithWorker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var res workflows.ExperimentResult
	require.NoError(t, startExperiment(t, c, workflows.TaskQueue, exp).Get(ctx, &res))
	require.Len(t, res.Runs, 3)
	bm25, dense, hybrid := res.Runs[0], res.Runs[1], res.Runs[2]
	require.Equal(t, []string{"bm25-og", "dense-og", "hybrid"}, []string{bm25.Stage, dense.Stage, hybrid.Stage})
	for _, r := range res.Runs {
		m, ok := experiment.Lookup(r.Eval.Summary, "map")
		require.True(t, ok, r.Stage)
		require.False(t, math.IsNaN(m), r.Stage)
		require.Equal(t, 200, r.Eval.NumQueries, r.Stage)
	}

	// Dense: the exact cosine top 100 of the scripted vectors (bge-m3 has no
	// prefixes; the server's vectors are unit length; dim overrides the preset's 1024).
	d := exp.Datasets[0]
	var ids []string
	var vecs [][]float32
	_, err := dataset.ReadCorpus(d.Corpus, "jsonl", func(doc dataset.Document) error {
		text := strings.TrimSpace(strings.TrimSpace(doc.Title) + " " + strings.TrimSpace(doc.Text))
		ids, vecs = append(ids, doc.ID), append(vecs, llmtest.Embedding(model, text, dim))
		return nil
	})
	require.NoError(t, err)
	topics, err := dataset.ReadTopics(d.Topics, "tsv", nil)
	require.NoError(t, err)
	run := readRun(t, store, dense.Run.Ref)
	for _, tp := range topics {
		q := llmtest.Embedding(model, tp.Query, dim)
		scores := map[string]float64{}
		all := make([]float64, len(ids))
		for i, v := range vecs {
			var s float64
			for j := range v {
				s += float64(v[j]) * float64(q[j])
			}
			scores[ids[i]], all[i] = s, s
		}
		slices.SortFunc(all, func(a, b float64) int { return -cmpFloat(a, b) })
		got := run.Entries[tp.ID]
		require.Len(t, got, 100, tp.ID)
		for r, h := range got {
			// Up to float32 rounding, rank r holds a document of the r-th best score.
			require.InDelta(t, all[r], scores[h.DocID], 1e-5, "query %s rank %d", tp.ID, r+1)
		}
	}

	// Hybrid: RRF (k = 60) of the two runs, ranks in trec_eval order, ties by doc id.
	a, b := readRun(t, store, bm25.Run.Ref), run
	fused := readRun(t, store, hybrid.Run.Ref)
	for _, tp := range topics {
		sum := map[string]float64{}
		for _, r := range []*trec.Run{a, b} {
			hits := slices.Clone(r.Entries[tp.ID])
			trec.SortResults(hits)
			for i, h := range hits {
				sum[h.DocID] += 1 / (60 + float64(i+1))
			}
		}
		var want []string
		for doc := range sum {
			want = append(want, doc)
		}
		slices.SortFunc(want, func(x, y string) int {
			if c := -cmpFloat(sum[x], sum[y]); c != 0 {
				return c
			}
			return strings.Compare(x, y)
		})
		want = want[:min(100, len(want))]
		var got []string
		for _, h := range fused.Entries[tp.ID] {
			got = append(got, h.DocID)
		}
		require.Equal(t, want, got, tp.ID)
	}

	// A re-run asks the embeddings endpoint nothing.
	before := srv.Stats().Embeddings
	require.Positive(t, before)
	var res2 workflows.ExperimentResult
	require.NoError(t, startExperiment(t, c, workflows.TaskQueue, exp).Get(ctx, &res2))
	require.Equal(t, before, srv.Stats().Embeddings)
	require.Equal(t, dense.Eval.Summary, res2.Runs[1].Eval.Summary)
	require.Equal(t, hybrid.Eval.Summary, res2.Runs[2].Eval.Summary)
	require.FileExists(t, filepath.Join(exp.Output, "runs", "ddtp-es", "hybrid.trec"))
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
