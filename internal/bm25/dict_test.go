package bm25

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInlineKey(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= maxInline; n++ {
		for range 100 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			var want [16]byte
			copy(want[:], b)
			w0, lo := inlineKey(string(b))
			assert.Equal(t, binary.LittleEndian.Uint64(want[:8]), w0, "%q", b)
			assert.Equal(t, uint32(want[8])|uint32(want[9])<<8|uint32(want[10])<<16|uint32(n+1)<<24, lo, "%q", b)
		}
	}
}

func TestRawDict(t *testing.T) {
	d := newRawDict(newMapper())
	r := rand.New(rand.NewPCG(3, 4))
	want := map[string]uint32{}
	var keys []string
	// (enough for the shards' tables to be mapped)
	for i := range 80000 {
		// 0 to 30 bytes (inline and long keys), zero bytes included
		k := make([]byte, r.IntN(31))
		for j := range k {
			k[j] = "ab\x00\xff"[r.IntN(4)]
		}
		key := string(k)
		if _, ok := want[key]; ok {
			continue
		}
		_, h, ok := d.get(key)
		require.False(t, ok, "%q", key)
		require.Equal(t, d.hash(key), h)
		d.reserve(shardOf(h), 1)
		ref, found := d.find(key, h)
		require.False(t, found)
		d.insert(ref, key, h, pending)
		d.setID(ref, uint32(i))
		want[key] = uint32(i)
		keys = append(keys, key)
	}
	require.Greater(t, len(keys), 60000)
	assert.Equal(t, len(keys), d.len())
	for _, k := range keys {
		id, h, ok := d.get(k)
		require.True(t, ok, "%q", k)
		assert.Equal(t, want[k], id)
		require.Equal(t, d.hash(k), h)
		ref, ok := d.find(k, h)
		require.True(t, ok)
		assert.Equal(t, want[k], d.id(ref))
	}
	_, _, ok := d.get("absent: longer than any key in the dictionary")
	assert.False(t, ok)
	// Its larger tables were mapped (those it outgrew freed), and release
	// frees the rest.
	if canMap(t) {
		assert.NotEmpty(t, d.mem.mapped)
	}
	mem := d.mem
	d.release()
	assert.Empty(t, mem.mapped)
}

func TestTermDict(t *testing.T) {
	d := newTermDict(nil, 0)
	for i := range 10000 {
		s := "t" + strconv.Itoa(i*7919%10007)
		_, ok := d.find(s, d.hash(s))
		require.False(t, ok)
		assert.Equal(t, uint32(i), d.add(s, d.hash(s)))
	}
	assert.Equal(t, 10000, d.len())
	// findOrAdd finds those and adds others (the table grows meanwhile).
	for i := range 20000 {
		s := "t" + strconv.Itoa(i*7919%10007)
		if i >= 10000 {
			s = "u" + strconv.Itoa(i)
		}
		want := uint32(i)
		if i < 10000 {
			want, _ = d.find(s, d.hash(s))
		}
		assert.Equal(t, want, d.findOrAdd(s, d.hash(s)))
		assert.Equal(t, want, d.findOrAdd(s, d.hash(s)))
	}
	assert.Equal(t, 20000, d.len())
	for i := range 10000 {
		s := "t" + strconv.Itoa(i*7919%10007)
		id, ok := d.find(s, d.hash(s))
		require.True(t, ok)
		assert.Equal(t, uint32(i), id)
		assert.Equal(t, s, string(d.term(id)))
	}
}

func TestSlicePool(t *testing.T) {
	// Many terms written in an interleaved order read back whole; their
	// first slices are allocated meanwhile (several blocks of them).
	p := newSlicePool(newMapper())
	r := rand.New(rand.NewPCG(5, 6))
	const terms = 3 * firstsPerBlock / 2
	head := make([]uint32, terms)
	cur := make([]uint32, terms)
	want := make([][]byte, terms)
	n := 0 // terms with a first slice
	addFirst := func() {
		a, ok := p.newFirst(uint32(n))
		require.True(t, ok)
		require.Equal(t, a, p.head(uint32(n)))
		head[n], cur[n] = a, a
		n++
	}
	for n < terms/2 {
		addFirst()
	}
	for k := range 400000 {
		if n < terms && k%32 == 0 {
			addFirst()
		}
		i := r.IntN(n)
		if i%3 == 0 {
			i %= 50 // some long lists
		}
		v := uint64(r.Int64N(1 << r.IntN(40)))
		require.True(t, p.writeUvarint(&cur[i], v))
		want[i] = binary.AppendUvarint(want[i], v)
	}
	require.Equal(t, terms, n)
	require.Greater(t, len(p.blocks), 10)
	for i := range head {
		got := make([]byte, p.termLen(head[i], cur[i]))
		p.copyTerm(got, head[i], cur[i])
		assert.Equal(t, string(want[i]), string(got), "term %d", i)
	}
	mem := p.mem
	if canMap(t) {
		assert.Len(t, mem.mapped, (len(p.blocks)+regionBlocks-1)/regionBlocks)
	}
	p.release()
	assert.Empty(t, mem.mapped)
}
