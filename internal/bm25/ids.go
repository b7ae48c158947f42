package bm25

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
)

// idList is the document ids of a builder in one arena: id d is
// data[off[d]:off[d+1]].
type idList struct {
	mem  *mapper // of data and off
	data []byte
	off  []uint32
	set  idSet
}

// newIDList returns an empty list whose ids and offsets are in memory from
// mem.
func newIDList(mem *mapper) idList {
	return idList{mem: mem, off: makeMapped[uint32](mem, 1), set: newIDSet()}
}

func (l *idList) len() int { return len(l.off) - 1 }

func (l *idList) id(d uint32) []byte { return l.data[l.off[d]:l.off[d+1]] }

// add adds the ids of docs, or none if one is empty, a duplicate or too
// long.
func (l *idList) add(docs []Doc) error {
	n := 0
	for _, d := range docs {
		if d.ID == "" {
			return errors.New("bm25: empty document id")
		}
		n += len(d.ID)
	}
	if uint64(len(l.data))+uint64(n) > math.MaxUint32 {
		return errors.New("bm25: too many document ids (4 GiB)")
	}
	l.data = growMapped(l.mem, l.data, n)
	l.off = growMapped(l.mem, l.off, len(docs))
	first := l.len()
	for _, d := range docs {
		if !l.set.insert(l, d.ID, uint32(l.len())) {
			l.data = l.data[:l.off[first]]
			l.off = l.off[:first+1]
			l.set.rebuild(l)
			return fmt.Errorf("bm25: duplicate document id %q", d.ID)
		}
		l.data = append(l.data, d.ID...)
		l.off = append(l.off, uint32(len(l.data)))
	}
	return nil
}

// grow makes room for n more elements, doubling the capacity when it grows
// (append grows large slices by 1.25, which allocates several times their
// final size as they grow).
func grow[S ~[]E, E any](s S, n int) S {
	if len(s)+n <= cap(s) {
		return s
	}
	c := max(2*cap(s), len(s)+n, 16)
	t := make(S, len(s), c)
	copy(t, s)
	return t
}

// idSet is the set of the ids of an idList: an open-addressing hash table
// of document numbers + 1 (0 for a free slot), at most 3/4 full. Its size
// grows by half (not a power of two: a hash picks its slot by
// multiplication), so that it is at least half full.
type idSet struct {
	seed  maphash.Seed
	slots []uint32
	n     int
}

func newIDSet() idSet {
	return idSet{seed: maphash.MakeSeed(), slots: make([]uint32, 64)}
}

// slot is the first slot for hash h.
func (s *idSet) slot(h uint64) int {
	i, _ := bits.Mul64(h, uint64(len(s.slots)))
	return int(i)
}

// insert adds document doc of l with id (not yet in l), false if l has id.
func (s *idSet) insert(l *idList, id string, doc uint32) bool {
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow(l)
	}
	for i := s.slot(maphash.String(s.seed, id)); ; i++ {
		if i == len(s.slots) {
			i = 0
		}
		v := s.slots[i]
		if v == 0 {
			s.slots[i] = doc + 1
			s.n++
			return true
		}
		if string(l.id(v-1)) == id {
			return false
		}
	}
}

func (s *idSet) grow(l *idList) {
	old := s.slots
	s.slots = make([]uint32, len(old)*3/2)
	for _, v := range old {
		if v == 0 {
			continue
		}
		i := s.slot(maphash.Bytes(s.seed, l.id(v-1)))
		for s.slots[i] != 0 {
			if i++; i == len(s.slots) {
				i = 0
			}
		}
		s.slots[i] = v
	}
}

// rebuild resets the set to the ids of l.
func (s *idSet) rebuild(l *idList) {
	clear(s.slots)
	s.n = 0
	for d := range uint32(l.len()) {
		s.insert(l, string(l.id(d)), d)
	}
}
