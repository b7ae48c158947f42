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
//
// The first slices of terms 0, 1, 2 … are allocated in that order (see
// newFirst), in blocks of their own: the address of a term's first slice
// follows from its number, and the builder does not store it.
type slicePool struct {
	mem     *mapper
	regions [][]byte // the memory of the blocks, regionBlocks blocks each
	blocks  [][]byte
	carve   int      // the block that later slices are carved from, -1 none
	used    int      // bytes used in it
	firsts  []uint32 // the blocks of first slices, firstsPerBlock terms each
}

const (
	blockBits = 16
	blockSize = 1 << blockBits
	// An address is block<<blockBits | offset: 4 GiB at most.
	maxBlocks = 1 << (32 - blockBits)
	// first slices (level 0) per block
	firstsPerBlock = blockSize / 5
	// blocks mapped at a time: a mapping each would be many for a large
	// index (the system limits them), and pages not written yet cost
	// nothing
	regionBlocks = 16
)

var (
	levelSize = [...]int{5, 14, 20, 30, 40, 40, 80, 80, 120, 200}
	nextLevel = [...]uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 9}
)

var errPoolFull = errors.New("bm25: index too large (more than 4 GiB of postings)")

// newSlicePool returns a pool whose blocks come from mem.
func newSlicePool(mem *mapper) slicePool { return slicePool{mem: mem, carve: -1} }

// newBlock adds a block and returns its number, false if the pool is full.
func (p *slicePool) newBlock() (int, bool) {
	if len(p.blocks) == maxBlocks {
		return 0, false
	}
	if len(p.blocks)%regionBlocks == 0 {
		p.regions = append(p.regions, makeMapped[byte](p.mem, regionBlocks*blockSize))
	}
	r, i := p.regions[len(p.regions)-1], len(p.blocks)%regionBlocks
	p.blocks = append(p.blocks, r[i*blockSize:(i+1)*blockSize:(i+1)*blockSize])
	return len(p.blocks) - 1, true
}

// release frees the pool's memory: the pool must not be used afterwards.
func (p *slicePool) release() {
	for _, r := range p.regions {
		freeMapped(p.mem, r)
	}
	*p = slicePool{}
}

// newFirst allocates the first slice of term t, which must be the number
// of terms that have one, and returns its address, 0 and false if the pool
// is full.
func (p *slicePool) newFirst(t uint32) (uint32, bool) {
	if g := int(t / firstsPerBlock); g == len(p.firsts) {
		b, ok := p.newBlock()
		if !ok {
			return 0, false
		}
		p.firsts = append(p.firsts, uint32(b))
	}
	addr := p.head(t)
	p.at(addr)[levelSize[0]-1] = 16 // | level 0
	return addr, true
}

// head is the address of the first slice of term t.
func (p *slicePool) head(t uint32) uint32 {
	return p.firsts[t/firstsPerBlock]<<blockBits | t%firstsPerBlock*uint32(levelSize[0])
}

// newSlice allocates a slice of the given level (above 0) and returns its
// address, 0 and false if the pool is full.
func (p *slicePool) newSlice(level uint8) (uint32, bool) {
	size := levelSize[level]
	if p.carve < 0 || p.used+size > blockSize {
		b, ok := p.newBlock()
		if !ok {
			return 0, false
		}
		p.carve, p.used = b, 0
	}
	addr := uint32(p.carve)<<blockBits | uint32(p.used)
	p.used += size
	p.blocks[p.carve][p.used-1] = 16 | level
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
