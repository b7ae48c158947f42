package bm25

import (
	"encoding/binary"
	"errors"
)

// slicePool holds the postings of all terms while an index is built, as
// Lucene's ByteBlockPool does: each term writes into a chain of slices of
// growing size carved from 64 KiB blocks. A slice ends with a non-zero
// level byte (the rest of a new slice is zero); when a write reaches it,
// the next slice is allocated, the slice's last 3 data bytes move to the
// start of the next one and its last 4 bytes become the address of the
// next. No memory is copied as postings grow, and none is wasted but the
// unused end of each term's last slice.
type slicePool struct {
	blocks [][]byte
	used   int // bytes used in the last block
}

const (
	blockBits = 16
	blockSize = 1 << blockBits
	// An address is block<<blockBits | offset: 4 GiB at most.
	maxBlocks = 1 << (32 - blockBits)
)

var (
	levelSize = [...]int{5, 14, 20, 30, 40, 40, 80, 80, 120, 200}
	nextLevel = [...]uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 9}
)

var errPoolFull = errors.New("bm25: index too large (more than 4 GiB of postings)")

// newSlice allocates a slice of the given level and returns its address,
// 0 and false if the pool is full.
func (p *slicePool) newSlice(level uint8) (uint32, bool) {
	size := levelSize[level]
	if len(p.blocks) == 0 || p.used+size > blockSize {
		if len(p.blocks) == maxBlocks {
			return 0, false
		}
		p.blocks = append(p.blocks, make([]byte, blockSize))
		p.used = 0
	}
	b := len(p.blocks) - 1
	addr := uint32(b)<<blockBits | uint32(p.used)
	p.used += size
	p.blocks[b][p.used-1] = 16 | level
	return addr, true
}

func (p *slicePool) at(addr uint32) []byte {
	return p.blocks[addr>>blockBits][addr&(blockSize-1):]
}

// writeByte writes c at address *cur (in a term's last slice) and advances
// *cur, chaining a new slice when the end of this one is reached. It
// returns false if the pool is full.
func (p *slicePool) writeByte(cur *uint32, c byte) bool {
	s := p.at(*cur)
	if s[0] != 0 {
		// The end of the slice: s[0] is its level byte.
		next, ok := p.newSlice(nextLevel[s[0]&15])
		if !ok {
			return false
		}
		// The slice's last 3 data bytes, then the level byte, become the
		// address of the next slice; the 3 bytes start it. Slices are at
		// least 5 bytes and their 3 data bytes precede the level byte in
		// the same block.
		prev := p.blocks[*cur>>blockBits][(*cur&(blockSize-1))-3:]
		n := p.at(next)
		copy(n[:3], prev[:3])
		binary.LittleEndian.PutUint32(prev, next)
		*cur = next + 3
		s = n[3:]
	}
	s[0] = c
	*cur++
	return true
}

// put1 writes byte c at address *cur and advances *cur if that is free
// (not the level byte at the end of the slice), else returns false.
func (p *slicePool) put1(cur *uint32, c byte) bool {
	b := p.blocks[*cur>>blockBits]
	o := *cur & (blockSize - 1)
	if b[o] != 0 {
		return false
	}
	b[o] = c
	*cur++
	return true
}

// writeUvarint writes v as a uvarint.
func (p *slicePool) writeUvarint(cur *uint32, v uint64) bool {
	if v < 0x80 && p.put1(cur, byte(v)) {
		return true
	}
	for v >= 0x80 {
		if !p.writeByte(cur, byte(v)|0x80) {
			return false
		}
		v >>= 7
	}
	return p.writeByte(cur, byte(v))
}

// termLen is the number of bytes written from address head (the start of a
// term's first slice) to cur.
func (p *slicePool) termLen(head, cur uint32) int {
	n := 0
	for addr, level := head, uint8(0); ; level = nextLevel[level] {
		size := uint32(levelSize[level])
		if cur >= addr && cur-addr < size {
			// The last slice. (Slices do not cross blocks, so an address
			// in [addr, addr+size) is in this one.)
			return n + int(cur-addr)
		}
		n += int(size) - 4
		addr = binary.LittleEndian.Uint32(p.at(addr)[size-4:])
	}
}

// copyTerm copies the bytes written from head to cur to dst, which has
// termLen(head, cur) bytes.
func (p *slicePool) copyTerm(dst []byte, head, cur uint32) {
	for addr, level := head, uint8(0); ; level = nextLevel[level] {
		size := uint32(levelSize[level])
		if cur >= addr && cur-addr < size {
			copy(dst, p.at(addr)[:cur-addr])
			return
		}
		s := p.at(addr)[:size]
		dst = dst[copy(dst, s[:size-4]):]
		addr = binary.LittleEndian.Uint32(s[size-4:])
	}
}
