package trec

import (
	"bufio"
	"bytes"
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
func controlIn(id string) (rune, bool) {
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c == 0x7f {
			return rune(c), true
		}
	}
	return 0, false
}

// eachLine calls fn with the fields of every line that is neither blank nor a
// '#' comment, with its 1-based line number. Lines may be arbitrarily long.
func eachLine(r io.Reader, name string, fn func(line int, fields []string) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	for n := 1; ; n++ {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			f := bytes.FieldsFunc(b, isSpace)
			if len(f) > 0 && f[0][0] != '#' {
				fields := make([]string, len(f))
				for i, x := range f {
					fields[i] = string(x)
				}
				if ferr := fn(n, fields); ferr != nil {
					return ferr
				}
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
