//go:build !nobleve

package bm25cmp

import (
	"testing"
)

// Both engines answer the same queries from the same corpus; their rankings
// differ (Snowball vs light stemmer, Lucene's quantised norms vs bleve's
// exact lengths) but must overlap. A guard against benchmarking an engine
// that finds nothing.
func TestEnginesOverlap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a bleve index of the whole corpus")
	}
	d, err := Load(DataDir())
	if err != nil {
		t.Skipf("no benchmark corpus (%v)", err)
	}
	cf, err := Build("clirflow", InMemory(d.Docs))
	if err != nil {
		t.Fatal(err)
	}
	bl, err := Build("bleve", Stream(d.Dir))
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	var sum float64
	var withHits int
	for _, q := range d.Queries {
		a, err := cf.Search(q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := bl.Search(q)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) == 0 || len(b) == 0 {
			continue
		}
		withHits++
		in := map[string]bool{}
		for _, id := range b {
			in[id] = true
		}
		common := 0
		for _, id := range a {
			if in[id] {
				common++
			}
		}
		sum += float64(common) / float64(min(len(a), len(b)))
	}
	overlap := sum / float64(max(withHits, 1))
	t.Logf("%d queries, %d with hits from both, mean top-100 overlap %.2f", len(d.Queries), withHits, overlap)
	if withHits < len(d.Queries)/2 || overlap < 0.3 {
		t.Fatalf("engines disagree: %d of %d queries with hits, overlap %.2f", withHits, len(d.Queries), overlap)
	}
}
