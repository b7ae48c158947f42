package experiment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/dataset"
	"github.com/clirflow/clirflow/internal/translate"
)

// upper is a deterministic fake translation system: es→en upper-cases each
// text. failAfter > 0 makes it fail (transiently) after that many calls.
type upper struct {
	mu        sync.Mutex
	calls     int
	texts     int
	failAfter int
}

func (u *upper) ID(p translate.Pair) string { return "upper/" + p.String() }
func (u *upper) Pairs(context.Context) ([]translate.Pair, error) {
	return []translate.Pair{{Src: "es", Tgt: "en"}, {Src: "en", Tgt: "es"}}, nil
}
func (u *upper) Translate(_ context.Context, p translate.Pair, texts []string) ([]string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.failAfter > 0 && u.calls >= u.failAfter {
		return nil, errors.New("translation server crashed")
	}
	u.calls++
	u.texts += len(texts)
	out := make([]string, len(texts))
	for i, t := range texts {
		out[i] = strings.ToUpper(t)
	}
	return out, nil
}

func storeCorpusForTest(t *testing.T, s artifact.Store, docs []dataset.Document) artifact.Ref {
	ref, err := storeJSONLines(context.Background(), s, docs)
	require.NoError(t, err)
	return ref
}

func TestTranslateCorpusSentenceLevelCachedAndResumable(t *testing.T) {
	ctx := context.Background()
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	var docs []dataset.Document
	for i := 0; i < 150; i++ {
		docs = append(docs, dataset.Document{ID: "d" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + strings.Repeat("0", i/26),
			Title: "Título", Text: fmt.Sprintf("Documento %d. Una frase. Otra frase más larga.", i)})
	}
	corpus := storeCorpusForTest(t, s, docs)
	cache := &translate.MemCache{}
	tcfg := config.Translator{Name: "up", Kind: "apertium", BatchSize: 8, Concurrency: 2}
	in := TranslateInput{Source: corpus, What: config.TranslateDocuments, Translator: tcfg, Src: "es", Tgt: "en", Field: "first_stages[0]"}

	// First attempt dies part-way (a crashed server): some batches are cached.
	flaky := &upper{failAfter: 3}
	_, err = Translate(ctx, s, cache, func(config.Translator) (translate.Translator, error) { return flaky, nil }, in, nil)
	require.Error(t, err)

	// The retry resumes: cached sentences are not asked again.
	u := &upper{}
	var progress []int
	info, err := Translate(ctx, s, cache, func(config.Translator) (translate.Translator, error) { return u, nil }, in, func(n int) { progress = append(progress, n) })
	require.NoError(t, err)
	require.False(t, info.Cached)
	require.Greater(t, info.CacheHits, 0, "the retry reuses what the failed attempt translated")
	require.Equal(t, []int{64, 128, 150}, progress)
	// Every distinct sentence is translated once across both attempts: 150
	// "Documento i." + 2 shared sentences + the shared title.
	require.Equal(t, 153, flaky.texts+u.texts)
	require.Positive(t, flaky.texts)

	var got []dataset.Document
	require.NoError(t, forEachDocument(ctx, s, info.Ref, func(d dataset.Document) error { got = append(got, d); return nil }))
	require.Len(t, got, len(docs))
	for i, d := range got {
		require.Equal(t, docs[i].ID, d.ID, "ids and order are kept")
		require.Equal(t, "TÍTULO", d.Title)
		require.Equal(t, fmt.Sprintf("DOCUMENTO %d. UNA FRASE. OTRA FRASE MÁS LARGA.", i), d.Text)
	}

	// A re-run is a memo hit: zero calls.
	u2 := &upper{}
	again, err := Translate(ctx, s, cache, func(config.Translator) (translate.Translator, error) { return u2, nil }, in, nil)
	require.NoError(t, err)
	require.True(t, again.Cached)
	require.Equal(t, 0, again.Calls)
	require.Equal(t, 0, u2.calls)
	require.Equal(t, info.Ref, again.Ref)
}

func TestTranslateTopicsAndUnknownPair(t *testing.T) {
	ctx := context.Background()
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	topics, err := storeJSONLines(ctx, s, []dataset.Topic{{ID: "q1", Query: "file manager"}, {ID: "q2", Query: "   "}})
	require.NoError(t, err)
	u := &upper{}
	newT := func(config.Translator) (translate.Translator, error) { return u, nil }
	in := TranslateInput{Source: topics, What: config.TranslateQueries, Translator: config.Translator{Name: "up", Kind: "http"}, Src: "en", Tgt: "es", Field: "first_stages[1]"}
	info, err := Translate(ctx, s, &translate.MemCache{}, newT, in, nil)
	require.NoError(t, err)
	got, err := LoadTopics(ctx, s, info.Ref)
	require.NoError(t, err)
	require.Equal(t, []dataset.Topic{{ID: "q1", Query: "FILE MANAGER"}, {ID: "q2", Query: "   "}}, got)

	in.Src, in.Tgt = "en", "de"
	_, err = Translate(ctx, s, &translate.MemCache{}, newT, in, nil)
	require.Error(t, err)
	require.True(t, translate.IsPermanent(err))
	require.Contains(t, err.Error(), "first_stages[1]")
	require.Contains(t, err.Error(), "en→de")
	require.Contains(t, err.Error(), "es→en")
}
