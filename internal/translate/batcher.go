package translate

import (
	"context"
	"strings"
	"sync"
)

// Stats counts what a Batcher call did.
type Stats struct {
	Texts           int // texts asked for (incl. whitespace-only and duplicates)
	CacheHits       int // texts served from the cache (duplicates counted each time)
	Calls           int // Translate calls (requests/invocations) made to the translator
	TranslatedTexts int // distinct texts sent to the translator
}

// Add accumulates s2 into s.
func (s *Stats) Add(s2 Stats) {
	s.Texts += s2.Texts
	s.CacheHits += s2.CacheHits
	s.Calls += s2.Calls
	s.TranslatedTexts += s2.TranslatedTexts
}

// Batcher puts a cache and batching in front of a Translator.
type Batcher struct {
	T           Translator
	Cache       Cache // nil: no caching
	BatchSize   int   // texts per translator call; default 32
	Concurrency int   // concurrent translator calls; default 1
}

// Translate dedupes identical texts, serves hits from the cache, translates the
// misses in batches of BatchSize with at most Concurrency calls in flight, and
// stores the results. Whitespace-only texts are returned unchanged without a
// call. On error nothing is returned, but batches that finished are cached. A
// translator answering with more or fewer texts than it was given is a
// *PermanentError.
func (b *Batcher) Translate(ctx context.Context, p Pair, texts []string) ([]string, Stats, error) {
	st := Stats{Texts: len(texts)}
	out := make([]string, len(texts))
	id := b.T.ID(p)
	where := map[string][]int{} // text → positions
	var keys = map[string]string{}
	var misses []string
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			out[i] = t
			continue
		}
		if pos, seen := where[t]; seen {
			where[t] = append(pos, i)
			continue
		}
		where[t] = []int{i}
		if b.Cache != nil {
			k := CacheKey(id, p, t)
			keys[t] = k
			if v, ok := b.Cache.Get(k); ok {
				out[i] = v
				continue
			}
		}
		misses = append(misses, t)
	}
	missSet := make(map[string]bool, len(misses))
	for _, t := range misses {
		missSet[t] = true
	}
	for t, pos := range where {
		if missSet[t] {
			continue
		}
		for _, i := range pos[1:] {
			out[i] = out[pos[0]]
		}
		st.CacheHits += len(pos)
	}
	if len(misses) == 0 {
		return out, st, nil
	}

	size := b.BatchSize
	if size <= 0 {
		size = 32
	}
	var mu sync.Mutex
	nBatches := (len(misses) + size - 1) / size
	err := parallel(ctx, nBatches, b.Concurrency, func(ctx context.Context, bi int) error {
		batch := misses[bi*size : min((bi+1)*size, len(misses))]
		res, err := b.T.Translate(ctx, p, batch)
		mu.Lock()
		st.Calls++
		mu.Unlock()
		if err == nil && len(res) != len(batch) {
			// A broken contract, not a hiccup: the same batch gets the same
			// answer again, so retrying cannot help.
			err = permanent(id, "returned %d texts for %d (one translation per text is required)", len(res), len(batch))
		}
		if err != nil {
			return err
		}
		for j, t := range batch {
			if b.Cache != nil {
				if err := b.Cache.Put(keys[t], res[j]); err != nil {
					return err
				}
			}
			mu.Lock()
			for _, i := range where[t] {
				out[i] = res[j]
			}
			st.TranslatedTexts++
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, st, err
	}
	return out, st, nil
}

// TranslateDocument splits text into sentences (SplitSentences with the source
// language), translates them and joins the result (Join).
func (b *Batcher) TranslateDocument(ctx context.Context, p Pair, text string) (string, Stats, error) {
	sents := SplitSentences(p.Src, text)
	out, st, err := b.Translate(ctx, p, sents)
	if err != nil {
		return "", st, err
	}
	return Join(out), st, nil
}
