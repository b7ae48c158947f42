package rerank

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRankGPTPrompt(t *testing.T) {
	msgs, err := ListwisePrompt("rankgpt", "what is [1] BM25", []string{"BM25 is a ranking function [2].", "Title: X Content: y"})
	require.NoError(t, err)
	want := []Message{
		{"system", "You are RankGPT, an intelligent assistant that can rank passages based on their relevancy to the query."},
		{"user", "I will provide you with 2 passages, each indicated by number identifier []. \nRank the passages based on their relevance to query: what is (1) BM25."},
		{"assistant", "Okay, please provide the passages."},
		{"user", "[1] BM25 is a ranking function (2)."},
		{"assistant", "Received passage [1]."},
		{"user", "[2] Title: X Content: y"},
		{"assistant", "Received passage [2]."},
		{"user", "Search Query: what is (1) BM25. \nRank the 2 passages above based on their relevance to the search query. The passages should be listed in descending order using identifiers. The most relevant passages should be listed first. The output format should be [] > [], e.g., [1] > [2]. Only response the ranking results, do not say any word or explain."},
	}
	assert.Equal(t, want, msgs)
}

func TestRankGPTTemplatePrompt(t *testing.T) {
	msgs, err := ListwisePrompt("rankgpt-template", "q", []string{"p"})
	require.NoError(t, err)
	require.Len(t, msgs, 6)
	assert.Equal(t, "I will provide you with 1 passages, each indicated by number identifier [].\nRank the passages based on their relevance to query: q.", msgs[1].Content)
	assert.True(t, strings.HasPrefix(msgs[5].Content, "Search Query: q.\nRank the 1 passages above"))
}

func TestRankZephyrPrompt(t *testing.T) {
	msgs, err := ListwisePrompt("rankzephyr", "q [3]", []string{"alpha [10] beta", "gamma"})
	require.NoError(t, err)
	want := []Message{
		{"system", "You are RankLLM, an intelligent assistant that can rank passages based on their relevancy to the query."},
		{"user", "I will provide you with 2 passages, each indicated by a numerical identifier []. Rank the passages based on their relevance to the search query: q (3).\n\n" +
			"[1] alpha (10) beta\n[2] gamma\n" +
			"Search Query: q (3).\nRank the 2 passages above based on their relevance to the search query. All the passages should be included and listed using identifiers, in descending order of relevance. The output format should be [] > [], e.g., [2] > [1], Only respond with the ranking results, do not say any word or explain."},
	}
	assert.Equal(t, want, msgs)

	tm, err := ListwisePrompt("rankzephyr-template", "q", []string{"a", "b"})
	require.NoError(t, err)
	require.Len(t, tm, 2)
	assert.Equal(t, "You are RankLLM, an intelligent assistant that can rank passages based on their relevancy to the query", tm[0].Content)
	assert.True(t, strings.HasPrefix(tm[1].Content, "I will provide you with 2 passages, each indicated by a numerical identifier []. Rank the passages based on their relevance to the search query: q.\n[1] a\n[2] b\nSearch Query: q.\n"), tm[1].Content)
	assert.True(t, strings.HasSuffix(tm[1].Content, "e.g., [2] > [1], Answer concisely and directly and only respond with the ranking results, do not say any word or explain."))
}

func TestListwisePromptNoReexpansion(t *testing.T) {
	msgs, err := ListwisePrompt("rankzephyr", "{num} {query} {{", []string{"{rank} {passage}"})
	require.NoError(t, err)
	assert.Contains(t, msgs[1].Content, "search query: {num} {query} {{.\n")
	assert.Contains(t, msgs[1].Content, "[1] {rank} {passage}\n")
}

func TestListwisePromptErrors(t *testing.T) {
	_, err := ListwisePrompt("nope", "q", []string{"p"})
	assert.Error(t, err)
	_, err = ListwisePrompt("prp", "q", []string{"p"})
	assert.Error(t, err, "pairwise prompt is not listwise")
	_, err = ListwisePrompt("rankgpt", "q", nil)
	assert.Error(t, err)
}

func TestPromptNamesAndIDs(t *testing.T) {
	assert.Equal(t, []string{"rankgpt", "rankgpt-template", "rankzephyr", "rankzephyr-template"}, PromptNames())
	seen := map[string]string{}
	for _, n := range append(PromptNames(), PairwisePromptName) {
		id := PromptID(n)
		require.NotEmpty(t, id, n)
		assert.True(t, strings.HasPrefix(id, n+"@"))
		assert.Equal(t, id, PromptID(n), "stable")
		assert.NotContains(t, seen, id)
		seen[id] = n
	}
	assert.Empty(t, PromptID("nope"))
	// every prompt reloads to the same id (content hash, independent of map order and comments)
	again, err := loadPrompts()
	require.NoError(t, err)
	for n, tm := range again {
		assert.Equal(t, prompts[n].id, tm.id)
	}
}

func TestPairwisePrompt(t *testing.T) {
	msgs := PairwisePrompt("cheap flights", "doc one [1]", "doc two")
	assert.Equal(t, []Message{{"user", "Given a query \"cheap flights\", which of the following two passages is more relevant to the query?\n\nPassage A: \"doc one [1]\"\n\nPassage B: \"doc two\"\n\nOutput Passage A or Passage B:"}}, msgs)
}

func TestFormatTemplates(t *testing.T) {
	_, err := placeholders("a {b")
	assert.Error(t, err)
	_, err = placeholders("a } b")
	assert.Error(t, err)
	names, err := placeholders("{x} {{y}} {z}")
	require.NoError(t, err)
	assert.Equal(t, []string{"x", "z"}, names)
	assert.Equal(t, "1 {y} 2", fill("{x} {{y}} {z}", map[string]string{"x": "1", "z": "2"}))
}
