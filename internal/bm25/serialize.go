package bm25

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"

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
	// The payload is decoded as it is read (the index is never held twice),
	// the checksum computed on the way and compared at the end; nothing is
	// read beyond the payload and its checksum.
	crc := crc32.New(crcTable)
	crc.Write(hdr)
	payload := bufio.NewReaderSize(io.TeeReader(io.LimitReader(r, int64(plen)), crc), 64<<10)
	ix, err := decodePayload(payload, plen)
	if err != nil {
		return nil, err
	}
	var trailer [4]byte
	if _, err := io.ReadFull(r, trailer[:]); err != nil {
		return nil, fmt.Errorf("%w: truncated (no checksum after the payload)", ErrCorrupt)
	}
	if crc.Sum32() != binary.LittleEndian.Uint32(trailer[:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
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

// decoder reads a payload whose length the header gives. Nothing is
// allocated for a count before the bytes it counts have been read, beyond
// capacity hints of decodeHint items and the postings' buffer (at most
// 4 MiB, from the header's length), so a damaged length or count cannot
// make a small input allocate much.
type decoder struct {
	r         *bufio.Reader
	remaining uint64 // bytes of the payload not read yet
	err       error
}

const (
	decodeChunk = 1 << 20 // bytes read at a time into one slice
	decodeHint  = 1 << 16 // items allocated before they are read
)

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, msg)
	}
}

// ReadByte reads within the payload (for binary.ReadUvarint).
func (d *decoder) ReadByte() (byte, error) {
	if d.remaining == 0 {
		return 0, io.EOF
	}
	c, err := d.r.ReadByte()
	if err != nil {
		d.fail("truncated payload")
		return 0, err
	}
	d.remaining--
	return c, nil
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d)
	if err != nil {
		d.fail("bad varint for " + what)
		return 0
	}
	return v
}

// count reads a count of items that each take at least minBytes bytes.
func (d *decoder) count(what string, minBytes int) int {
	v := d.uvarint(what)
	if d.err == nil && v > d.remaining/uint64(minBytes) {
		d.fail(what + " exceeds the data")
		return 0
	}
	return int(v)
}

// bytes reads the next n bytes into a new slice.
func (d *decoder) bytes(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if uint64(n) > d.remaining {
		d.fail(what + " exceeds the data")
		return nil
	}
	out := make([]byte, 0, min(n, decodeChunk))
	for len(out) < n {
		start := len(out)
		out = slices.Grow(out, min(n-start, decodeChunk))[:start+min(n-start, decodeChunk)]
		if _, err := io.ReadFull(d.r, out[start:]); err != nil {
			d.fail("truncated payload")
			return nil
		}
		d.remaining -= uint64(len(out) - start)
	}
	return out
}

func (d *decoder) string(what string) string {
	n := d.count(what, 1)
	return string(d.bytes(n, what))
}

func decodePayload(r *bufio.Reader, plen uint64) (*Index, error) {
	d := &decoder{r: r, remaining: plen}
	ix := &Index{}
	ix.lang = d.string("language")
	ix.anaVer = d.string("analyzer version")
	numDocs := d.count("document count", 2)
	if d.err == nil && (numDocs == 0 || numDocs >= math.MaxUint32) {
		d.fail("bad document count")
	}
	ids := newIDList(nil)
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
	ix.norms = d.bytes(numDocs, "norms")
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
	// The counts of documents (read) and terms (not yet) bound what is
	// allocated up front; the per-term arrays grow as terms are read.
	ix.terms = newTermDict(nil, min(nTerms, decodeHint))
	ix.df = make([]uint32, 0, min(nTerms, decodeHint))
	ix.postOff = make([]uint64, 1, min(nTerms, decodeHint)+1)
	// The postings take at most as many bytes in memory as in the rest of
	// the payload (see building).
	ix.post = make([]byte, 0, min(d.remaining, 4<<20)+1)
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
		ix.df = append(ix.df, uint32(df))
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
		ix.postOff = append(ix.postOff, uint64(len(ix.post)))
	}
	if d.remaining != 0 {
		d.fail("trailing data")
	}
	ix.post = append(ix.post, 0) // the byte after the postings (see Index)
	if d.err != nil {
		return nil, d.err
	}
	if cap(ix.post)-len(ix.post) > len(ix.post)/8 {
		// Sized for the serialized postings, which write every frequency:
		// an index is kept for long, so it keeps only what it uses.
		ix.post = slices.Clip(slices.Clone(ix.post))
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
