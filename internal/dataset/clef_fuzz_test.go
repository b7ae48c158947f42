package dataset

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// The SGML readers (CLEF corpora and topics) must never panic and must report bad
// input as *inputerr.Error.
func FuzzCLEF(f *testing.F) {
	for _, s := range []string{
		clefLatin1, clefRussian, clefTopicsEN, clefTopicsDE, clefTopicsRU,
		"<DOC><DOCNO>a</DOCNO><TEXT>x</TEXT></DOC>", "<DOC>\n<DOCNO>a", "</DOC>", "<DOC><DOC>", "<DOC ><DOCID>&#x110000;&#55296;&amp</DOCID></doc >",
		"<DOC><DOCNO>a</DOCNO><TEXT><P>x<!-- y</TEXT></DOC>", "<DOC><DOCNO>\xff</DOCNO></DOC>", "<doc\t<docno>a</docno></doc>",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	cfg, err := newSGMLConfig("x", CorpusOptions{TitleFields: []string{"TITLE", "TI"}}, EncodingUTF8)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "input")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, opts := range []CorpusOptions{
			{Format: FormatCLEF}, {Format: FormatCLEF, Encoding: EncodingLatin1},
			{Format: FormatCLEF, TextFields: []string{"DOCNO", "P"}, TitleFields: []string{"TEXT"}}, {},
		} {
			if _, err := ReadCorpusWith(p, opts, func(Document) error { return nil }); err != nil && !inputerr.Is(err) {
				t.Fatalf("corpus %+v: not an input error: %v", opts, err)
			}
		}
		for _, opts := range []TopicOptions{{Format: TopicsCLEF}, {Encoding: EncodingLatin1, Lang: "EN"}, {Format: TopicsCLEF, Fields: []string{"narr"}}} {
			if _, err := ReadTopicsWith(p, opts); err != nil && !inputerr.Is(err) {
				t.Fatalf("topics %+v: not an input error: %v", opts, err)
			}
		}
		if _, _, err := cfg.parseRecord("x", 1, string(data), map[string]bool{}); err != nil && !inputerr.Is(err) {
			t.Fatalf("record: not an input error: %v", err)
		}
		_ = decodeEntities(string(data))
	})
}
