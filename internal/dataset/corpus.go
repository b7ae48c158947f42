package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// Document is one retrievable unit of a corpus.
type Document struct {
	ID    string `json:"id"`
	Title string `json:"title,omitempty"`
	Text  string `json:"text"`
}

// Corpus formats accepted by ReadCorpus (see also FormatCLEF and FormatAuto).
const (
	FormatJSONL    = "jsonl"    // auto-detect the shape of every line
	FormatPyserini = "pyserini" // {"id", "contents"} (Pyserini JsonCollection)
	FormatBEIR     = "beir"     // {"_id", "title", "text", "metadata"?}
	FormatCIRAL    = "ciral"    // {"docid", "title", "text", "url"}
)

// shape describes one JSON-lines document layout.
type shape struct {
	name     string
	idKey    string
	textKey  string
	titleKey string          // "" when the shape has no title
	extra    map[string]bool // further keys that are allowed and ignored
}

var (
	shapePyserini = shape{name: FormatPyserini, idKey: "id", textKey: "contents"}
	shapeBEIR     = shape{name: FormatBEIR, idKey: "_id", textKey: "text", titleKey: "title", extra: map[string]bool{"metadata": true}}
	shapeCIRAL    = shape{name: FormatCIRAL, idKey: "docid", textKey: "text", titleKey: "title", extra: map[string]bool{"url": true}}
	shapeOwn      = shape{name: "clirflow", idKey: "id", textKey: "text", titleKey: "title"}
)

func (s shape) describe() string {
	keys := []string{s.idKey}
	if s.titleKey != "" {
		keys = append(keys, s.titleKey)
	}
	keys = append(keys, s.textKey)
	for k := range s.extra {
		keys = append(keys, k)
	}
	return s.name + " {" + strings.Join(keys, ", ") + "}"
}

// FormatAuto is accepted as a synonym of FormatJSONL.
const FormatAuto = "auto"

// CorpusOptions says how to read a corpus.
type CorpusOptions struct {
	// Format: "jsonl" (or "" or "auto": every line's JSON shape is recognised,
	// and a file whose first non-blank character is '<' is read as "clef"),
	// "pyserini", "beir", "ciral" or "clef".
	Format string
	// Encoding: "utf-8" (default) or "iso-8859-1" (alias "latin1"). It applies to
	// clef files; JSON lines must be UTF-8.
	Encoding string
	// TextFields (clef): the SGML fields whose text, in record order, makes up
	// Document.Text. Default: DefaultCLEFTextFields minus TitleFields.
	TextFields []string
	// TitleFields (clef): the fields whose text makes up Document.Title. Default
	// none (the title fields are then part of the text).
	TitleFields []string
}

// ReadCorpus is ReadCorpusWith(path, CorpusOptions{Format: format}, fn).
func ReadCorpus(path, format string, fn func(Document) error) (int, error) {
	return ReadCorpusWith(path, CorpusOptions{Format: format}, fn)
}

// ReadCorpusWith streams the documents of a corpus to fn, in file order, and
// returns how many it delivered. path is a file or a directory; a directory
// stands for the files CorpusFiles lists, read in that order as one corpus.
// Gzip-compressed files are read transparently (recognised by their magic bytes).
//
// JSON lines: format "jsonl" (each line may be any of the shapes below,
// recognised by its keys), "pyserini" ({"id","contents"}), "beir"
// ({"_id","title","text"} plus optional "metadata") or "ciral"
// ({"docid","title","text","url"}); "jsonl" also accepts our own
// {"id","title","text"} (title optional). Blank lines are skipped. Keys outside
// the shape are errors (they usually mean the wrong format). Text and title are
// kept verbatim; whitespace-only text is allowed.
//
// CLEF ("clef"): SGML files of <DOC> ... </DOC> records, as distributed for the
// CLEF (and TREC) ad-hoc tracks, in UTF-8 or ISO-8859-1. The id is the text of
// <DOCNO>, or of <DOCID> when the record has no DOCNO. Title and Text are the
// texts of opts.TitleFields and opts.TextFields (see DefaultCLEFTextFields), each
// field's content with nested tags stripped, the entities &amp; &lt; &gt; &quot;
// &apos; and &#NNN; / &#xHH; decoded and whitespace collapsed, joined by a
// space in record order. Field and DOC tag names are case-insensitive. Text
// outside records is ignored, but a non-empty file without any record is an
// error, and so is a file none of whose records has text in the chosen fields.
// Files are read a line and a record at a time.
//
// Ids must be non-empty, without whitespace or control characters (they end up
// in whitespace-separated run and qrels files), and unique across all files.
//
// Errors about the input are *inputerr.Error with file and line (invalid UTF-8 in
// a clef file: the byte offset; for gzip files, in the decompressed data). An
// error returned by fn stops the reading and is returned unchanged.
func ReadCorpusWith(path string, opts CorpusOptions, fn func(Document) error) (int, error) {
	var (
		fixed *shape
		clef  bool
		auto  bool
	)
	switch opts.Format {
	case FormatJSONL, FormatAuto, "":
		auto = true
	case FormatPyserini:
		fixed = &shapePyserini
	case FormatBEIR:
		fixed = &shapeBEIR
	case FormatCIRAL:
		fixed = &shapeCIRAL
	case FormatCLEF:
		clef = true
	default:
		return 0, inputerr.At(path, 0, "unknown corpus format %q (want jsonl, pyserini, beir, ciral or clef)", opts.Format)
	}
	enc, err := normalizeEncoding(path, opts.Encoding)
	if err != nil {
		return 0, err
	}
	if enc != EncodingUTF8 && !clef && !auto {
		return 0, inputerr.At(path, 0, "corpus format %s must be UTF-8 (encoding %q applies to clef corpora only)", opts.Format, opts.Encoding)
	}
	var cfg *sgmlConfig
	if clef || auto {
		if cfg, err = newSGMLConfig(path, opts, enc); err != nil {
			return 0, err
		}
	}
	files, err := CorpusFiles(path)
	if err != nil {
		return 0, err
	}
	c := &corpusReader{files: files, seen: make(map[string]docLoc), fn: fn}
	for i := range files {
		if err := c.readFile(i, fixed, clef, auto, enc, cfg); err != nil {
			return c.n, err
		}
	}
	if c.n == 0 {
		return 0, inputerr.At(path, 0, "empty corpus: no documents")
	}
	return c.n, nil
}

// docLoc is where a document id was seen: files[file], line.
type docLoc struct{ file, line int }

type corpusReader struct {
	files []string
	seen  map[string]docLoc
	fn    func(Document) error
	n     int
}

// add checks the id for uniqueness and hands doc to the callback.
func (c *corpusReader) add(file, line int, doc Document) error {
	if first, dup := c.seen[doc.ID]; dup {
		if first.file == file {
			return inputerr.At(c.files[file], line, "duplicate document id %q (first at line %d)", doc.ID, first.line)
		}
		return inputerr.At(c.files[file], line, "duplicate document id %q (first at %s:%d)", doc.ID, c.files[first.file], first.line)
	}
	c.seen[doc.ID] = docLoc{file, line}
	if err := c.fn(doc); err != nil {
		return err
	}
	c.n++
	return nil
}

func (c *corpusReader) readFile(i int, fixed *shape, clef, auto bool, enc string, cfg *sgmlConfig) error {
	path := c.files[i]
	r, closeFn, gz, err := openInputGz(path)
	if err != nil {
		return err
	}
	defer closeFn()
	if auto && looksLikeSGML(r) {
		clef = true
	}
	if clef {
		return c.readSGMLFile(i, r, gz, cfg)
	}
	if enc != EncodingUTF8 {
		return inputerr.At(path, 0, "JSON lines must be UTF-8 (encoding %q applies to clef corpora only)", enc)
	}
	lr := newLineReader(r, path)
	for {
		line, ok, err := lr.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		doc, err := parseDocLine(path, lr.line, line, fixed)
		if err != nil {
			return err
		}
		if err := c.add(i, lr.line, doc); err != nil {
			return err
		}
	}
}

// looksLikeSGML reports whether the first non-blank character of the input
// (after a UTF-8 byte order mark) is '<'.
func looksLikeSGML(r *bufio.Reader) bool {
	b, _ := r.Peek(64 << 10)
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}

func parseDocLine(path string, lineNo int, line []byte, fixed *shape) (Document, error) {
	if !utf8.Valid(line) {
		return Document{}, inputerr.At(path, lineNo, "invalid UTF-8 at byte %d of the line", invalidUTF8At(line))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return Document{}, inputerr.At(path, lineNo, "invalid JSON: %v", err)
	}
	if obj == nil { // the line was "null"
		return Document{}, inputerr.At(path, lineNo, "invalid JSON: expected an object")
	}
	sh, err := detectShape(obj)
	if err != nil {
		return Document{}, inputerr.At(path, lineNo, "%v", err)
	}
	if fixed != nil && sh.name != fixed.name {
		return Document{}, inputerr.At(path, lineNo, "expected %s, got fields %s", fixed.describe(), keyList(obj))
	}
	for k := range obj {
		if k != sh.idKey && k != sh.textKey && k != sh.titleKey && !sh.extra[k] {
			return Document{}, inputerr.At(path, lineNo, "unexpected field %q for %s", k, sh.describe())
		}
	}
	var doc Document
	id, present, err := stringField(obj, sh.idKey)
	if err != nil {
		return Document{}, inputerr.At(path, lineNo, "%v", err)
	}
	if !present || id == "" {
		return Document{}, inputerr.At(path, lineNo, "empty document id (field %q)", sh.idKey)
	}
	if r, bad := badIDRune(id); bad {
		return Document{}, inputerr.At(path, lineNo, "document id %q contains %U (ids must not contain whitespace or control characters)", id, r)
	}
	doc.ID = id
	text, present, err := stringField(obj, sh.textKey)
	if err != nil {
		return Document{}, inputerr.At(path, lineNo, "document %q: %v", id, err)
	}
	if !present {
		return Document{}, inputerr.At(path, lineNo, "document %q has no %q field", id, sh.textKey)
	}
	doc.Text = text
	if sh.titleKey != "" {
		title, _, err := stringField(obj, sh.titleKey)
		if err != nil {
			return Document{}, inputerr.At(path, lineNo, "document %q: %v", id, err)
		}
		doc.Title = title
	}
	return doc, nil
}

// detectShape recognises the layout of one JSON object by its id key.
func detectShape(obj map[string]json.RawMessage) (shape, error) {
	var idKeys []string
	for _, k := range []string{"id", "_id", "docid"} {
		if _, ok := obj[k]; ok {
			idKeys = append(idKeys, k)
		}
	}
	switch {
	case len(idKeys) == 0:
		return shape{}, fmt.Errorf("unsupported document shape: no id field (want \"id\", \"_id\" or \"docid\"), got fields %s", keyList(obj))
	case len(idKeys) > 1:
		return shape{}, fmt.Errorf("unsupported document shape: several id fields %s", strings.Join(idKeys, ", "))
	}
	switch idKeys[0] {
	case "_id":
		return shapeBEIR, nil
	case "docid":
		return shapeCIRAL, nil
	}
	_, hasContents := obj["contents"]
	_, hasText := obj["text"]
	switch {
	case hasContents && hasText:
		return shape{}, fmt.Errorf("unsupported document shape: both \"contents\" and \"text\"")
	case hasContents:
		return shapePyserini, nil
	case hasText:
		return shapeOwn, nil
	}
	return shape{}, fmt.Errorf("unsupported document shape: no \"text\" or \"contents\" field, got fields %s", keyList(obj))
}

// stringField returns obj[key] as a string. JSON null counts as absent.
func stringField(obj map[string]json.RawMessage, key string) (s string, present bool, err error) {
	raw, ok := obj[key]
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, fmt.Errorf("field %q must be a string", key)
	}
	return s, true, nil
}

func keyList(obj map[string]json.RawMessage) string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "[" + strings.Join(keys, ", ") + "]"
}

// badIDRune reports the first rune that may not appear in an id: control
// characters (including NUL), whitespace, and U+FFFD (what invalid UTF-8 or a lone
// surrogate escape decodes to).
func badIDRune(id string) (rune, bool) {
	for _, r := range id {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			return r, true
		}
	}
	return 0, false
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}
