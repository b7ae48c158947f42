package dataset

import (
	"bufio"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// FormatCLEF is the corpus format of CLEF (and TREC) ad-hoc collections: SGML
// files of <DOC> ... </DOC> records.
const FormatCLEF = "clef"

// defaultCLEFTextFields are the SGML fields whose text makes up a CLEF document
// when CorpusOptions.TextFields is empty (minus any TitleFields).
var defaultCLEFTextFields = []string{"TEXT", "TI", "TITLE", "HEADLINE", "LEAD", "LD", "TE", "TX", "HEAD", "BODY"}

// DefaultCLEFTextFields returns the SGML fields used for the text of CLEF
// documents when CorpusOptions.TextFields is empty: every one of TEXT, TI, TITLE,
// HEADLINE, LEAD, LD, TE, TX, HEAD and BODY that the record has, in record
// order, except those listed in TitleFields. This covers the CLEF 2003
// collections, whose fields differ: Frankfurter Rundschau TITLE, TEXT; SDA and
// AGZ TI, LD, TX; Der Spiegel TITLE, LEAD, TEXT; Aamulehti TI, TE; La Stampa
// TITLE, TEXT; Izvestia TITLE, TEXT; LA Times HEADLINE, TEXT (plus BYLINE,
// GRAPHIC, which are not included); Glasgow Herald HEADLINE, TEXT.
func DefaultCLEFTextFields() []string {
	return append([]string(nil), defaultCLEFTextFields...)
}

// sgml field roles
const (
	roleDocNo = 1 << iota
	roleDocID
	roleText
	roleTitle
)

type sgmlConfig struct {
	latin1     bool
	roles      map[string]int // upper-case tag name -> roles
	textNames  []string
	titleNames []string
}

func newSGMLConfig(path string, opts CorpusOptions, enc string) (*sgmlConfig, error) {
	cfg := &sgmlConfig{latin1: enc == EncodingLatin1, roles: map[string]int{"DOCNO": roleDocNo, "DOCID": roleDocID}}
	norm := func(kind string, names []string) ([]string, error) {
		var out []string
		for _, n := range names {
			n = strings.TrimSpace(n)
			if !tagName.MatchString(n) {
				return nil, inputerr.At(path, 0, "invalid %s field name %q", kind, n)
			}
			out = append(out, strings.ToUpper(n))
		}
		return out, nil
	}
	var err error
	if cfg.titleNames, err = norm("title", opts.TitleFields); err != nil {
		return nil, err
	}
	for _, n := range cfg.titleNames {
		cfg.roles[n] |= roleTitle
	}
	if len(opts.TextFields) == 0 {
		for _, n := range defaultCLEFTextFields {
			if cfg.roles[n]&roleTitle == 0 {
				cfg.textNames = append(cfg.textNames, n)
			}
		}
	} else if cfg.textNames, err = norm("text", opts.TextFields); err != nil {
		return nil, err
	}
	for _, n := range cfg.textNames {
		cfg.roles[n] |= roleText
	}
	return cfg, nil
}

// docTag kinds
const (
	tagNone = iota
	tagOpen
	tagClose
)

// nextDocTag finds the next <DOC> (attributes allowed) or </DOC> tag, in any
// letter case, in s from pos. It returns the tag's start and end offsets.
func nextDocTag(s string, pos int) (start, end, kind int) {
	for pos < len(s) {
		i := strings.IndexByte(s[pos:], '<')
		if i < 0 {
			break
		}
		i += pos
		pos = i + 1
		rest := s[i:]
		switch {
		case len(rest) >= 5 && strings.EqualFold(rest[:4], "<doc") && (rest[4] == '>' || isSpaceByte(rest[4])):
			gt := strings.IndexAny(rest[4:], "<>")
			if gt >= 0 && rest[4+gt] == '>' {
				return i, i + 4 + gt + 1, tagOpen
			}
		case len(rest) >= 6 && strings.EqualFold(rest[:5], "</doc"):
			k := 5
			for k < len(rest) && isSpaceByte(rest[k]) {
				k++
			}
			if k < len(rest) && rest[k] == '>' {
				return i, i + k + 1, tagClose
			}
		}
	}
	return -1, -1, tagNone
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// readSGMLFile streams the <DOC> records of one file, a line at a time and a
// record at a time, to c.
func (c *corpusReader) readSGMLFile(fileIdx int, r *bufio.Reader, gz bool, cfg *sgmlConfig) error {
	path := c.files[fileIdx]
	var (
		off      int64 // offset of the next line
		lineNo   int
		buf      []byte
		inDoc    bool
		docLine  int
		body     strings.Builder
		docs     int
		withText int
		strayTxt bool
		tagsSeen = map[string]bool{}
	)
	gzNote, notGz := "", ""
	if gz {
		gzNote = " (offset in the decompressed data)"
	} else if strings.HasSuffix(strings.ToLower(path), ".gz") {
		// Gzip is recognised by content; a .gz name on other data is a
		// damaged or mislabelled download, whatever the encoding.
		notGz = " (the file is named .gz but is not gzip data)"
		gzNote = notGz
	}
	emit := func() error {
		docs++
		doc, idLine, err := cfg.parseRecord(path, docLine, body.String(), tagsSeen)
		if err != nil {
			return err
		}
		if doc.Text != "" || doc.Title != "" {
			withText++
		}
		return c.add(fileIdx, idLine, doc)
	}
	for {
		buf = buf[:0]
		eof := false
		for {
			chunk, err := r.ReadSlice('\n')
			if len(buf)+len(chunk) > MaxLineBytes {
				return inputerr.At(path, lineNo+1, "line longer than %d bytes", MaxLineBytes)
			}
			buf = append(buf, chunk...)
			if err == nil {
				break
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			if gz {
				return inputerr.At(path, lineNo+1, "read error in the gzip data (truncated or damaged file): %v", err)
			}
			return inputerr.At(path, lineNo+1, "read error: %v", err)
		}
		if len(buf) == 0 && eof {
			break
		}
		lineNo++
		lineOff := off
		off += int64(len(buf))
		raw := buf
		var s string
		if cfg.latin1 {
			s = decodeLatin1(raw)
		} else {
			if lineNo == 1 && len(raw) >= 3 && string(raw[:3]) == "\xef\xbb\xbf" {
				raw, lineOff = raw[3:], lineOff+3
			}
			if !utf8.Valid(raw) {
				return inputerr.AtOffset(path, lineOff+int64(invalidUTF8At(raw)),
					"invalid UTF-8%s (line %d); the corpus is read as UTF-8: set the encoding to iso-8859-1 for a Latin-1 collection", gzNote, lineNo)
			}
			s = string(raw)
		}
		for pos := 0; pos < len(s); {
			start, end, kind := nextDocTag(s, pos)
			if !inDoc {
				if kind == tagNone {
					strayTxt = strayTxt || strings.TrimSpace(s[pos:]) != ""
					break
				}
				strayTxt = strayTxt || strings.TrimSpace(s[pos:start]) != ""
				if kind == tagClose {
					return inputerr.At(path, lineNo, "</DOC> without <DOC>")
				}
				inDoc, docLine, pos = true, lineNo, end
				body.Reset()
				continue
			}
			if kind == tagNone {
				body.WriteString(s[pos:])
				break
			}
			if kind == tagOpen {
				return inputerr.At(path, docLine, "<DOC> not closed by </DOC> (another <DOC> starts at line %d)", lineNo)
			}
			body.WriteString(s[pos:start])
			inDoc, pos = false, end
			if err := emit(); err != nil {
				return err
			}
		}
		if inDoc && body.Len() > MaxLineBytes {
			return inputerr.At(path, docLine, "<DOC> record longer than %d bytes", MaxLineBytes)
		}
		if eof {
			break
		}
	}
	if inDoc {
		return inputerr.At(path, docLine, "<DOC> not closed by </DOC> before the end of the file")
	}
	if docs == 0 && strayTxt {
		return inputerr.At(path, 0, "no <DOC> records%s (is this an SGML corpus file?)", notGz)
	}
	if docs > 0 && withText == 0 {
		return inputerr.At(path, 0, "none of the %d documents has text in the fields %s (fields found: %s); set the text fields for this collection",
			docs, strings.Join(append(append([]string(nil), cfg.titleNames...), cfg.textNames...), ", "), sortedKeys(tagsSeen))
	}
	return nil
}

func sortedKeys(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// sgml tokens
type sgmlToken struct {
	kind       int // tagNone (text), tagOpen, tagClose
	name       string
	start, end int
}

// tokenizeSGML splits s into text and tags. Comments (<!-- -->), declarations
// (<!...>) and processing instructions (<?...>) are dropped. A '<' that does not
// start a well-formed tag is text.
func tokenizeSGML(s string) []sgmlToken {
	var toks []sgmlToken
	textStart := 0
	flush := func(to int) {
		if to > textStart {
			toks = append(toks, sgmlToken{kind: tagNone, start: textStart, end: to})
		}
	}
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		i += j
		rest := s[i:]
		if strings.HasPrefix(rest, "<!--") {
			flush(i)
			if e := strings.Index(rest[4:], "-->"); e >= 0 {
				i += 4 + e + 3
			} else {
				i = len(s)
			}
			textStart = i
			continue
		}
		if len(rest) > 1 && (rest[1] == '!' || rest[1] == '?') {
			if e := strings.IndexAny(rest[1:], "<>"); e >= 0 && rest[1+e] == '>' {
				flush(i)
				i += 1 + e + 1
				textStart = i
				continue
			}
			i++
			continue
		}
		k := 1
		kind := tagOpen
		if k < len(rest) && rest[k] == '/' {
			kind, k = tagClose, k+1
		}
		if k >= len(rest) || !isASCIILetter(rest[k]) {
			i++
			continue
		}
		nameStart := k
		for k < len(rest) && isNameByte(rest[k]) {
			k++
		}
		if k >= len(rest) || !(rest[k] == '>' || rest[k] == '/' || isSpaceByte(rest[k])) {
			i++
			continue
		}
		gt := strings.IndexAny(rest[k:], "<>")
		if gt < 0 || rest[k+gt] != '>' {
			i++
			continue
		}
		flush(i)
		end := i + k + gt + 1
		toks = append(toks, sgmlToken{kind: kind, name: strings.ToUpper(rest[nameStart:k]), start: i, end: end})
		i, textStart = end, end
	}
	flush(len(s))
	return toks
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isNameByte(c byte) bool {
	return isASCIILetter(c) || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c == ':'
}

// parseRecord turns the body of one <DOC> record (docLine: the line of <DOC>)
// into a document. Fields are found at any depth, but a field's content is taken
// whole: fields inside it are not fields of their own. Nested tags are stripped,
// entities decoded and whitespace collapsed. A field without its closing tag
// extends to the next tag. It returns the line of the id.
func (cfg *sgmlConfig) parseRecord(path string, docLine int, body string, tagsSeen map[string]bool) (Document, int, error) {
	toks := tokenizeSGML(body)
	match := make([]int, len(toks))
	stacks := map[string][]int{}
	for i, t := range toks {
		match[i] = -1
		switch t.kind {
		case tagOpen:
			stacks[t.name] = append(stacks[t.name], i)
		case tagClose:
			if st := stacks[t.name]; len(st) > 0 {
				match[st[len(st)-1]] = i
				stacks[t.name] = st[:len(st)-1]
			}
		}
	}
	var (
		ids          [2][]sgmlToken // DOCNO, DOCID tags
		idText       [2][]string
		title, text  []string
		sb           strings.Builder
		lineOfOffset = func(off int) int { return docLine + strings.Count(body[:off], "\n") }
	)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind != tagOpen {
			continue
		}
		if len(tagsSeen) < 100 {
			tagsSeen[t.name] = true
		}
		roles := cfg.roles[t.name]
		if roles == 0 {
			continue
		}
		end := match[i]
		next := end // index of the last token consumed
		if end < 0 {
			end = i + 1
			for end < len(toks) && toks[end].kind == tagNone {
				end++
			}
			next = end - 1
		}
		sb.Reset()
		for _, u := range toks[i+1 : end] {
			sb.WriteByte(' ') // markup separates words
			if u.kind == tagNone {
				sb.WriteString(decodeEntities(body[u.start:u.end]))
			}
		}
		content := collapseSpace(sb.String())
		i = next
		for k, role := range []int{roleDocNo, roleDocID} {
			if roles&role != 0 {
				ids[k] = append(ids[k], t)
				idText[k] = append(idText[k], content)
			}
		}
		if roles&roleTitle != 0 && content != "" {
			title = append(title, content)
		}
		if roles&roleText != 0 && content != "" {
			text = append(text, content)
		}
	}
	k := 0
	if len(ids[0]) == 0 {
		k = 1
	}
	name := [2]string{"DOCNO", "DOCID"}[k]
	switch {
	case len(ids[k]) == 0:
		return Document{}, 0, inputerr.At(path, docLine, "<DOC> record without <DOCNO> or <DOCID>")
	case len(ids[k]) > 1:
		return Document{}, 0, inputerr.At(path, lineOfOffset(ids[k][1].start), "several <%s> in the <DOC> record at line %d", name, docLine)
	}
	idLine := lineOfOffset(ids[k][0].start)
	id := idText[k][0]
	if id == "" {
		return Document{}, 0, inputerr.At(path, idLine, "empty <%s>", name)
	}
	if r, bad := badIDRune(id); bad {
		return Document{}, 0, inputerr.At(path, idLine, "document id %q contains %U (ids must not contain whitespace or control characters)", id, r)
	}
	return Document{ID: id, Title: strings.Join(title, " "), Text: strings.Join(text, " ")}, idLine, nil
}

// decodeEntities decodes &amp; &lt; &gt; &quot; &apos; and numeric character
// references (&#228; &#xE4;). Other entities, and references to invalid code
// points, are left as they are.
func decodeEntities(s string) string {
	if strings.IndexByte(s, '&') < 0 {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			sb.WriteString(s)
			return sb.String()
		}
		sb.WriteString(s[:i])
		s = s[i:]
		semi := strings.IndexByte(s, ';')
		if semi < 0 || semi > 12 {
			sb.WriteByte('&')
			s = s[1:]
			continue
		}
		name := s[1:semi]
		var rep string
		switch name {
		case "amp":
			rep = "&"
		case "lt":
			rep = "<"
		case "gt":
			rep = ">"
		case "quot":
			rep = `"`
		case "apos":
			rep = "'"
		default:
			if len(name) > 1 && name[0] == '#' {
				var v uint64
				var err error
				if name[1] == 'x' || name[1] == 'X' {
					v, err = strconv.ParseUint(name[2:], 16, 32)
				} else {
					v, err = strconv.ParseUint(name[1:], 10, 32)
				}
				if err == nil && v > 0 && v <= utf8.MaxRune && utf8.ValidRune(rune(v)) {
					rep = string(rune(v))
				}
			}
		}
		if rep == "" {
			sb.WriteByte('&')
			s = s[1:]
			continue
		}
		sb.WriteString(rep)
		s = s[semi+1:]
	}
}
