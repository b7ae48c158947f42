package ddtp

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedSamples checks the collections committed under data/ (built by
// build-demo from Debian bookworm main, see their README.md) with the dataset
// readers: counts as documented, every qrels qid a topic, every qrels docid in
// the corpus, every topic judged.
func TestCommittedSamples(t *testing.T) {
	for _, c := range []struct {
		dir                 string
		docs, topics, qrels int
	}{
		{"ddtp-es", 2228, 200, 342},
		{"ddtp-de", 4300, 200, 388},
	} {
		t.Run(c.dir, func(t *testing.T) {
			dir := filepath.Join("..", "..", "data", c.dir)
			if _, err := os.Stat(filepath.Join(dir, CorpusFile)); err != nil {
				t.Fatalf("committed sample missing: %v", err)
			}
			checkCollection(t, dir, c.docs, c.topics, c.qrels)
		})
	}
}
