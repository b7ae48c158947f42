package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A German CLEF-style file in ISO-8859-1: 0xFC = ü, 0xE4 = ä, 0xF6 = ö, 0xDF = ß.
// Record 1 is Frankfurter Rundschau style (DOCNO and DOCID: DOCNO wins), record 2
// SDA style (DOCID only, TI/LD/TX), records 3 and 4 share a line.
const clefLatin1 = "<!-- header comment -->\n" +
	"<DOC>\n" +
	"<DOCNO> FR940104-000001 </DOCNO>\n" +
	"<DOCID>FR-1</DOCID>\n" +
	"<TITLE>Gr\xfcne   Woche</TITLE>\n" +
	"<DATE>940104</DATE>\n" +
	"<TEXT>\n" +
	"Die B\xe4cker &amp; K\xf6che\n<P>\xf6ffnen</P>  ihre St\xe4nde &lt;heute&gt; &quot;Stra\xdfe&quot; &apos;x&apos; &#228;&#xF6; &foo; &#0;.\n" +
	"</TEXT>\n" +
	"</DOC>\n" +
	"<DOC>\n" +
	"<DOCID>SDA.940101.0001</DOCID>\n" +
	"<TI>Z\xfcrich</TI><LD>Lead</LD>\n" +
	"<TX>Body <!-- c --> text</TX>\n" +
	"</DOC>\n" +
	"<doc><docno>A-3</docno><text>three</text></doc><DOC><DOCNO>A-4</DOCNO><HEADLINE>four</HEADLINE><BYLINE>not text</BYLINE></DOC>\n"

var clefLatin1Docs = []Document{
	{ID: "FR940104-000001", Text: "Grüne Woche Die Bäcker & Köche öffnen ihre Stände <heute> \"Straße\" 'x' äö &foo; &#0;."},
	{ID: "SDA.940101.0001", Text: "Zürich Lead Body text"},
	{ID: "A-3", Text: "three"},
	{ID: "A-4", Text: "four"},
}

// Russian (Izvestia style), UTF-8.
const clefRussian = "\xef\xbb\xbf<DOC>\n<DOCNO>izv-1</DOCNO>\n<TITLE>Москва</TITLE>\n<TEXT>Привет, мир!</TEXT>\n</DOC>\n"

func readCorpusOpts(path string, opts CorpusOptions) ([]Document, error) {
	var docs []Document
	n, err := ReadCorpusWith(path, opts, func(d Document) error {
		docs = append(docs, d)
		return nil
	})
	if err == nil && n != len(docs) {
		return nil, errors.New("count mismatch")
	}
	return docs, err
}

func requireOffsetErr(t *testing.T, err error, path string, offset int64, contains string) {
	t.Helper()
	require.Error(t, err)
	var ie *inputerr.Error
	require.True(t, errors.As(err, &ie), "not an input error: %v", err)
	assert.Equal(t, path, ie.File, "file in %v", err)
	assert.Equal(t, 0, ie.Line, "line in %v", err)
	assert.Equal(t, offset, ie.Offset, "offset in %v", err)
	assert.Contains(t, err.Error(), contains)
}

func TestReadCorpusCLEFLatin1(t *testing.T) {
	latin1 := CorpusOptions{Format: FormatCLEF, Encoding: "iso-8859-1"}
	p := writeFile(t, "fr.sgml", clefLatin1)
	docs, err := readCorpusOpts(p, latin1)
	require.NoError(t, err)
	assert.Equal(t, clefLatin1Docs, docs)

	// alias, and auto-detection from the jsonl default
	for _, opts := range []CorpusOptions{{Format: FormatCLEF, Encoding: "latin1"}, {Encoding: "LATIN1"}, {Format: FormatAuto, Encoding: "iso-8859-1"}} {
		docs, err = readCorpusOpts(p, opts)
		require.NoError(t, err, "%+v", opts)
		assert.Equal(t, clefLatin1Docs, docs)
	}

	// gzip, without a .gz suffix
	gz := writeGzip(t, "fr", clefLatin1)
	docs, err = readCorpusOpts(gz, latin1)
	require.NoError(t, err)
	assert.Equal(t, clefLatin1Docs, docs)

	// title fields leave the (default) text fields
	docs, err = readCorpusOpts(p, CorpusOptions{Format: FormatCLEF, Encoding: "latin1", TitleFields: []string{"title", "TI", "headline"}})
	require.NoError(t, err)
	assert.Equal(t, Document{ID: "FR940104-000001", Title: "Grüne Woche", Text: "Die Bäcker & Köche öffnen ihre Stände <heute> \"Straße\" 'x' äö &foo; &#0;."}, docs[0])
	assert.Equal(t, Document{ID: "SDA.940101.0001", Title: "Zürich", Text: "Lead Body text"}, docs[1])
	assert.Equal(t, Document{ID: "A-4", Title: "four"}, docs[3])

	// explicit text fields
	docs, err = readCorpusOpts(p, CorpusOptions{Format: FormatCLEF, Encoding: "latin1", TextFields: []string{"TX", "byline", "text"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"Die Bäcker & Köche öffnen ihre Stände <heute> \"Straße\" 'x' äö &foo; &#0;.", "Body text", "three", "not text"},
		[]string{docs[0].Text, docs[1].Text, docs[2].Text, docs[3].Text})
}

func TestReadCorpusCLEFUTF8(t *testing.T) {
	p := writeFile(t, "izv.sgml", clefRussian)
	want := []Document{{ID: "izv-1", Text: "Москва Привет, мир!"}}
	for _, opts := range []CorpusOptions{{Format: FormatCLEF}, {Format: FormatCLEF, Encoding: "UTF-8"}, {}} {
		docs, err := readCorpusOpts(p, opts)
		require.NoError(t, err)
		assert.Equal(t, want, docs)
	}
	// read as Latin-1 it is mojibake, but not an error
	docs, err := readCorpusOpts(p, CorpusOptions{Format: FormatCLEF, Encoding: "latin1"})
	require.NoError(t, err)
	assert.NotEqual(t, want, docs)
}

func TestReadCorpusCLEFInvalidUTF8(t *testing.T) {
	// the 0xE4 is at byte 31: "<DOC>\n" (6) + "<DOCNO>d1</DOCNO>\n" (18) + "<TEXT>B" (7)
	content := "<DOC>\n<DOCNO>d1</DOCNO>\n<TEXT>B\xe4cker</TEXT>\n</DOC>\n"
	p := writeFile(t, "latin1.sgml", content)
	_, err := readCorpusOpts(p, CorpusOptions{Format: FormatCLEF})
	requireOffsetErr(t, err, p, 31, "invalid UTF-8")
	assert.Contains(t, err.Error(), p+": byte 31: ")
	assert.Contains(t, err.Error(), "iso-8859-1")

	// a BOM counts
	p = writeFile(t, "bom.sgml", "\xef\xbb\xbf"+content)
	_, err = readCorpusOpts(p, CorpusOptions{Format: FormatCLEF})
	requireOffsetErr(t, err, p, 34, "invalid UTF-8")

	// gzip: offsets in the decompressed data
	gz := writeGzip(t, "latin1.sgml.gz", content)
	_, err = readCorpusOpts(gz, CorpusOptions{Format: FormatCLEF})
	requireOffsetErr(t, err, gz, 31, "decompressed")

	// a truncated multi-byte sequence at the end of a line
	p = writeFile(t, "trunc.sgml", "<DOC><DOCNO>x</DOCNO><TEXT>\xd0</TEXT></DOC>\n")
	_, err = readCorpusOpts(p, CorpusOptions{Format: FormatCLEF})
	requireOffsetErr(t, err, p, 27, "invalid UTF-8")
}

func TestReadCorpusCLEFDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) string {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	b := write("b.sgml", "<DOC><DOCNO>b1</DOCNO><TEXT>B1</TEXT></DOC>\n<DOC><DOCNO>b2</DOCNO><TEXT>B2</TEXT></DOC>\n")
	a := write("sub/a.sgml", "<DOC><DOCNO>a1</DOCNO><TEXT>A\xe4</TEXT></DOC>\n")
	write("README", "not a corpus file")
	write("README.txt", "not a corpus file")
	write("notes.md", "not a corpus file")
	write(".hidden", "not a corpus file")
	write(".git/x.sgml", "not a corpus file")
	empty := write("c-empty.sgml", "")

	files, err := CorpusFiles(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{b, empty, a}, files)
	files, err = CorpusFiles(a)
	require.NoError(t, err)
	assert.Equal(t, []string{a}, files)

	docs, err := readCorpusOpts(dir, CorpusOptions{Format: FormatCLEF, Encoding: "latin1"})
	require.NoError(t, err)
	assert.Equal(t, []Document{{ID: "b1", Text: "B1"}, {ID: "b2", Text: "B2"}, {ID: "a1", Text: "Aä"}}, docs)

	// duplicate across files names both places
	a2 := write("sub/z.sgml", "\n<DOC>\n<DOCNO>b2</DOCNO>\n<TEXT>again</TEXT></DOC>\n")
	_, err = readCorpusOpts(dir, CorpusOptions{Format: FormatCLEF, Encoding: "latin1"})
	requireInputErr(t, err, a2, 3, `duplicate document id "b2" (first at `+b+":2)")

	// JSON lines directories work the same way
	jdir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(jdir, "1.jsonl"), []byte(`{"docid":"c1","title":"T","text":"x","url":"u"}`+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(jdir, "2.jsonl"), []byte("\n"+`{"docid":"c1","title":"T","text":"x","url":"u"}`+"\n"), 0o644))
	_, err = readCorpusOpts(jdir, CorpusOptions{Format: FormatCIRAL})
	requireInputErr(t, err, filepath.Join(jdir, "2.jsonl"), 2, "first at "+filepath.Join(jdir, "1.jsonl")+":1)")
}

func TestCorpusFilesErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := CorpusFiles(dir)
	requireInputErr(t, err, dir, 0, "no corpus files")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("x"), 0o644))
	_, err = CorpusFiles(dir)
	requireInputErr(t, err, dir, 0, "no corpus files")
	missing := filepath.Join(dir, "nope")
	_, err = CorpusFiles(missing)
	requireInputErr(t, err, missing, 0, "cannot open")
	_, err = readCorpusOpts(dir, CorpusOptions{})
	requireInputErr(t, err, dir, 0, "no corpus files")
}

func TestReadCorpusCLEFErrors(t *testing.T) {
	doc := func(id string) string { return "<DOC>\n<DOCNO>" + id + "</DOCNO>\n<TEXT>x</TEXT>\n</DOC>\n" }
	cases := []struct {
		name, content string
		opts          CorpusOptions
		line          int
		contains      string
	}{
		{"no id", doc("a") + "\n<DOC>\n<TEXT>x</TEXT>\n</DOC>\n", CorpusOptions{}, 6, "without <DOCNO> or <DOCID>"},
		{"empty id", doc("a") + "<DOC>\n<DOCNO> </DOCNO>\n</DOC>\n", CorpusOptions{}, 6, "empty <DOCNO>"},
		{"id with space", "<DOC>\n<DOCID>a b</DOCID><TEXT>x</TEXT></DOC>", CorpusOptions{}, 2, "U+0020"},
		{"two docnos", "<DOC>\n<DOCNO>a</DOCNO>\n<DOCNO>b</DOCNO>\n</DOC>", CorpusOptions{}, 3, "several <DOCNO> in the <DOC> record at line 1"},
		{"unterminated at eof", doc("a") + "\n<DOC>\n<DOCNO>b</DOCNO>\n<TEXT>x</TEXT>\n", CorpusOptions{}, 6, "not closed by </DOC> before the end of the file"},
		{"unterminated before next", doc("a") + "<DOC>\n<DOCNO>b</DOCNO>\n" + doc("c"), CorpusOptions{}, 5, "another <DOC> starts at line 7"},
		{"stray close", doc("a") + "</DOC>\n", CorpusOptions{}, 5, "</DOC> without <DOC>"},
		{"duplicate", doc("a") + doc("b") + doc("a"), CorpusOptions{}, 10, `duplicate document id "a" (first at line 2)`},
		{"not sgml", "hello\n<p>x</p>\n", CorpusOptions{Format: FormatCLEF}, 0, "no <DOC> records"},
		{"no text in fields", doc("a") + doc("b"), CorpusOptions{TextFields: []string{"TX"}}, 0, "none of the 2 documents has text in the fields TX (fields found: DOCNO, TEXT)"},
		{"empty", "\n \n\t\n", CorpusOptions{Format: FormatCLEF}, 0, "empty corpus"},
		{"only a comment", "<!-- nothing -->\n", CorpusOptions{Format: FormatCLEF}, 0, "no <DOC> records"},
		{"unknown encoding", doc("a"), CorpusOptions{Format: FormatCLEF, Encoding: "cp1252"}, 0, "unknown encoding"},
		{"latin1 jsonl", `{"id":"a","text":"x"}`, CorpusOptions{Format: FormatPyserini, Encoding: "latin1"}, 0, "must be UTF-8"},
		{"latin1 detected jsonl", `{"id":"a","text":"x"}`, CorpusOptions{Encoding: "latin1"}, 0, "JSON lines must be UTF-8"},
		{"bad field name", doc("a"), CorpusOptions{TextFields: []string{"<TEXT>"}}, 0, "invalid text field name"},
		{"bad title field name", doc("a"), CorpusOptions{TitleFields: []string{""}}, 0, "invalid title field name"},
		{"unknown format", doc("a"), CorpusOptions{Format: "sgml"}, 0, "unknown corpus format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, "bad.sgml", c.content)
			_, err := readCorpusOpts(p, c.opts)
			requireInputErr(t, err, p, c.line, c.contains)
		})
	}
}

func TestReadCorpusCLEFCallbackError(t *testing.T) {
	p := writeFile(t, "c.sgml", "<DOC><DOCNO>a</DOCNO><TEXT>x</TEXT></DOC>")
	stop := errors.New("stop")
	n, err := ReadCorpusWith(p, CorpusOptions{Format: FormatCLEF}, func(Document) error { return stop })
	assert.Equal(t, 0, n)
	assert.Same(t, stop, err)
}

func TestReadCorpusCLEFLargeRecord(t *testing.T) {
	// a record of many lines, followed by one more
	var b strings.Builder
	b.WriteString("<DOC>\n<DOCNO>big</DOCNO>\n<TEXT>\n")
	for i := 0; i < 100000; i++ {
		b.WriteString("<P>w\xf6rter und mehr</P>\n")
	}
	b.WriteString("</TEXT>\n</DOC>\n<DOC><DOCNO>small</DOCNO><TEXT>s</TEXT></DOC>\n")
	p := writeGzip(t, "big.sgml.gz", b.String())
	docs, err := readCorpusOpts(p, CorpusOptions{Format: FormatCLEF, Encoding: "latin1"})
	require.NoError(t, err)
	require.Len(t, docs, 2)
	assert.Equal(t, 100000*len("wörter und mehr ")-1, len(docs[0].Text))
	assert.True(t, strings.HasPrefix(docs[0].Text, "wörter und mehr wörter"))
	assert.Equal(t, Document{ID: "small", Text: "s"}, docs[1])
}

func TestParseSGMLRecordOddMarkup(t *testing.T) {
	cfg, err := newSGMLConfig("x", CorpusOptions{TitleFields: []string{"HEADLINE"}}, EncodingUTF8)
	require.NoError(t, err)
	cases := []struct {
		body string
		want Document
	}{
		// unclosed field: extends to the next tag; a < that is no tag is text
		{"<DOCNO>a</DOCNO><HEADLINE>h<TEXT>1 < 2 <b and a<3</TEXT>", Document{ID: "a", Title: "h", Text: "1 < 2 <b and a<3"}},
		// fields inside wrappers are found; fields inside fields are not separate
		{"<HEADER><DOCNO>a</DOCNO></HEADER><BODY><TEXT>t</TEXT><HEADLINE>x</HEADLINE></BODY>", Document{ID: "a", Text: "t x"}},
		// attributes, declarations, processing instructions, unterminated comment
		{`<DOCNO type="x">a</DOCNO><TEXT lang=de>t<br/>u<?pi?><!ENTITY x>v</TEXT><!-- open`, Document{ID: "a", Text: "t u v"}},
		// DOCNO wins over DOCID wherever it is
		{"<DOCID>b</DOCID><TEXT>t</TEXT><DOCNO>a</DOCNO>", Document{ID: "a", Text: "t"}},
		// nested same-name elements
		{"<DOCNO>a</DOCNO><TEXT>x<TEXT>y</TEXT>z</TEXT>", Document{ID: "a", Text: "x y z"}},
	}
	for _, c := range cases {
		doc, _, err := cfg.parseRecord("x", 1, c.body, map[string]bool{})
		require.NoError(t, err, c.body)
		assert.Equal(t, c.want, doc, c.body)
	}
}

func TestReadCorpusCIRAL(t *testing.T) {
	content := `{"docid":"ciral-1","title":"Labari","text":"Rubutu na farko.","url":"https://example.org/1"}` + "\n" +
		`{"docid":"ciral-2","title":"","text":"Na biyu.","url":""}` + "\n"
	want := []Document{{ID: "ciral-1", Title: "Labari", Text: "Rubutu na farko."}, {ID: "ciral-2", Text: "Na biyu."}}
	for _, format := range []string{FormatCIRAL, FormatJSONL, ""} {
		gz := writeGzip(t, "docs.jsonl.gz", content)
		docs, err := readCorpusOpts(gz, CorpusOptions{Format: format})
		require.NoError(t, err)
		assert.Equal(t, want, docs)
	}
	p := writeFile(t, "topics.tsv", "1\tLabarai game da zabe\n2\tKudin mai\n")
	topics, err := ReadTopicsWith(p, TopicOptions{})
	require.NoError(t, err)
	assert.Equal(t, []Topic{{"1", "Labarai game da zabe"}, {"2", "Kudin mai"}}, topics)
}
