package bm25

import (
	"hash/maphash"
	"math"
	"math/bits"
)

// Open-addressing hash tables (linear probing) whose keys live in their
// slots or in a byte arena: far smaller than Go maps of strings, and without
// pointers for the garbage collector to follow. Offsets into the arenas are
// 32-bit: an index holds at most 4 GiB of distinct term text (and 2^31
// terms), a builder's shard of raw tokens 4 GiB of distinct tokens longer
// than 11 bytes; beyond that, adding panics.

// termDict is the terms of an index: term t is bytes[off[t]:off[t+1]], and
// slots map a term to its number. A slot is 4 bytes: the term number + 1
// (0 for free) in its low k bits, where the table has 2^k slots (it is at
// most 3/4 full), and high bits of the term's hash above, so that a lookup
// seldom compares the text of another term.
type termDict struct {
	seed  maphash.Seed
	mem   *mapper // of a builder's dictionary; nil for an index's
	slots []uint32
	bytes []byte
	off   []uint32 // len = number of terms + 1
}

// newTermDict returns an empty dictionary for capacity terms whose memory
// comes from mem.
func newTermDict(mem *mapper, capacity int) termDict {
	n := 64
	for n*3 < capacity*4 {
		n *= 2
	}
	return termDict{seed: maphash.MakeSeed(), mem: mem, slots: makeMapped[uint32](mem, n), off: makeMapped[uint32](mem, capacity+1)[:1]}
}

// onHeap returns the dictionary with its memory on the heap (for an
// index): d must not be used afterwards.
func (d *termDict) onHeap() termDict {
	t := *d
	t.slots, t.bytes, t.off = onHeap(d.mem, d.slots), onHeap(d.mem, d.bytes), onHeap(d.mem, d.off)
	t.mem = nil
	*d = termDict{}
	return t
}

// len is the number of terms.
func (d *termDict) len() int { return len(d.off) - 1 }

// term returns the text of term t, without copying it (the slice must not
// be modified).
func (d *termDict) term(t uint32) []byte { return d.bytes[d.off[t]:d.off[t+1]] }

// hash is the hash of s for find and add.
func (d *termDict) hash(s string) uint64 { return maphash.String(d.seed, s) }

// tag returns the mask of the term number in a slot and the hash bits a
// slot of a term with hash h has above it.
func (d *termDict) tag(h uint64) (mask, tag uint32) {
	mask = uint32(len(d.slots) - 1)
	return mask, uint32(h>>32) &^ mask
}

// find returns the number of term s, whose hash is h.
func (d *termDict) find(s string, h uint64) (uint32, bool) {
	mask, tag := d.tag(h)
	for i := uint32(h) & mask; ; i = (i + 1) & mask {
		v := d.slots[i]
		if v == 0 {
			return 0, false
		}
		if v&^mask == tag && string(d.term(v&mask-1)) == s {
			return v&mask - 1, true
		}
	}
}

// findOrAdd returns the number of term s, whose hash is h, adding it if
// it is new.
func (d *termDict) findOrAdd(s string, h uint64) uint32 {
	mask, tag := d.tag(h)
	i := uint32(h) & mask
	for ; d.slots[i] != 0; i = (i + 1) & mask {
		if v := d.slots[i]; v&^mask == tag && string(d.term(v&mask-1)) == s {
			return v&mask - 1
		}
	}
	if (d.len()+1)*4 > len(d.slots)*3 {
		return d.add(s, h) // grows
	}
	t := d.append(s)
	d.slots[i] = tag | (t + 1)
	return t
}

// append appends the text of a new term and returns its number.
func (d *termDict) append(s string) uint32 {
	t := uint32(d.len())
	if uint64(len(d.bytes))+uint64(len(s)) > maxArena || t >= missBit {
		panic("bm25: term dictionary full (4 GiB of text or 2^31 terms)")
	}
	d.bytes = append(growMapped(d.mem, d.bytes, len(s)), s...)
	d.off = append(growMapped(d.mem, d.off, 1), uint32(len(d.bytes)))
	return t
}

// add adds s, whose hash is h and which find does not have, and returns
// its number.
func (d *termDict) add(s string, h uint64) uint32 {
	if (d.len()+1)*4 > len(d.slots)*3 {
		d.grow()
	}
	t := d.append(s)
	d.place(t, h)
	return t
}

func (d *termDict) place(t uint32, h uint64) {
	mask, tag := d.tag(h)
	i := uint32(h) & mask
	for d.slots[i] != 0 {
		i = (i + 1) & mask
	}
	d.slots[i] = tag | (t + 1)
}

func (d *termDict) grow() {
	if len(d.slots) > math.MaxUint32/2 {
		panic("bm25: term dictionary full")
	}
	freeMapped(d.mem, d.slots)
	d.slots = makeMapped[uint32](d.mem, 2*len(d.slots))
	for t := range uint32(d.len()) {
		d.place(t, maphash.Bytes(d.seed, d.term(t)))
	}
}

const maxArena = 1<<32 - 1

// rawDict maps the raw tokens a builder has seen to their term numbers
// (noTerm for none). It has rawShards shards, chosen by the top bits of a
// key's hash, which may be added to in parallel. A slot is 16 bytes and
// holds a key of up to 11 bytes itself (most tokens): one cache line to
// look one up.
//
//	inline key k, n = len(k) <= 11: w0 = k[0:8] little endian, zero padded
//	                                 w1 = k[8:11] | (n+1)<<24 | id<<32
//	longer key, in the shard's long: w0 = offset | n<<32
//	                                 w1 = 24 bits of the hash | 0xFF<<24 | id<<32
//	free slot:                       w0 = w1 = 0
//
// A key's reference is its shard << refShardShift | its slot. Lookups may
// run concurrently with each other, not with insertions (but insertions
// into different shards may run concurrently).
type rawDict struct {
	s0, s1 uint64 // seeds of the hash of inline keys
	seed   maphash.Seed
	mem    *mapper // of the shards' slots and long keys
	shards [rawShards]rawShard
}

type rawShard struct {
	slots []rawSlot
	n     int
	long  []byte
	_     [64]byte // shards are written in parallel
}

type rawSlot struct{ w0, w1 uint64 }

const (
	maxInline     = 11
	longKey       = 0xFF << 24
	rawShardBits  = 3
	rawShards     = 1 << rawShardBits
	refShardShift = 32 - rawShardBits
)

func newRawDict(mem *mapper) rawDict {
	seed := maphash.MakeSeed()
	d := rawDict{
		s0:   maphash.String(seed, "s0"),
		s1:   maphash.String(seed, "s1"),
		seed: seed,
		mem:  mem,
	}
	for i := range d.shards {
		d.shards[i].slots = makeMapped[rawSlot](mem, 128)
	}
	return d
}

// release frees the dictionary's memory: it must not be used afterwards.
func (d *rawDict) release() {
	for i := range d.shards {
		sh := &d.shards[i]
		freeMapped(d.mem, sh.slots)
		freeMapped(d.mem, sh.long)
	}
	*d = rawDict{}
}

// inlineKey packs a key of up to maxInline bytes as in a slot (w0 and the
// low 32 bits of w1).
func inlineKey(r string) (uint64, uint32) {
	n := len(r)
	lo := uint32(n+1) << 24
	switch {
	case n >= 8:
		w0 := uint64(r[0]) | uint64(r[1])<<8 | uint64(r[2])<<16 | uint64(r[3])<<24 |
			uint64(r[4])<<32 | uint64(r[5])<<40 | uint64(r[6])<<48 | uint64(r[7])<<56
		if m := n - 8; m > 0 {
			// bytes 8, 8+m/2 and n-1 cover the 1 to 3 others
			lo |= uint32(r[8]) | uint32(r[8+m/2])<<(8*(m/2)) | uint32(r[n-1])<<(8*(m-1))
		}
		return w0, lo
	case n >= 4:
		// two overlapping 4-byte loads
		a := uint64(r[0]) | uint64(r[1])<<8 | uint64(r[2])<<16 | uint64(r[3])<<24
		b := uint64(r[n-4]) | uint64(r[n-3])<<8 | uint64(r[n-2])<<16 | uint64(r[n-1])<<24
		return a | b<<(8*(n-4)), lo
	case n > 0:
		return uint64(r[0]) | uint64(r[n/2])<<(8*(n/2)) | uint64(r[n-1])<<(8*(n-1)), lo
	}
	return 0, lo
}

func (d *rawDict) hashInline(w0 uint64, lo uint32) uint64 {
	hi, lo64 := bits.Mul64(w0^d.s0, uint64(lo)^d.s1)
	return hi ^ lo64
}

// hash is the hash of raw, which selects its shard and slots.
func (d *rawDict) hash(raw string) uint64 {
	if len(raw) > maxInline {
		return maphash.String(d.seed, raw)
	}
	return d.hashInline(inlineKey(raw))
}

func shardOf(h uint64) uint32 { return uint32(h >> (64 - rawShardBits)) }

// get returns the term number of raw, and its hash.
func (d *rawDict) get(raw string) (uint32, uint64, bool) {
	if len(raw) > maxInline {
		h := maphash.String(d.seed, raw)
		sh := &d.shards[shardOf(h)]
		i, ok := sh.findLong(raw, h)
		return uint32(sh.slots[i].w1 >> 32), h, ok
	}
	w0, lo := inlineKey(raw)
	h := d.hashInline(w0, lo)
	sh := &d.shards[shardOf(h)]
	mask := uint64(len(sh.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &sh.slots[i]
		if uint32(s.w1) == lo && s.w0 == w0 {
			return uint32(s.w1 >> 32), h, true
		}
		if s.w1 == 0 {
			return 0, h, false
		}
	}
}

// find returns the reference of raw, whose hash is h, or where it would
// go.
func (d *rawDict) find(raw string, h uint64) (uint32, bool) {
	sh := &d.shards[shardOf(h)]
	var i int
	var ok bool
	if len(raw) > maxInline {
		i, ok = sh.findLong(raw, h)
	} else {
		i, ok = sh.findInline(raw, h)
	}
	return shardOf(h)<<refShardShift | uint32(i), ok
}

func (sh *rawShard) findInline(raw string, h uint64) (int, bool) {
	w0, lo := inlineKey(raw)
	mask := uint64(len(sh.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &sh.slots[i]
		if uint32(s.w1) == lo && s.w0 == w0 {
			return int(i), true
		}
		if s.w1 == 0 {
			return int(i), false
		}
	}
}

func (sh *rawShard) findLong(raw string, h uint64) (int, bool) {
	lo := uint32(h>>32)&0xFFFFFF | longKey
	mask := uint64(len(sh.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &sh.slots[i]
		if uint32(s.w1) == lo && s.w0>>32 == uint64(len(raw)) {
			off := uint32(s.w0)
			if string(sh.long[off:off+uint32(len(raw))]) == raw {
				return int(i), true
			}
		}
		if s.w1 == 0 {
			return int(i), false
		}
	}
}

// reserve makes room for n more keys in shard s, so that the slots of the
// keys inserted meanwhile do not move.
func (d *rawDict) reserve(s uint32, n int) {
	sh := &d.shards[s]
	for (sh.n+n)*4 > len(sh.slots)*3 {
		if len(sh.slots) >= 1<<refShardShift {
			panic("bm25: raw token dictionary full")
		}
		d.grow(sh)
	}
}

// insert adds raw, whose hash is h, with term number id at the reference
// ref that find returned for it (raw absent), after reserve.
func (d *rawDict) insert(ref uint32, raw string, h uint64, id uint32) {
	sh := &d.shards[ref>>refShardShift]
	s := &sh.slots[ref&(1<<refShardShift-1)]
	if len(raw) <= maxInline {
		w0, lo := inlineKey(raw)
		s.w0, s.w1 = w0, uint64(lo)|uint64(id)<<32
	} else {
		if uint64(len(sh.long))+uint64(len(raw)) > maxArena {
			panic("bm25: raw token dictionary full (4 GiB of long tokens)")
		}
		s.w0 = uint64(len(sh.long)) | uint64(len(raw))<<32
		s.w1 = uint64(uint32(h>>32)&0xFFFFFF|longKey) | uint64(id)<<32
		sh.long = append(growMapped(d.mem, sh.long, len(raw)), raw...)
	}
	sh.n++
}

func (d *rawDict) slot(ref uint32) *rawSlot {
	return &d.shards[ref>>refShardShift].slots[ref&(1<<refShardShift-1)]
}

// setID sets the term number of the key at ref.
func (d *rawDict) setID(ref uint32, id uint32) {
	s := d.slot(ref)
	s.w1 = s.w1&math.MaxUint32 | uint64(id)<<32
}

// id is the term number of the key at ref.
func (d *rawDict) id(ref uint32) uint32 { return uint32(d.slot(ref).w1 >> 32) }

// len is the number of keys.
func (d *rawDict) len() int {
	n := 0
	for i := range d.shards {
		n += d.shards[i].n
	}
	return n
}

func (d *rawDict) grow(sh *rawShard) {
	old := sh.slots
	defer freeMapped(d.mem, old)
	sh.slots = makeMapped[rawSlot](d.mem, 2*len(old))
	mask := uint64(len(sh.slots) - 1)
	for _, s := range old {
		if s.w1 == 0 {
			continue
		}
		var h uint64
		if uint32(s.w1)&longKey == longKey {
			off, n := uint32(s.w0), uint32(s.w0>>32)
			h = maphash.Bytes(d.seed, sh.long[off:off+n])
		} else {
			h = d.hashInline(s.w0, uint32(s.w1))
		}
		i := h & mask
		for sh.slots[i].w1 != 0 {
			i = (i + 1) & mask
		}
		sh.slots[i] = s
	}
}
