package trec

import (
	"bufio"
	"errors"
	"io"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// isSpace matches C's isspace in the "C" locale, which is what trec_eval splits
// on. Unicode spaces are deliberately not separators: document ids are bytes.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// controlIn returns the first control character of an id (after splitting on
// whitespace, what is left: NUL, other C0 controls, DEL). trec_eval reads ids
// as C strings, so "d\x00x" would silently be "d"; clirflow refuses them, like
// corpora do, rather than carry an id that matches no document.
func controlIn[T string | []byte](id T) (rune, bool) {
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c == 0x7f {
			return rune(c), true
		}
	}
	return 0, false
}

// eachLine calls fn with the fields of every line that is neither blank nor a
// '#' comment, with its 1-based line number. Lines may be arbitrarily long.
// The slice is reused from line to line; its strings may be kept.
func eachLine(r io.Reader, name string, fn func(line int, fields []string) error) error {
	var fields []string
	return eachFields(r, name, func(line int, f [][]byte) error {
		fields = fields[:0]
		for _, x := range f {
			fields = append(fields, string(x))
		}
		return fn(line, fields)
	})
}

// eachFields is eachLine without a string per field: the fields alias a
// buffer that the next line overwrites, so fn copies what it keeps (ParseRun
// makes one string per line instead of six: 2.3 times faster).
func eachFields(r io.Reader, name string, fn func(line int, fields [][]byte) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var long []byte
	fields := make([][]byte, 0, 8)
	for n := 1; ; n++ {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], b...)
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = br.ReadSlice('\n')
				long = append(long, b...)
			}
			b = long
		}
		fields = splitFields(fields[:0], b)
		if len(fields) > 0 && fields[0][0] != '#' {
			if ferr := fn(n, fields); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return inputerr.At(name, n, "read: %v", err)
		}
	}
}

// splitFields appends the fields of b separated by isSpace bytes (the
// separators are ASCII, so splitting bytes is splitting runes).
func splitFields(dst [][]byte, b []byte) [][]byte {
	start := -1
	for i, c := range b {
		if isSpace(rune(c)) {
			if start >= 0 {
				dst = append(dst, b[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, b[start:])
	}
	return dst
}
