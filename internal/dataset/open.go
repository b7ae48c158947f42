// Package dataset reads retrieval collections: corpora as JSON lines (Pyserini,
// BEIR, CIRAL or our own shape) or CLEF/TREC-style SGML (<DOC> records), and
// topics (TSV, classic TREC or CLEF SGML-ish files). Every problem with the input
// is reported as an *inputerr.Error naming the file and the 1-based line (or the
// byte offset, for invalid UTF-8 in SGML corpora); no input makes these readers
// panic.
package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// MaxLineBytes is the longest line the readers accept (a corpus line holds a whole
// document). Longer lines are reported as input errors rather than read into memory.
const MaxLineBytes = 256 << 20

// openInput opens path for reading, transparently decompressing gzip. Gzip is
// recognised by its magic bytes, not by the file name, so a plain file named .gz
// or a compressed file without the suffix are both read correctly.
func openInput(path string) (io.Reader, func() error, error) {
	r, closeFn, _, err := openInputGz(path)
	return r, closeFn, err
}

// openInputGz is openInput that also reports whether the file is gzip-compressed
// (byte offsets in error messages then count decompressed bytes). The reader is
// always a *bufio.Reader.
func openInputGz(path string) (*bufio.Reader, func() error, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, false, inputerr.At(path, 0, "cannot open: %v", err)
	}
	br := bufio.NewReaderSize(f, 1<<20)
	magic, _ := br.Peek(2)
	if bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, false, inputerr.AtOffset(path, 0, "bad gzip header: %v", err)
		}
		return bufio.NewReaderSize(zr, 1<<20), func() error { zr.Close(); return f.Close() }, true, nil
	}
	return br, f.Close, false, nil
}

// lineReader yields lines (without the trailing "\n" or "\r\n") of any length up
// to MaxLineBytes, counting them from 1.
type lineReader struct {
	r    *bufio.Reader
	path string
	line int // number of the line last returned
	buf  []byte
}

func newLineReader(r io.Reader, path string) *lineReader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 1<<20)
	}
	return &lineReader{r: br, path: path}
}

// next returns the next line; ok is false at the end of the input. The returned
// slice is only valid until the next call.
func (lr *lineReader) next() (line []byte, ok bool, err error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if len(lr.buf)+len(chunk) > MaxLineBytes {
			return nil, false, inputerr.At(lr.path, lr.line+1, "line longer than %d bytes", MaxLineBytes)
		}
		lr.buf = append(lr.buf, chunk...)
		switch {
		case err == nil:
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(lr.buf) == 0 {
				return nil, false, nil
			}
		default:
			return nil, false, inputerr.At(lr.path, lr.line+1, "read error: %v", err)
		}
		lr.line++
		b := lr.buf
		b = bytes.TrimSuffix(b, []byte{'\n'})
		b = bytes.TrimSuffix(b, []byte{'\r'})
		if lr.line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
		}
		return b, true, nil
	}
}
