package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/inputerr"
)

const minimal = `name: t
datasets:
  - {name: d, corpus: c.jsonl, topics: t.tsv, qrels: q.txt, query_lang: en, doc_lang: es}
first_stages:
  - {name: bm25, kind: bm25}
metrics: [map, ndcg_cut.20]
`

func TestMinimalConfigGetsPyseriniDefaults(t *testing.T) {
	e, err := Parse([]byte(minimal), "x.yaml")
	require.NoError(t, err)
	require.NoError(t, e.Validate())
	d := e.WithDefaults()
	require.Equal(t, 0.9, *d.FirstStages[0].K1)
	require.Equal(t, 0.4, *d.FirstStages[0].B)
	require.Equal(t, 100, d.FirstStages[0].Depth)
	require.Equal(t, "results/t", d.Output)
	require.Empty(t, d.Datasets[0].TopicFields, "the reader picks its format's default")
	require.Nil(t, e.FirstStages[0].K1, "WithDefaults does not modify its receiver")
}

func TestYAMLUnknownKeyNamesFileAndLine(t *testing.T) {
	src := strings.Replace(minimal, "  - {name: bm25, kind: bm25}", "  - {name: bm25, kind: bm25, k3: 1}", 1)
	_, err := Parse([]byte(src), "x.yaml")
	require.Error(t, err)
	require.True(t, inputerr.Is(err))
	require.Contains(t, err.Error(), "x.yaml:5")
	require.Contains(t, err.Error(), "k3")
}

func TestYAMLWrongTypeNamesLine(t *testing.T) {
	src := strings.Replace(minimal, "kind: bm25}", "kind: bm25, k1: lots}", 1)
	_, err := Parse([]byte(src), "x.yaml")
	require.Error(t, err)
	require.Contains(t, err.Error(), "x.yaml:5")
}

func TestJSONInputUnknownKeysAreReportedByPath(t *testing.T) {
	var e Experiment
	js := `{"name":"t","datasets":[{"name":"d","corpus":"c","topics":"t","qrels":"q","query_lang":"en","doc_lang":"es","colour":1}],
	        "first_stages":[{"name":"b","kind":"bm25"}],"metrics":["map"],"extra":{"a":1}}`
	require.NoError(t, json.Unmarshal([]byte(js), &e))
	err := e.WithDefaults().Validate()
	require.Error(t, err)
	require.Contains(t, err.Error(), "datasets[0].colour: unknown key")
	require.Contains(t, err.Error(), "extra: unknown key")

	// The same document without the stray keys is fine, and survives a round trip.
	var ok Experiment
	require.NoError(t, json.Unmarshal([]byte(strings.NewReplacer(`,"colour":1`, "", `,"extra":{"a":1}`, "").Replace(js)), &ok))
	require.NoError(t, ok.Validate())
	b, err := json.Marshal(ok)
	require.NoError(t, err)
	var back Experiment
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, ok, back)
}

func TestValidationNamesEveryBadField(t *testing.T) {
	e, err := Parse([]byte(minimal), "x.yaml")
	require.NoError(t, err)
	neg, big := -1.0, 1.5
	e.FirstStages[0].K1 = &neg
	e.FirstStages[0].B = &big
	e.FirstStages[0].Depth = -3
	e.FirstStages = append(e.FirstStages,
		FirstStage{Name: "bm25", Kind: "bm25"},
		FirstStage{Name: "ext", Kind: "run_file"},
		FirstStage{Name: "x", Kind: "splade"},
		FirstStage{Name: "../evil", Kind: "bm25", Datasets: []string{"nope"}})
	e.Metrics = append(e.Metrics, "ndcg_cut.x", "P", "bogus")
	e.Datasets[0].DocLang = "klingon"
	e.Datasets[0].CorpusFormat = "xml"
	e.Expected = []Expectation{{Run: "d/none", Metric: "map", Value: 1}}
	err = e.Validate()
	require.Error(t, err)
	for _, want := range []string{
		"first_stages[0].k1", "first_stages[0].b", "first_stages[0].depth",
		"first_stages[1].name: duplicate", "first_stages[2].path: is required",
		"first_stages[3].kind: unknown kind", "first_stages[4].name", "first_stages[4].datasets[0]: unknown dataset",
		"metrics[2]", "metrics[3]", "metrics[4]", "datasets[0].doc_lang", "datasets[0].corpus_format", "expected[0].run",
	} {
		require.Contains(t, err.Error(), want)
	}
}

func TestCheckFilesAndLoadResolvesPaths(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "exp.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(minimal), 0o644))
	e, err := Load(cfg, dir)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "c.jsonl"), e.Datasets[0].Corpus)
	err = e.CheckFiles()
	require.Error(t, err)
	require.Contains(t, err.Error(), "datasets[0].corpus")
	require.Contains(t, err.Error(), "datasets[0].qrels")
	for _, f := range []string{"c.jsonl", "t.tsv"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "q.txt"), 0o755))
	err = e.CheckFiles()
	require.ErrorContains(t, err, "datasets[0].qrels")
	require.ErrorContains(t, err, "is a directory")

	_, err = Load(filepath.Join(dir, "missing.yaml"), dir)
	require.ErrorContains(t, err, "missing.yaml")
	require.NoError(t, os.WriteFile(cfg, nil, 0o644))
	_, err = Load(cfg, dir)
	require.ErrorContains(t, err, "empty config")
}

// The committed configs validate (their files exist in the repository).
func TestCommittedConfigsValidate(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(root, "configs", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		e, err := Load(f, root)
		require.NoError(t, err, f)
		require.NoError(t, e.WithDefaults().Validate(), f)
		if !strings.Contains(filepath.Base(f), "grid") {
			require.NoError(t, e.CheckFiles(), f)
		}
	}
}

func TestLoadExpandsEnvironmentReferences(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "exp.yaml")
	src := minimal + "endpoints:\n  - {name: e, base_url: \"${CLIRFLOW_TEST_URL:-http://127.0.0.1:9/v1}\", model: \"${CLIRFLOW_TEST_MODEL}\"}\n"
	require.NoError(t, os.WriteFile(cfg, []byte(src), 0o644))
	_, err := Load(cfg, dir)
	require.ErrorContains(t, err, "exp.yaml:8: environment variable CLIRFLOW_TEST_MODEL is not set")
	t.Setenv("CLIRFLOW_TEST_MODEL", "qwen")
	e, err := Load(cfg, dir)
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:9/v1", e.Endpoints[0].BaseURL)
	require.Equal(t, "qwen", e.Endpoints[0].Model)
}
