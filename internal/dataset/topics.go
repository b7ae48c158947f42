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
	TopicsAuto = "auto" // trec when the first non-blank character is '<', else tsv
)

// maxTopicsBytes bounds how much of a TREC topic file is read into memory.
const maxTopicsBytes = 256 << 20

// ReadTopics reads a topic file in file order. format is "tsv", "trec" or "auto"
// ("" means auto). For TREC files the query is the text of the requested fields
// (tag names such as "title", "desc", "narr"; default ["title"]) joined by a
// space, with whitespace collapsed and the conventional labels ("Number:",
// "Topic:", "Description:", "Narrative:") removed; fields are ignored for TSV.
// Both classic unclosed tags and <tag>...</tag> are accepted. Gzip-compressed
// files are read transparently.
//
// Errors (*inputerr.Error, file:line): malformed lines or markup, empty or
// duplicate qids, qids with whitespace or control characters, a requested field
// missing from a topic, empty query text, invalid UTF-8, and a file without topics.
func ReadTopics(path, format string, fields []string) ([]Topic, error) {
	switch format {
	case TopicsTSV, TopicsTREC, TopicsAuto, "":
	default:
		return nil, inputerr.At(path, 0, "unknown topics format %q (want tsv, trec or auto)", format)
	}
	if len(fields) == 0 {
		fields = []string{"title"}
	}
	for _, f := range fields {
		if !tagName.MatchString(f) {
			return nil, inputerr.At(path, 0, "invalid topic field name %q", f)
		}
	}
	r, closeFn, err := openInput(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	data, err := io.ReadAll(io.LimitReader(r, maxTopicsBytes+1))
	if err != nil {
		return nil, inputerr.At(path, 0, "read error: %v", err)
	}
	if len(data) > maxTopicsBytes {
		return nil, inputerr.At(path, 0, "topic file larger than %d bytes", maxTopicsBytes)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		off := invalidUTF8At(data)
		return nil, inputerr.At(path, 1+bytes.Count(data[:off], []byte{'\n'}), "invalid UTF-8")
	}
	if format == TopicsAuto || format == "" {
		format = TopicsTSV
		if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '<' {
			format = TopicsTREC
		}
	}
	var topics []Topic
	if format == TopicsTSV {
		topics, err = parseTSVTopics(path, string(data))
	} else {
		topics, err = parseTRECTopics(path, string(data), fields)
	}
	if err != nil {
		return nil, err
	}
	if len(topics) == 0 {
		return nil, inputerr.At(path, 0, "no topics")
	}
	return topics, nil
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

func parseTRECTopics(path, data string, want []string) ([]Topic, error) {
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
