package bm25

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/clirflow/clirflow/internal/analysis"
)

// Serialized format (all integers little endian or unsigned LEB128 varints):
//
//	header   magic "CFBM25IX" | format version uint32 | payload length uint64
//	payload  language string | analyzer version string
//	         numDocs uvarint | numDocs × docID string | numDocs norm bytes
//	         docCount uvarint | sumTotalTermFreq uvarint
//	         numTerms uvarint | numTerms × (term string | df uvarint |
//	                                       df × (doc delta uvarint | freq uvarint))
//	trailer  CRC-32C (Castagnoli) of header and payload, uint32
//
// A string is its byte length as uvarint followed by its bytes. A posting's
// doc delta is its document number minus the previous posting's (the first
// posting stores its document number).

const (
	magic         = "CFBM25IX"
	formatVersion = 1
	headerLen     = len(magic) + 4 + 8
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by the errors Read returns for damaged input.
var ErrCorrupt = errors.New("bm25: corrupt index")

// WriteTo writes the index to w in the versioned binary format. The
// payload is encoded twice: once only to count its bytes, which the header
// gives, then to w through a small buffer, so that writing an index holds no
// copy of it in memory.
func (ix *Index) WriteTo(w io.Writer) (int64, error) {
	var size int64
	ix.encodePayload(&encoder{sink: func(p []byte) error { size += int64(len(p)); return nil }})
	hdr := make([]byte, 0, headerLen)
	hdr = append(hdr, magic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, formatVersion)
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(size))
	var n int64
	crc := uint32(0)
	write := func(p []byte) error {
		crc = crc32.Update(crc, crcTable, p)
		m, err := w.Write(p)
		n += int64(m)
		return err
	}
	if err := write(hdr); err != nil {
		return n, err
	}
	if err := ix.encodePayload(&encoder{sink: write}); err != nil {
		return n, err
	}
	if n != int64(headerLen)+size {
		return n, fmt.Errorf("bm25: index payload of %d bytes, %d announced", n-int64(headerLen), size)
	}
	m, err := w.Write(binary.LittleEndian.AppendUint32(nil, crc))
	return n + int64(m), err
}

// encoder hands the payload to sink in pieces of about encodeChunk bytes.
type encoder struct {
	buf  []byte
	sink func([]byte) error
	err  error
}

const encodeChunk = 64 << 10

func (e *encoder) flush() {
	if e.err == nil && len(e.buf) > 0 {
		e.err = e.sink(e.buf)
	}
	e.buf = e.buf[:0]
}

func (e *encoder) flushFull() {
	if len(e.buf) >= encodeChunk {
		e.flush()
	}
}

func (ix *Index) encodePayload(e *encoder) error {
	e.buf = make([]byte, 0, encodeChunk+1024)
	e.buf = appendString(e.buf, ix.lang)
	e.buf = appendString(e.buf, ix.anaVer)
	e.buf = binary.AppendUvarint(e.buf, uint64(ix.NumDocs()))
	for d := range uint32(ix.NumDocs()) {
		e.buf = appendString(e.buf, ix.docID(d))
		e.flushFull()
	}
	e.flush()
	if e.err == nil {
		e.err = e.sink(ix.norms)
	}
	e.buf = binary.AppendUvarint(e.buf, uint64(ix.docCount))
	e.buf = binary.AppendUvarint(e.buf, uint64(ix.sumTTF))
	e.buf = binary.AppendUvarint(e.buf, uint64(ix.terms.len()))
	for t := range uint32(ix.terms.len()) {
		if e.err != nil {
			return e.err
		}
		term := ix.terms.term(t)
		e.buf = binary.AppendUvarint(e.buf, uint64(len(term)))
		e.buf = append(e.buf, term...)
		e.buf = binary.AppendUvarint(e.buf, uint64(ix.df[t]))
		// In memory: uvarint(delta<<1 | 1) when freq is 1, else
		// uvarint(delta<<1) uvarint(freq) (see building).
		post := ix.post[ix.postOff[t]:ix.postOff[t+1]]
		for i := 0; i < len(post); {
			v, n := binary.Uvarint(post[i:])
			i += n
			freq := uint64(1)
			if v&1 == 0 {
				freq, n = binary.Uvarint(post[i:])
				i += n
			}
			e.buf = binary.AppendUvarint(e.buf, v>>1)
			e.buf = binary.AppendUvarint(e.buf, freq)
			e.flushFull()
		}
	}
	e.flush()
	return e.err
}

func appendString(p []byte, s string) []byte {
	p = binary.AppendUvarint(p, uint64(len(s)))
	return append(p, s...)
}

// Read reads an index written by WriteTo. The analyzer is obtained with
// analysis.ForLanguage for the stored language; an index built with another
// analyzer version is an error (it must be rebuilt). A truncated or damaged
// input is an error wrapping ErrCorrupt.
func Read(r io.Reader) (*Index, error) {
	hdr := make([]byte, headerLen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("%w: reading header: %v", ErrCorrupt, err)
	}
	if string(hdr[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint32(hdr[len(magic):]); v != formatVersion {
		return nil, fmt.Errorf("bm25: unsupported index format version %d (want %d)", v, formatVersion)
	}
	plen := binary.LittleEndian.Uint64(hdr[len(magic)+4:])
	if plen > math.MaxInt64-4 {
		return nil, fmt.Errorf("%w: bad payload length", ErrCorrupt)
	}
	// The buffer grows as data arrives, so a damaged length cannot
	// trigger a huge allocation for a small input.
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(r, int64(plen)+4)); err != nil {
		return nil, fmt.Errorf("bm25: reading index: %w", err)
	}
	data := buf.Bytes()
	if uint64(len(data)) != plen+4 {
		return nil, fmt.Errorf("%w: truncated (%d of %d bytes)", ErrCorrupt, len(data), plen+4)
	}
	payload, trailer := data[:plen], data[plen:]
	crc := crc32.Update(crc32.Checksum(hdr, crcTable), crcTable, payload)
	if crc != binary.LittleEndian.Uint32(trailer) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	ix, err := decodePayload(payload)
	if err != nil {
		return nil, err
	}
	a, err := analysis.ForLanguage(ix.lang)
	if err != nil {
		return nil, fmt.Errorf("bm25: index analyzer: %w", err)
	}
	if a.Version() != ix.anaVer {
		return nil, fmt.Errorf("bm25: index built with analyzer %q, current analyzer is %q: rebuild the index", ix.anaVer, a.Version())
	}
	ix.analyzer = a
	ix.init()
	return ix, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, msg)
	}
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint for " + what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a count of items that each take at least minBytes bytes.
func (d *decoder) count(what string, minBytes int) int {
	v := d.uvarint(what)
	if d.err == nil && v > uint64(len(d.b)/minBytes) {
		d.fail(what + " exceeds the data")
		return 0
	}
	return int(v)
}

func (d *decoder) bytes(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.fail(what + " exceeds the data")
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) string(what string) string {
	n := d.count(what, 1)
	return string(d.bytes(n, what))
}

func decodePayload(payload []byte) (*Index, error) {
	d := &decoder{b: payload}
	ix := &Index{}
	ix.lang = d.string("language")
	ix.anaVer = d.string("analyzer version")
	numDocs := d.count("document count", 2)
	if d.err == nil && (numDocs == 0 || numDocs >= math.MaxUint32) {
		d.fail("bad document count")
	}
	ids := newIDList()
	docs := make([]Doc, 1)
	for range numDocs {
		n := d.count("document id", 1)
		docs[0].ID = string(d.bytes(n, "document id"))
		if d.err != nil {
			return nil, d.err
		}
		if ids.add(docs) != nil {
			d.fail("empty or duplicate document id")
			return nil, d.err
		}
	}
	ix.ids, ix.idOff = string(ids.data), ids.off
	ix.norms = bytes.Clone(d.bytes(numDocs, "norms"))
	docCount := d.uvarint("docCount")
	sumTTF := d.uvarint("sumTotalTermFreq")
	if d.err == nil && (docCount > uint64(numDocs) || sumTTF > math.MaxInt64) {
		d.fail("bad collection statistics")
	}
	ix.docCount, ix.sumTTF = int(docCount), int64(sumTTF)
	nTerms := d.count("term count", 3)
	if d.err != nil {
		return nil, d.err
	}
	ix.terms = newTermDict(nTerms)
	ix.df = make([]uint32, nTerms)
	ix.postOff = make([]uint64, nTerms+1)
	// The postings take at most as many bytes in memory as in the rest of
	// the payload (see building).
	ix.post = make([]byte, 0, len(d.b)+1)
	docLen := make([]uint64, numDocs)
	var total uint64
	for t := 0; t < nTerms; t++ {
		term := d.string("term")
		h := ix.terms.hash(term)
		if _, dup := ix.terms.find(term, h); dup && d.err == nil {
			d.fail("duplicate term")
		}
		df := d.count("document frequency", 2)
		if d.err == nil && df == 0 {
			d.fail("term without postings")
		}
		if d.err != nil {
			return nil, d.err
		}
		ix.terms.add(term, h)
		ix.df[t] = uint32(df)
		prev := uint64(0)
		for i := 0; i < df; i++ {
			delta := d.uvarint("doc delta")
			freq := d.uvarint("freq")
			doc := prev + delta
			if d.err == nil && ((i > 0 && delta == 0) || delta >= uint64(numDocs) || doc >= uint64(numDocs) || freq == 0 || freq > math.MaxUint32) {
				d.fail("bad posting")
			}
			if d.err != nil {
				return nil, d.err
			}
			if freq == 1 {
				ix.post = binary.AppendUvarint(ix.post, delta<<1|1)
			} else {
				ix.post = binary.AppendUvarint(binary.AppendUvarint(ix.post, delta<<1), freq)
			}
			docLen[doc] += freq
			total += freq
			prev = doc
		}
		ix.postOff[t+1] = uint64(len(ix.post))
	}
	if len(d.b) != 0 {
		d.fail("trailing data")
	}
	ix.post = append(ix.post, 0) // the byte after the postings (see Index)
	if d.err != nil {
		return nil, d.err
	}
	// Collection statistics and norms must agree with the postings.
	withTok := 0
	for i, l := range docLen {
		if l > 0 {
			withTok++
		}
		if l > math.MaxInt32 || ix.norms[i] != intToByte4(int(l)) {
			return nil, fmt.Errorf("%w: norm of document %d disagrees with its postings", ErrCorrupt, i)
		}
	}
	if uint64(withTok) != docCount || total != sumTTF {
		return nil, fmt.Errorf("%w: collection statistics disagree with the postings", ErrCorrupt)
	}
	return ix, nil
}
