package dataset

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// The readers must never panic and must report bad input as *inputerr.Error.
func FuzzReaders(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","text":"x"}`, `{"_id":"a","title":"t","text":"x"}`, `{"docid":"a","text":"x","url":""}`,
		`{"id":"a","contents":"x"}`, "1\tquery\n", trecClassic, trecClosedOK, "<top><num>1<title>x</top>", "\xff\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "input")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{FormatJSONL, FormatPyserini, FormatBEIR, FormatCIRAL} {
			if _, err := ReadCorpus(p, format, func(Document) error { return nil }); err != nil && !inputerr.Is(err) {
				t.Fatalf("corpus %s: not an input error: %v", format, err)
			}
		}
		for _, format := range []string{TopicsTSV, TopicsTREC, TopicsAuto} {
			if _, err := ReadTopics(p, format, []string{"title", "desc"}); err != nil && !inputerr.Is(err) {
				t.Fatalf("topics %s: not an input error: %v", format, err)
			}
		}
	})
}
