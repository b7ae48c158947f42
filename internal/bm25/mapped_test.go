package bm25

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// canMap reports whether this system maps memory (else the mapper uses the
// heap, and only the results are checked).
func canMap(t *testing.T) bool {
	b, err := mapMemory(minMapped)
	if err != nil {
		t.Logf("no mapped memory here (%v): the heap is used", err)
		return false
	}
	unmapMemory(b)
	return true
}

func TestMapper(t *testing.T) {
	m := newMapper()
	mapping := canMap(t)

	// Small slices come from the heap; so do all of a nil mapper's.
	small := makeMapped[uint64](m, minMapped/8-1)
	assert.Empty(t, m.mapped)
	freeMapped(m, small)
	large := makeMapped[uint64](nil, minMapped)
	assert.Len(t, large, minMapped)
	freeMapped(nil, large)

	// Large ones are mapped, zeroed; growing keeps the elements and frees
	// the old mapping.
	s := makeMapped[uint64](m, minMapped/8)
	require.Len(t, s, minMapped/8)
	for i := range s {
		require.Zero(t, s[i])
		s[i] = uint64(i) * 7
	}
	if mapping {
		assert.Len(t, m.mapped, 1)
	}
	s = growMapped(m, s, 1)
	assert.Len(t, s, minMapped/8)
	assert.GreaterOrEqual(t, cap(s), minMapped/8+1)
	for i := range s {
		require.Equal(t, uint64(i)*7, s[i])
	}
	s = append(s, 1)
	if mapping {
		assert.Len(t, m.mapped, 1)
	}
	b := growMapped(m, []byte(nil), 1<<20)
	assert.Len(t, b, 0)
	if mapping {
		assert.Len(t, m.mapped, 2)
	}
	freeMapped(m, s)
	if mapping {
		assert.Len(t, m.mapped, 1)
	}
	m.freeAll()
	assert.Empty(t, m.mapped)
}

// A builder maps its pool, its large tables, and frees them at Build.
func TestBuildFreesMappedMemory(t *testing.T) {
	b := NewBuilder(whitespace(t))
	var docs []Doc
	for i := range 20000 {
		docs = append(docs, Doc{ID: strconv.Itoa(i), Text: "w" + strconv.Itoa(i) + " common w" + strconv.Itoa(i%97)})
	}
	require.NoError(t, b.AddBatch(docs))
	mem := b.mem
	b.waitIndexed()
	if canMap(t) {
		assert.NotEmpty(t, mem.mapped)
	}
	ix, err := b.Build()
	require.NoError(t, err)
	assert.Empty(t, mem.mapped)
	hits := ix.Search("w123", 1, DefaultParams)
	require.Len(t, hits, 1)
	assert.Equal(t, "123", hits[0].DocID)
}

// An index built in mapped memory is the one built on the heap, and
// outlives the memory its builder mapped: ids and terms large enough to be
// mapped, then moved to the heap by Build.
func TestMappedBuildIsHeapBuild(t *testing.T) {
	docs := make([]Doc, 60000)
	for i := range docs {
		docs[i] = Doc{ID: fmt.Sprintf("document-%06d", i), Text: fmt.Sprintf("t%d shared t%d", i, i%101)}
	}
	build := func(mem *mapper) (*Index, []byte) {
		b := newBuilder(whitespace(t), mem)
		for lo := 0; lo < len(docs); lo += 2048 {
			require.NoError(t, b.AddBatch(docs[lo:min(lo+2048, len(docs))]))
		}
		b.waitIndexed()
		if mem != nil && canMap(t) {
			// the ids' bytes and the terms' table at least
			assert.True(t, isMapped(mem, b.ids.data))
			assert.True(t, isMapped(mem, b.terms.slots))
		}
		ix, err := b.Build()
		require.NoError(t, err)
		if mem != nil {
			assert.Empty(t, mem.mapped)
		}
		var buf bytes.Buffer
		_, err = ix.WriteTo(&buf)
		require.NoError(t, err)
		return ix, buf.Bytes()
	}
	_, want := build(nil)
	ix, got := build(newMapper())
	assert.Equal(t, sha256.Sum256(want), sha256.Sum256(got))
	for i := 0; i < len(docs); i += 997 {
		hits := ix.Search(fmt.Sprintf("t%d", i), 1, DefaultParams)
		require.Len(t, hits, 1)
		assert.Equal(t, docs[i].ID, hits[0].DocID)
	}
}

func isMapped[E any](m *mapper, s []E) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.mapped[uintptr(unsafe.Pointer(unsafe.SliceData(s)))]
	return ok
}

// A builder dropped without Build frees its mapped memory when it is
// collected.
func TestDroppedBuilderFreesMappedMemory(t *testing.T) {
	if !canMap(t) {
		t.Skip("no mapped memory here")
	}
	mem := func() *mapper {
		b := NewBuilder(whitespace(t))
		require.NoError(t, b.Add("d", strings.Repeat("word ", 10)))
		require.NotEmpty(t, b.mem.mapped)
		return b.mem
	}()
	// Cleanups run on their own goroutine after a collection.
	for range 100 {
		runtime.GC()
		mem.mu.Lock()
		n := len(mem.mapped)
		mem.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the dropped builder's memory is still mapped")
}
