package dataset

import (
	"bytes"
	"io"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// Topic is one query.
type Topic struct {
	ID    string
	Query string
}

// Topic formats accepted by ReadTopics.
const (
	TopicsTSV  = "tsv"  // qid<TAB>query, one per line (Pyserini, CIRAL)
	TopicsTREC = "trec" // <top> <num> Number: 301 <title> ... <desc> Description: ... </top>
	TopicsCLEF = "clef" // <top> <num>C141</num> <EN-title>...</EN-title> <EN-desc>... </top>
	TopicsAuto = "auto" // tsv unless the first non-blank character is '<'; then clef when there are language-prefixed tags, else trec
)

// maxTopicsBytes bounds how much of a TREC topic file is read into memory.
const maxTopicsBytes = 256 << 20

// TopicOptions says how to read a topic file.
type TopicOptions struct {
	// Format: "tsv", "trec", "clef" or "auto" ("" means auto).
	Format string
	// Fields (trec, clef): the topic fields that make up the query, without any
	// language prefix ("title", "desc", "narr"). Default: ["title"] for trec,
	// ["title", "desc"] for clef.
	Fields []string
	// Encoding: "utf-8" (default) or "iso-8859-1" (alias "latin1").
	Encoding string
	// Lang (clef): the expected language prefix of the field tags (EN, DE, FI,
	// IT, RU, ...; case-insensitive). Empty: any prefix, but one per file.
	Lang string
}

// ReadTopics is ReadTopicsWith(path, TopicOptions{Format: format, Fields: fields}).
func ReadTopics(path, format string, fields []string) ([]Topic, error) {
	return ReadTopicsWith(path, TopicOptions{Format: format, Fields: fields})
}

var (
	langName  = regexp.MustCompile(`^[A-Za-z]+$`)
	clefField = regexp.MustCompile(`(?i)<[a-z]+-(title|desc|narr)\s*>`)
)

// ReadTopicsWith reads a topic file in file order. For TREC files the query is
// the text of the requested fields (tag names such as "title", "desc", "narr";
// default ["title"]) joined by a space, with whitespace collapsed and the
// conventional labels ("Number:", "Topic:", "Description:", "Narrative:")
// removed; fields are ignored for TSV. Both classic unclosed tags and
// <tag>...</tag> are accepted. CLEF files are TREC files whose field tags carry
// a language prefix (<EN-title>, <DE-desc>, ...); the prefix is checked against
// opts.Lang and dropped, and the query defaults to title + " " + desc. The topic
// id is the <num> text as it stands (e.g. "C141"). Gzip-compressed files are read
// transparently.
//
// Errors (*inputerr.Error, file:line): malformed lines or markup, empty or
// duplicate qids, qids with whitespace or control characters, a requested field
// missing from a topic, empty query text, a language prefix other than the
// expected one, invalid UTF-8, and a file without topics.
func ReadTopicsWith(path string, opts TopicOptions) ([]Topic, error) {
	format := opts.Format
	switch format {
	case TopicsTSV, TopicsTREC, TopicsCLEF, TopicsAuto, "":
	default:
		return nil, inputerr.At(path, 0, "unknown topics format %q (want tsv, trec, clef or auto)", format)
	}
	fields := opts.Fields
	for _, f := range fields {
		if !tagName.MatchString(f) {
			return nil, inputerr.At(path, 0, "invalid topic field name %q", f)
		}
	}
	enc, err := normalizeEncoding(path, opts.Encoding)
	if err != nil {
		return nil, err
	}
	if opts.Lang != "" && !langName.MatchString(opts.Lang) {
		return nil, inputerr.At(path, 0, "invalid topic language %q (want a tag prefix such as EN or DE)", opts.Lang)
	}
	r, closeFn, err := openInput(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	raw, err := io.ReadAll(io.LimitReader(r, maxTopicsBytes+1))
	if err != nil {
		return nil, inputerr.At(path, 0, "read error: %v", err)
	}
	if len(raw) > maxTopicsBytes {
		return nil, inputerr.At(path, 0, "topic file larger than %d bytes", maxTopicsBytes)
	}
	var data string
	if enc == EncodingLatin1 {
		data = decodeLatin1(raw)
	} else {
		raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
		if !utf8.Valid(raw) {
			off := invalidUTF8At(raw)
			return nil, inputerr.At(path, 1+bytes.Count(raw[:off], []byte{'\n'}), "invalid UTF-8 (byte %d of the file); for a Latin-1 file set the encoding to iso-8859-1", off)
		}
		data = string(raw)
	}
	if format == TopicsAuto || format == "" {
		format = TopicsTSV
		if t := strings.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '<' {
			format = TopicsTREC
			if clefField.MatchString(data) {
				format = TopicsCLEF
			}
		}
	}
	var topics []Topic
	switch format {
	case TopicsTSV:
		topics, err = parseTSVTopics(path, data)
	case TopicsTREC:
		if len(fields) == 0 {
			fields = []string{"title"}
		}
		topics, err = parseTRECTopics(path, data, fields, nil)
	default:
		if len(fields) == 0 {
			fields = []string{"title", "desc"}
		}
		topics, err = parseTRECTopics(path, data, fields, newCLEFTagMapper(path, opts.Lang))
	}
	if err != nil {
		return nil, err
	}
	if len(topics) == 0 {
		return nil, inputerr.At(path, 0, "no topics")
	}
	return topics, nil
}

// newCLEFTagMapper returns the tag-name mapping of CLEF topics: "en-title" ->
// "title", checking the prefix against lang (or, when lang is empty, against the
// first prefix in the file). Tags without a prefix (top, num) are unchanged.
func newCLEFTagMapper(path, lang string) func(name string, line int) (string, error) {
	want := strings.ToLower(lang)
	firstLine := 0
	return func(name string, line int) (string, error) {
		i := strings.IndexByte(name, '-')
		if i <= 0 || i == len(name)-1 || !langName.MatchString(name[:i]) {
			return name, nil
		}
		prefix := name[:i]
		switch {
		case want == "":
			want, firstLine = prefix, line
		case prefix != want && firstLine > 0:
			return "", inputerr.At(path, line, "topic field <%s> has language prefix %s, but the file started with %s (line %d)", name, strings.ToUpper(prefix), strings.ToUpper(want), firstLine)
		case prefix != want:
			return "", inputerr.At(path, line, "topic field <%s> has language prefix %s, want %s", name, strings.ToUpper(prefix), strings.ToUpper(want))
		}
		return name[i+1:], nil
	}
}

// topicSet checks qids and queries as topics are added.
type topicSet struct {
	path   string
	topics []Topic
	seen   map[string]int
}

func (s *topicSet) add(line int, qid, query string) error {
	if qid == "" {
		return inputerr.At(s.path, line, "empty topic id")
	}
	if r, bad := badIDRune(qid); bad {
		return inputerr.At(s.path, line, "topic id %q contains %U (ids must not contain whitespace or control characters)", qid, r)
	}
	if first, dup := s.seen[qid]; dup {
		return inputerr.At(s.path, line, "duplicate topic id %q (first at line %d)", qid, first)
	}
	if query == "" {
		return inputerr.At(s.path, line, "topic %q has an empty query", qid)
	}
	if s.seen == nil {
		s.seen = make(map[string]int)
	}
	s.seen[qid] = line
	s.topics = append(s.topics, Topic{ID: qid, Query: query})
	return nil
}

func parseTSVTopics(path, data string) ([]Topic, error) {
	set := topicSet{path: path}
	for i, line := range strings.Split(data, "\n") {
		lineNo := i + 1
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) != 2 {
			return nil, inputerr.At(path, lineNo, "malformed topic line: want qid<TAB>query, got %d tab-separated fields", len(parts))
		}
		if err := set.add(lineNo, strings.TrimSpace(parts[0]), collapseSpace(parts[1])); err != nil {
			return nil, err
		}
	}
	return set.topics, nil
}

var (
	tagName  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)
	tagToken = regexp.MustCompile(`<(/?)([A-Za-z][A-Za-z0-9_.-]*)\s*>`)
	// conventional labels at the start of a field's text
	fieldLabels = map[string]*regexp.Regexp{
		"num":   regexp.MustCompile(`(?i)^\s*number\s*:`),
		"title": regexp.MustCompile(`(?i)^\s*topic\s*:`),
		"desc":  regexp.MustCompile(`(?i)^\s*description\s*:`),
		"narr":  regexp.MustCompile(`(?i)^\s*narrative\s*:`),
	}
)

type trecField struct {
	text string
	line int
}

// parseTRECTopics parses TREC-style topics; mapName, when not nil, maps each
// (lower-case) tag name to the field name (CLEF language prefixes).
func parseTRECTopics(path, data string, want []string, mapName func(name string, line int) (string, error)) ([]Topic, error) {
	set := topicSet{path: path}
	var newlines []int // offsets of '\n'
	for i := 0; i < len(data); i++ {
		if data[i] == '\n' {
			newlines = append(newlines, i)
		}
	}
	lineAt := func(off int) int { return 1 + sort.SearchInts(newlines, off) }

	var (
		inTop   bool
		topLine int
		fields  map[string]*trecField
		cur     string // field receiving text, "" between fields
	)
	appendText := func(text string, off int) error {
		if strings.TrimSpace(text) == "" {
			return nil
		}
		switch {
		case !inTop:
			return inputerr.At(path, lineAt(off+len(text)-len(strings.TrimLeft(text, " \t\r\n"))), "text outside <top>...</top>")
		case cur == "":
			return inputerr.At(path, lineAt(off+len(text)-len(strings.TrimLeft(text, " \t\r\n"))), "text outside a topic field")
		}
		fields[cur].text += " " + text
		return nil
	}
	finish := func() error {
		numF, ok := fields["num"]
		if !ok {
			return inputerr.At(path, topLine, "topic without <num>")
		}
		qid := collapseSpace(fieldLabels["num"].ReplaceAllString(numF.text, ""))
		var parts []string
		for _, name := range want {
			f, ok := fields[name]
			if !ok {
				return inputerr.At(path, topLine, "topic %q has no <%s> field", qid, name)
			}
			text := f.text
			if re := fieldLabels[name]; re != nil {
				text = re.ReplaceAllString(text, "")
			}
			if text = collapseSpace(text); text != "" {
				parts = append(parts, text)
			}
		}
		return set.add(numF.line, qid, strings.Join(parts, " "))
	}

	pos := 0
	for _, m := range tagToken.FindAllStringSubmatchIndex(data, -1) {
		if err := appendText(data[pos:m[0]], pos); err != nil {
			return nil, err
		}
		pos = m[1]
		closing := m[3] > m[2]
		name := strings.ToLower(data[m[4]:m[5]])
		line := lineAt(m[0])
		if mapName != nil {
			var err error
			if name, err = mapName(name, line); err != nil {
				return nil, err
			}
		}
		switch {
		case name == "top" && !closing:
			if inTop {
				return nil, inputerr.At(path, line, "<top> inside another topic (missing </top> for the topic at line %d)", topLine)
			}
			inTop, topLine, fields, cur = true, line, map[string]*trecField{}, ""
		case name == "top":
			if !inTop {
				return nil, inputerr.At(path, line, "</top> without <top>")
			}
			if err := finish(); err != nil {
				return nil, err
			}
			inTop, cur = false, ""
		case !inTop:
			return nil, inputerr.At(path, line, "<%s%s> outside <top>...</top>", data[m[2]:m[3]], name)
		case closing:
			if name != cur {
				return nil, inputerr.At(path, line, "</%s> does not close the current field", name)
			}
			cur = ""
		default:
			if _, dup := fields[name]; dup {
				return nil, inputerr.At(path, line, "field <%s> repeated in the topic at line %d", name, topLine)
			}
			fields[name] = &trecField{line: line}
			cur = name
		}
	}
	if err := appendText(data[pos:], pos); err != nil {
		return nil, err
	}
	if inTop {
		return nil, inputerr.At(path, topLine, "topic not closed by </top>")
	}
	return set.topics, nil
}

func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
