package config

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStudySettingsParseAndValidate(t *testing.T) {
	src := strings.Replace(minimal, "doc_lang: es}", "doc_lang: es, study_metric: ndcg_cut.20}", 1) +
		"study: {baseline: bm25, correction: holm}\n"
	e, err := Parse([]byte(src), "x.yaml")
	require.NoError(t, err)
	require.NoError(t, e.Validate())
	require.Equal(t, "ndcg_cut.20", e.Datasets[0].StudyMetricOr("map"))
	require.Equal(t, Study{Baseline: "bm25", Correction: CorrectionHolm}, e.Study)

	// Unset: the first metric, and the study key stays out of the JSON input.
	plain, err := Parse([]byte(minimal), "x.yaml")
	require.NoError(t, err)
	require.Equal(t, "map", plain.Datasets[0].StudyMetricOr("map"))
	b, err := json.Marshal(plain)
	require.NoError(t, err)
	require.NotContains(t, string(b), "study")

	e.Datasets[0].StudyMetric = "P.10"
	e.Study = Study{Baseline: "bm25+nope", Correction: "sidak"}
	err = e.Validate()
	require.ErrorContains(t, err, `datasets[0].study_metric: "P.10" is not in metrics`)
	require.ErrorContains(t, err, `study.baseline: "bm25+nope" is not a run`)
	require.ErrorContains(t, err, `study.correction: unknown correction "sidak"`)

	// A reranked run is a valid baseline; unknown keys under study are named.
	e.Datasets[0].StudyMetric = ""
	e.Endpoints = []Endpoint{{Name: "llm", BaseURL: "http://127.0.0.1:1/v1", Model: "m"}}
	e.Rerankers = []Reranker{{Name: "rg", Kind: RerankListwise, Endpoint: "llm", MaxDocTokens: []int{64, 128}}}
	e.Study = Study{Baseline: "bm25+rg-t64", Correction: CorrectionNone}
	require.NoError(t, e.Validate())
	var j Experiment
	require.NoError(t, json.Unmarshal([]byte(`{"name":"t","datasets":[{"name":"d","corpus":"c","topics":"t","qrels":"q","query_lang":"en","doc_lang":"es"}],
	  "first_stages":[{"name":"b","kind":"bm25"}],"metrics":["map"],"study":{"basline":"b"}}`), &j))
	require.ErrorContains(t, j.Validate(), "study.basline: unknown key")
}
