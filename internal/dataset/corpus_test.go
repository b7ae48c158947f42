package dataset

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func writeGzip(t *testing.T, name, content string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write([]byte(content))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	return p
}

func readAll(path, format string) ([]Document, error) {
	var docs []Document
	n, err := ReadCorpus(path, format, func(d Document) error {
		docs = append(docs, d)
		return nil
	})
	if err == nil && n != len(docs) {
		return nil, errors.New("count mismatch")
	}
	return docs, err
}

// requireInputErr checks that err is an *inputerr.Error naming path and line.
func requireInputErr(t *testing.T, err error, path string, line int, contains string) {
	t.Helper()
	require.Error(t, err)
	var ie *inputerr.Error
	require.True(t, errors.As(err, &ie), "not an input error: %v", err)
	assert.Equal(t, path, ie.File, "file in %v", err)
	assert.Equal(t, line, ie.Line, "line in %v", err)
	assert.Contains(t, err.Error(), contains)
	if line > 0 {
		assert.Contains(t, err.Error(), path+":"+strconv.Itoa(line)+":")
	}
}

func TestReadCorpusFormats(t *testing.T) {
	cases := []struct {
		name, format, content string
		want                  []Document
	}{
		{"pyserini", FormatPyserini, `{"id":"d1","contents":"hello world"}` + "\n" + `{"id":"d2","contents":"second"}` + "\n",
			[]Document{{ID: "d1", Text: "hello world"}, {ID: "d2", Text: "second"}}},
		{"beir", FormatBEIR, `{"_id":"b1","title":"T","text":"body","metadata":{"url":"x"}}` + "\n" + `{"_id":"b2","text":"no title"}`,
			[]Document{{ID: "b1", Title: "T", Text: "body"}, {ID: "b2", Text: "no title"}}},
		{"ciral", FormatCIRAL, `{"docid":"c1","title":"Ti","text":"Te","url":"http://x"}` + "\r\n",
			[]Document{{ID: "c1", Title: "Ti", Text: "Te"}}},
		{"own via jsonl", FormatJSONL, `{"id":"o1","title":"t","text":"x"}` + "\n\n" + `{"id":"o2","text":"   "}` + "\n",
			[]Document{{ID: "o1", Title: "t", Text: "x"}, {ID: "o2", Text: "   "}}},
		{"mixed jsonl", FormatJSONL, "\xef\xbb\xbf" + `{"id":"p","contents":"a"}` + "\n" + `{"_id":"b","title":"","text":"b"}` + "\n" + `{"docid":"c","title":"C","text":"c","url":""}` + "\n" + `{"id":"o","text":"o"}`,
			[]Document{{ID: "p", Text: "a"}, {ID: "b", Text: "b"}, {ID: "c", Title: "C", Text: "c"}, {ID: "o", Text: "o"}}},
		{"empty format means jsonl", "", `{"id":"x","text":"ünïcödé"}`, []Document{{ID: "x", Text: "ünïcödé"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, "corpus.jsonl", c.content)
			docs, err := readAll(p, c.format)
			require.NoError(t, err)
			assert.Equal(t, c.want, docs)

			gz := writeGzip(t, "corpus.jsonl.gz", c.content)
			docs, err = readAll(gz, c.format)
			require.NoError(t, err)
			assert.Equal(t, c.want, docs)
		})
	}
}

func TestReadCorpusGzipDetectedByContent(t *testing.T) {
	p := writeGzip(t, "corpus.jsonl", `{"id":"a","text":"b"}`) // no .gz suffix
	docs, err := readAll(p, FormatJSONL)
	require.NoError(t, err)
	assert.Equal(t, []Document{{ID: "a", Text: "b"}}, docs)
}

func TestReadCorpusErrors(t *testing.T) {
	ok := `{"id":"a","text":"x"}` + "\n"
	cases := []struct {
		name, format, content string
		line                  int
		contains              string
	}{
		{"invalid json", FormatJSONL, ok + `{"id":"b","text":` + "\n", 2, "invalid JSON"},
		{"not an object", FormatJSONL, ok + `[1,2]` + "\n", 2, "invalid JSON"},
		{"null line", FormatJSONL, ok + "null\n", 2, "expected an object"},
		{"missing id", FormatJSONL, ok + `{"text":"x"}` + "\n", 2, "no id field"},
		{"empty id", FormatJSONL, ok + `{"id":"b","text":"x"}` + "\n" + `{"id":"","text":"x"}` + "\n", 3, "empty document id"},
		{"null id", FormatBEIR, `{"_id":null,"text":"x"}`, 1, "empty document id"},
		{"numeric id", FormatJSONL, `{"id":7,"text":"x"}`, 1, "must be a string"},
		{"nul in id", FormatJSONL, ok + `{"id":"a\u0000b","text":"x"}`, 2, "U+0000"},
		{"control in id", FormatCIRAL, `{"docid":"a\tb","text":"x"}`, 1, "U+0009"},
		{"space in id", FormatJSONL, `{"id":"a b","text":"x"}`, 1, "U+0020"},
		{"lone surrogate in id", FormatJSONL, `{"id":"a\ud800","text":"x"}`, 1, "U+FFFD"},
		{"invalid utf8", FormatJSONL, ok + "{\"id\":\"b\",\"text\":\"\xff\xfe\"}\n", 2, "invalid UTF-8"},
		{"duplicate id", FormatJSONL, ok + `{"id":"b","text":"y"}` + "\n" + `{"_id":"a","text":"z"}` + "\n", 3, `duplicate document id "a" (first at line 1)`},
		{"unknown shape", FormatJSONL, `{"id":"a","body":"x"}`, 1, "unsupported document shape"},
		{"contents and text", FormatJSONL, `{"id":"a","contents":"x","text":"y"}`, 1, "both"},
		{"two id keys", FormatJSONL, `{"id":"a","_id":"b","text":"y"}`, 1, "several id fields"},
		{"unexpected key", FormatJSONL, `{"id":"a","text":"y","lang":"de"}`, 1, `unexpected field "lang"`},
		{"strict pyserini", FormatPyserini, `{"id":"a","contents":"x"}` + "\n" + `{"id":"b","text":"x"}`, 2, "expected pyserini {"},
		{"strict beir", FormatBEIR, `{"docid":"a","text":"x"}`, 1, "expected beir {"},
		{"strict ciral", FormatCIRAL, `{"_id":"a","text":"x"}`, 1, "expected ciral {"},
		{"missing text", FormatBEIR, `{"_id":"a","title":"x"}`, 1, `has no "text" field`},
		{"text not string", FormatCIRAL, `{"docid":"a","text":["x"]}`, 1, "must be a string"},
		{"title not string", FormatBEIR, `{"_id":"a","title":1,"text":"x"}`, 1, "must be a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, "bad.jsonl", c.content)
			_, err := readAll(p, c.format)
			requireInputErr(t, err, p, c.line, c.contains)
		})
	}
}

func TestReadCorpusWholeFileErrors(t *testing.T) {
	p := writeFile(t, "empty.jsonl", "\n  \n")
	_, err := readAll(p, FormatJSONL)
	requireInputErr(t, err, p, 0, "empty corpus")

	p = writeFile(t, "zero.jsonl", "")
	_, err = readAll(p, FormatJSONL)
	requireInputErr(t, err, p, 0, "empty corpus")

	_, err = readAll(p, "trec")
	requireInputErr(t, err, p, 0, "unknown corpus format")

	missing := filepath.Join(t.TempDir(), "nope.jsonl")
	_, err = readAll(missing, FormatJSONL)
	requireInputErr(t, err, missing, 0, "cannot open")

	// a truncated gzip stream is bad input too
	gz := writeGzip(t, "c.jsonl.gz", strings.Repeat(`{"id":"a","text":"x"}`+"\n", 1))
	data, err := os.ReadFile(gz)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(gz, data[:len(data)-6], 0o644))
	_, err = readAll(gz, FormatJSONL)
	require.Error(t, err)
	assert.True(t, inputerr.Is(err), "%v", err)
}

func TestReadCorpusCallbackError(t *testing.T) {
	p := writeFile(t, "c.jsonl", `{"id":"a","text":"x"}`+"\n"+`{"id":"b","text":"y"}`)
	stop := errors.New("stop")
	n, err := ReadCorpus(p, FormatJSONL, func(Document) error { return stop })
	assert.Equal(t, 0, n)
	assert.Same(t, stop, err)
}

func TestReadCorpusBigLine(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 70 MB file")
	}
	big := strings.Repeat("wörd ", 14<<20) // 84 MB of text in one line
	var b strings.Builder
	b.WriteString(`{"id":"small","text":"x"}` + "\n")
	b.WriteString(`{"id":"big","text":"` + big + `"}` + "\n")
	b.WriteString(`{"id":"after","text":"y"}` + "\n")
	p := writeFile(t, "big.jsonl", b.String())
	var ids []string
	var bigLen int
	n, err := ReadCorpus(p, FormatJSONL, func(d Document) error {
		ids = append(ids, d.ID)
		if d.ID == "big" {
			bigLen = len(d.Text)
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, []string{"small", "big", "after"}, ids)
	assert.Equal(t, len(big), bigLen)
}
