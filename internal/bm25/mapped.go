package bm25

import (
	"sync"
	"unsafe"
)

// mapper allocates, outside the Go heap, the large structures of a Builder
// that hold no pointers: the pool of postings under construction, the
// dictionary of raw tokens and the per-term states, which die with it, and
// the document ids and the term dictionary, which Build moves to the heap
// for the Index (an Index is freed by the collector alone). Why:
// the garbage collector lets the heap grow to about twice what was live at
// its last collection, so on the heap these structures cost about twice
// their size in peak RSS; mapped, they cost the pages written, and freeing
// them (when they grow, and at Build) returns their memory to the system at
// once. Allocations below minMapped, where memory cannot be mapped (another
// system, or mmap fails) and a nil mapper use the heap: a mapping costs two
// system calls, and freeing one interrupts the other CPUs running the
// process to flush their TLBs (50–100 µs here, a VM).
type mapper struct {
	mu     sync.Mutex
	mapped map[uintptr][]byte // the mappings, by the address of their first byte
}

func newMapper() *mapper { return &mapper{mapped: map[uintptr][]byte{}} }

// minMapped is the size from which memory is mapped. (From 64 KiB, a
// build of 50K documents made about 30 more mappings for no less peak RSS,
// and built ~3 % slower.)
const minMapped = 256 << 10

// makeMapped returns a zeroed slice of n Es, mapped by m or from the heap.
// E must hold no pointers: the collector does not scan mapped memory.
func makeMapped[E any](m *mapper, n int) []E {
	var e E
	if size := n * int(unsafe.Sizeof(e)); m != nil && size >= minMapped {
		if b, err := mapMemory(size); err == nil {
			m.mu.Lock()
			m.mapped[uintptr(unsafe.Pointer(unsafe.SliceData(b)))] = b
			m.mu.Unlock()
			return unsafe.Slice((*E)(unsafe.Pointer(unsafe.SliceData(b))), n)
		}
	}
	return make([]E, n)
}

// freeMapped frees s, from makeMapped or growMapped (s starts where the
// allocation does), if m mapped it; the collector frees it otherwise. s
// must not be used afterwards.
func freeMapped[E any](m *mapper, s []E) {
	if m == nil || cap(s) == 0 {
		return
	}
	key := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	m.mu.Lock()
	b, ok := m.mapped[key]
	delete(m.mapped, key)
	m.mu.Unlock()
	if ok {
		unmapMemory(b)
	}
}

// freeAll frees all the memory m mapped: when a Builder is dropped without
// Build (which frees it).
func (m *mapper) freeAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, b := range m.mapped {
		unmapMemory(b)
		delete(m.mapped, key)
	}
}

// onHeap returns s on the heap: if m mapped it, a copy of its elements
// (without spare capacity), s freed; else s.
func onHeap[E any](m *mapper, s []E) []E {
	if m == nil || cap(s) == 0 {
		return s
	}
	m.mu.Lock()
	_, ok := m.mapped[uintptr(unsafe.Pointer(unsafe.SliceData(s)))]
	m.mu.Unlock()
	if !ok {
		return s
	}
	t := make([]E, len(s))
	copy(t, s)
	freeMapped(m, s)
	return t
}

// growMapped is grow for a slice from m: the old slice is freed.
func growMapped[E any](m *mapper, s []E, n int) []E {
	if len(s)+n <= cap(s) {
		return s
	}
	t := makeMapped[E](m, max(2*cap(s), len(s)+n, 16))[:len(s)]
	copy(t, s)
	freeMapped(m, s)
	return t
}
