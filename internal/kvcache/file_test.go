package kvcache

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// Two caches on one directory stand for two worker processes appending to
// the same shard ("aa"): each sees the other's lines, whether its own last
// line was the file's end or not, and a cache counts its own line as read
// only when nothing was appended before it.
func TestFileCacheOwnAndForeignLines(t *testing.T) {
	dir := t.TempDir()
	a, err := NewFileCache(dir)
	require.NoError(t, err)
	b, err := NewFileCache(dir)
	require.NoError(t, err)
	size := func() int64 {
		st, err := os.Stat(a.path(0xaa))
		require.NoError(t, err)
		return st.Size()
	}
	offset := func(c *FileCache) int64 {
		s := &c.shards[0xaa]
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.offset
	}

	require.NoError(t, a.Put("aa01", "one"))
	require.Equal(t, size(), offset(a), "a's own line, right after what it had read")
	_, ok := a.Get("aa99")
	require.False(t, ok)

	require.NoError(t, b.Put("aa02", "two")) // b loads a's line first
	require.Equal(t, size(), offset(b))
	require.Less(t, offset(a), size(), "b's line is not read by a yet")

	// a appends after b's unread line: its own line is not counted as read,
	// so the next miss reads both.
	require.NoError(t, a.Put("aa03", "three"))
	require.Less(t, offset(a), size())
	v, ok := a.Get("aa02")
	require.True(t, ok)
	require.Equal(t, "two", v)
	require.Equal(t, size(), offset(a))

	for k, want := range map[string]string{"aa01": "one", "aa02": "two", "aa03": "three"} {
		for _, c := range []*FileCache{a, b} {
			v, ok := c.Get(k)
			require.True(t, ok, k)
			require.Equal(t, want, v, k)
		}
	}
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())

	// A fresh cache reads all three lines.
	c, err := NewFileCache(dir)
	require.NoError(t, err)
	v, ok = c.Get("aa03")
	require.True(t, ok)
	require.Equal(t, "three", v)
}

// A new cache's 256 shard files are created when it is opened (not by the
// first answers of an experiment); opening it again keeps what they hold.
func TestNewFileCacheCreatesItsShards(t *testing.T) {
	dir := t.TempDir()
	c, err := NewFileCache(dir)
	require.NoError(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 256)
	_, ok := c.Get("ab12")
	require.False(t, ok)
	require.NoError(t, c.Put("ab12", "v"))
	require.NoError(t, c.Close())

	again, err := NewFileCache(dir)
	require.NoError(t, err)
	v, ok := again.Get("ab12")
	require.True(t, ok)
	require.Equal(t, "v", v)
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 256)
}
