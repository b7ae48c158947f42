package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const denseConfig = `name: t
datasets:
  - {name: d, corpus: c.jsonl, topics: t.tsv, qrels: q.txt, query_lang: en, doc_lang: es}
  - {name: e, corpus: c.jsonl, topics: t.tsv, qrels: q.txt, query_lang: en, doc_lang: de}
translators:
  - {name: ap, kind: apertium}
endpoints:
  - {name: emb, base_url: "http://127.0.0.1:8080/v1", model: BAAI/bge-m3}
first_stages:
  - {name: bm25, kind: bm25}
  - {name: dense, kind: dense, endpoint: emb, encoder: {preset: bge-m3}}
  - {name: dense-dt, kind: dense, endpoint: emb, encoder: {preset: multilingual-e5-large}, translate: documents, translator: ap,
     vector_store: {kind: qdrant, api_key_env: QDRANT_KEY}}
  - {name: hybrid, kind: fusion, inputs: [bm25, dense]}
  - {name: mm, kind: fusion, method: minmax, weights: [0.3, 0.7], inputs: [bm25, dense]}
metrics: [map]
`

func TestDenseAndFusionConfig(t *testing.T) {
	e, err := Parse([]byte(denseConfig), "x.yaml")
	require.NoError(t, err)
	require.NoError(t, e.Validate())
	d := e.WithDefaults()
	require.Equal(t, MetricCosine, d.FirstStages[1].Metric)
	require.Equal(t, VectorStore{Kind: StoreEmbedded, BatchSize: 128}, *d.FirstStages[1].VectorStore)
	require.Equal(t, VectorStore{Kind: StoreQdrant, Host: "localhost", Port: 6334, APIKeyEnv: "QDRANT_KEY", BatchSize: 128}, *d.FirstStages[2].VectorStore)
	require.Equal(t, FusionRRF, d.FirstStages[3].Method)
	require.Equal(t, 60.0, d.FirstStages[3].RRFK)
	require.Zero(t, d.FirstStages[4].RRFK)
	p, err := d.FirstStages[2].EncoderPreset("first_stages[2]")
	require.NoError(t, err)
	require.Equal(t, "query: ", p.QueryPrefix)
}

func TestDenseAndFusionConfigErrorsNameTheField(t *testing.T) {
	e, err := Parse([]byte(denseConfig), "x.yaml")
	require.NoError(t, err)
	bad := -1.0
	e.FirstStages[0].Inputs = []string{"x"}                                  // fusion key on bm25
	e.FirstStages[1].Endpoint = "nope"                                       // unknown endpoint
	e.FirstStages[1].Metric = "l2"                                           // unknown metric
	e.FirstStages[2].Encoder.Preset = "e6"                                   // unknown preset
	e.FirstStages[2].VectorStore = &VectorStore{Kind: "qdrant", Port: 70000} // bad port
	e.FirstStages[2].Datasets = []string{"d"}
	e.FirstStages[3].Inputs = []string{"bm25", "bm25", "hybrid", "nope"} // duplicate, itself, unknown
	e.FirstStages[3].RRFK = bad
	e.FirstStages[4].Weights = []float64{1}
	e.FirstStages = append(e.FirstStages,
		FirstStage{Name: "d2", Kind: "dense"},
		FirstStage{Name: "f2", Kind: "fusion", Inputs: []string{"mm", "dense-dt"}, Method: "avg"},
		FirstStage{Name: "k", Kind: "bm25", K1: &bad, VectorStore: &VectorStore{Kind: "embedded", Host: "x"}})
	err = e.Validate()
	require.Error(t, err)
	for _, want := range []string{
		"first_stages[0]: inputs, method, rrf_k and weights only apply to kind fusion",
		`first_stages[1].endpoint: unknown endpoint "nope"`,
		`first_stages[1].metric: unknown metric "l2"`,
		`first_stages[2].encoder.preset: unknown encoder preset "e6"`,
		"first_stages[2].vector_store.port",
		`first_stages[3].inputs[1]: "bm25" is listed twice`,
		"first_stages[3].inputs[2]: a stage cannot fuse itself",
		`first_stages[3].inputs[3]: unknown first stage "nope"`,
		"first_stages[3].rrf_k",
		"first_stages[4].weights: one weight per input",
		"first_stages[5].endpoint: is required",
		"first_stages[5].encoder: is required",
		`first_stages[6].inputs[0]: "mm" is a fusion`,
		`first_stages[6].inputs[1]: "dense-dt" does not run on dataset`,
		`first_stages[6].method: unknown method "avg"`,
		"first_stages[7]: endpoint, encoder, metric and vector_store only apply to kind dense",
	} {
		require.Contains(t, err.Error(), want)
	}
}
