// Package ddtp builds a small cross-language retrieval collection from the package
// descriptions that Debian's Description Translation Project (DDTP) publishes as
// dists/<suite>/<component>/i18n/Translation-<lang> files (apt keeps them as
// *_i18n_Translation-<lang>.lz4, .xz, .gz or .bz2 in /var/lib/apt/lists).
//
// The collection for a language X (see Build): documents are the long
// descriptions in X, queries are English short descriptions, and a document is
// relevant to a query when its package has the same English long description as
// the query's package.
package ddtp

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// Compression formats recognised by Open.
const (
	Plain = "plain"
	Gzip  = "gzip"
	XZ    = "xz"
	LZ4   = "lz4"
	Bzip2 = "bzip2"
)

// Detect names the compression of a stream from its first bytes (magic numbers;
// the file name is not consulted).
func Detect(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return Gzip
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return XZ
	case bytes.HasPrefix(head, []byte{0x04, 0x22, 0x4d, 0x18}), // LZ4 frame
		bytes.HasPrefix(head, []byte{0x02, 0x21, 0x4c, 0x18}): // legacy LZ4 frame
		return LZ4
	case bytes.HasPrefix(head, []byte("BZh")) && len(head) >= 4 && head[3] >= '1' && head[3] <= '9':
		return Bzip2
	}
	return Plain
}

// Open opens a Translation file, decompressing lz4, xz, gzip or bzip2 as found by
// the file's magic bytes; anything else is read as plain text. The result streams.
func Open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, inputerr.At(path, 0, "cannot open: %v", err)
	}
	rc, err := NewReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return readCloser{rc, f}, nil
}

type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }

// NewReader wraps r with the decompressor its magic bytes call for; name is used
// in error messages. Decompression errors while reading are reported by
// ReadTranslation as input errors.
func NewReader(r io.Reader, name string) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(6)
	switch Detect(head) {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, inputerr.AtOffset(name, 0, "bad gzip header: %v", err)
		}
		return zr, nil
	case XZ:
		zr, err := xz.NewReader(br)
		if err != nil {
			return nil, inputerr.AtOffset(name, 0, "bad xz header: %v", err)
		}
		return zr, nil
	case LZ4:
		return lz4.NewReader(br), nil
	case Bzip2:
		return bzip2.NewReader(br), nil
	}
	return br, nil
}

// Stanza is one package entry of a Translation file.
type Stanza struct {
	Package string
	MD5     string   // Description-md5: md5 of the English description it translates
	Lang    string   // xx of the Description-xx field
	Short   string   // first line of the description (trimmed)
	Long    []string // continuation lines, each without its leading space
	File    string   // name of the file it was read from (for error messages)
	Line    int      // line of the stanza's first field
}

// LongText renders the long description as plain text: lines of a paragraph are
// joined by a space, a " ." line becomes a paragraph break ("\n"), and verbatim
// lines (indented by more than one space) keep their own line. Returns "" when
// the long description is empty.
func (s Stanza) LongText() string {
	var out strings.Builder
	var para []string
	flush := func() {
		if len(para) == 0 {
			return
		}
		if out.Len() > 0 {
			out.WriteByte('\n')
		}
		out.WriteString(strings.Join(para, " "))
		para = para[:0]
	}
	for _, l := range s.Long {
		switch {
		case strings.TrimSpace(l) == ".":
			flush()
		case strings.TrimSpace(l) == "":
		case strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t"):
			flush()
			para = append(para, strings.TrimSpace(l))
			flush()
		default:
			para = append(para, strings.TrimSpace(l))
		}
	}
	flush()
	return out.String()
}

// Normalize folds a description for comparison: whitespace collapsed (paragraph
// breaks included) and lower case.
func Normalize(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// maxLine bounds one line of a Translation file.
const maxLine = 1 << 20

// ReadTranslation parses a (decompressed) Translation stream and hands the stanzas
// to fn in file order. name is used in errors (*inputerr.Error with the line).
// Fields other than Package, Description-md5 and Description-xx are ignored.
func ReadTranslation(r io.Reader, name string, fn func(Stanza) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var (
		cur    *Stanza
		inDesc bool
		lineNo int
		fields map[string]int
	)
	end := func() error {
		if cur == nil {
			return nil
		}
		st := *cur
		cur, inDesc = nil, false
		switch {
		case st.Package == "":
			return inputerr.At(name, st.Line, "stanza without Package field")
		case st.Lang == "":
			return inputerr.At(name, st.Line, "package %s: no Description-xx field", st.Package)
		}
		return fn(st)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return inputerr.At(name, lineNo+1, "read error: %v", err)
		}
		if line == "" && err != nil {
			break
		}
		lineNo++
		if len(line) > maxLine {
			return inputerr.At(name, lineNo, "line longer than %d bytes", maxLine)
		}
		line = strings.TrimRight(line, "\r\n")
		if !utf8.ValidString(line) {
			return inputerr.At(name, lineNo, "invalid UTF-8")
		}
		switch {
		case strings.TrimSpace(line) == "":
			if err := end(); err != nil {
				return err
			}
		case line[0] == ' ' || line[0] == '\t':
			if cur == nil {
				return inputerr.At(name, lineNo, "continuation line outside a stanza")
			}
			if inDesc {
				cur.Long = append(cur.Long, line[1:])
			}
		default:
			key, value, ok := strings.Cut(line, ":")
			if !ok || key == "" || strings.ContainsAny(key, " \t") {
				return inputerr.At(name, lineNo, "malformed line: want \"Field: value\" or a continuation line")
			}
			if cur == nil {
				cur = &Stanza{File: name, Line: lineNo}
				fields = map[string]int{}
			}
			lower := strings.ToLower(key)
			if first, dup := fields[lower]; dup {
				return inputerr.At(name, lineNo, "field %s repeated in the stanza (first at line %d)", key, first)
			}
			fields[lower] = lineNo
			value = strings.TrimSpace(value)
			inDesc = false
			switch {
			case lower == "package":
				if value == "" || strings.ContainsAny(value, " \t") {
					return inputerr.At(name, lineNo, "bad package name %q", value)
				}
				cur.Package = value
			case lower == "description-md5":
				cur.MD5 = value
			case strings.HasPrefix(lower, "description-"):
				if cur.Lang != "" {
					return inputerr.At(name, lineNo, "second description field %s in the stanza", key)
				}
				cur.Lang = key[len("description-"):]
				cur.Short = value
				inDesc = true
			}
		}
		if err != nil {
			break
		}
	}
	return end()
}

// ReadFile reads all stanzas of a Translation file (compressed or not).
func ReadFile(path string) ([]Stanza, error) {
	rc, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var out []Stanza
	err = ReadTranslation(rc, path, func(s Stanza) error {
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, inputerr.At(path, 0, "no package stanzas")
	}
	return out, nil
}
