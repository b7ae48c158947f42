package dataset

import (
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

// Corpus formats accepted by ReadCorpus.
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

// ReadCorpus streams the documents of a JSON-lines corpus to fn, in file order, and
// returns how many it delivered. format is one of "jsonl" (each line may be any of
// the shapes below, recognised by its keys), "pyserini" ({"id","contents"}),
// "beir" ({"_id","title","text"} plus optional "metadata") or "ciral"
// ({"docid","title","text","url"}); "jsonl" also accepts our own
// {"id","title","text"} (title optional). Gzip-compressed files are read
// transparently. Blank lines are skipped. Keys outside the shape are errors (they
// usually mean the wrong format). Text is kept verbatim; whitespace-only text is
// allowed. Ids must be non-empty, without whitespace or control characters (they
// end up in whitespace-separated run and qrels files), and unique.
//
// Errors about the input are *inputerr.Error with file and line. An error returned
// by fn stops the reading and is returned unchanged.
func ReadCorpus(path, format string, fn func(Document) error) (int, error) {
	var fixed *shape
	switch format {
	case FormatJSONL, "":
	case FormatPyserini:
		fixed = &shapePyserini
	case FormatBEIR:
		fixed = &shapeBEIR
	case FormatCIRAL:
		fixed = &shapeCIRAL
	default:
		return 0, inputerr.At(path, 0, "unknown corpus format %q (want jsonl, pyserini, beir or ciral)", format)
	}
	r, closeFn, err := openInput(path)
	if err != nil {
		return 0, err
	}
	defer closeFn()

	lr := newLineReader(r, path)
	seen := make(map[string]int)
	n := 0
	for {
		line, ok, err := lr.next()
		if err != nil {
			return n, err
		}
		if !ok {
			break
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		doc, err := parseDocLine(path, lr.line, line, fixed)
		if err != nil {
			return n, err
		}
		if first, dup := seen[doc.ID]; dup {
			return n, inputerr.At(path, lr.line, "duplicate document id %q (first at line %d)", doc.ID, first)
		}
		seen[doc.ID] = lr.line
		if err := fn(doc); err != nil {
			return n, err
		}
		n++
	}
	if n == 0 {
		return 0, inputerr.At(path, 0, "empty corpus: no documents")
	}
	return n, nil
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
