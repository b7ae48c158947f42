package embed_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/embed"
	"github.com/clirflow/clirflow/internal/inputerr"
)

func TestStudyPresets(t *testing.T) {
	for _, tc := range []struct {
		name, model, qp, pp, qs string
		max, dim                int
	}{
		{"multilingual-e5-large", "intfloat/multilingual-e5-large", "query: ", "passage: ", "", 512, 1024},
		{"bge-m3", "BAAI/bge-m3", "", "", "", 8192, 1024},
		{"nv-embed-v2", "nvidia/NV-Embed-v2", "Instruct: Given a question, retrieve passages that answer the question\nQuery: ", "", "", 32768, 4096},
		{"mgte", "Alibaba-NLP/gte-multilingual-base", "", "", "", 8192, 768},
		{"repllama", "castorini/repllama-v1-7b-lora-passage", "query: ", "passage: ", "</s>", 512, 4096},
	} {
		p, err := embed.LookupPreset(tc.name)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.model, p.Model)
		assert.Equal(t, tc.qp, p.QueryPrefix, tc.name)
		assert.Equal(t, tc.pp, p.PassagePrefix, tc.name)
		assert.Equal(t, tc.qs, p.QuerySuffix, tc.name)
		assert.Equal(t, tc.qs, p.PassageSuffix, tc.name)
		assert.Equal(t, tc.max, p.MaxInputTokens, tc.name)
		assert.Equal(t, tc.dim, p.Dim, tc.name)
		assert.True(t, p.Normalize, tc.name)
		assert.NotEmpty(t, p.Source, tc.name)
	}
	for _, n := range embed.Presets() {
		p, err := embed.LookupPreset(n)
		require.NoError(t, err)
		assert.Equal(t, n, p.Name)
		assert.Positive(t, p.MaxInputTokens, n)
	}
	p, err := embed.LookupPreset(" BGE-M3 ")
	require.NoError(t, err)
	assert.Equal(t, "bge-m3", p.Name)

	_, err = embed.LookupPreset("e6")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown encoder preset "e6" (known: bge-m3, `)
}

func TestSpecResolve(t *testing.T) {
	empty, q, n, no := "", "search_query: ", 256, false
	p, err := embed.Spec{Preset: "multilingual-e5-large", QueryPrefix: &q, PassagePrefix: &empty, MaxInputTokens: &n, Normalize: &no}.Resolve("first_stages[1]")
	require.NoError(t, err)
	assert.Equal(t, embed.Format{QueryPrefix: q, MaxInputTokens: 256, ReservedTokens: 2, Dim: 1024}, p.Format)

	p, err = embed.Spec{QueryPrefix: &q}.Resolve("")
	require.NoError(t, err)
	assert.Equal(t, embed.Format{QueryPrefix: q}, p.Format)

	_, err = embed.Spec{Preset: "nope"}.Resolve("first_stages[1]")
	require.Error(t, err)
	assert.True(t, inputerr.Is(err))
	assert.Contains(t, err.Error(), `first_stages[1].preset: unknown encoder preset "nope"`)

	neg := -1
	_, err = embed.Spec{Preset: "bge-m3", Dim: &neg}.Resolve("fs")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fs.dim: must be ≥ 0, got -1")
}
