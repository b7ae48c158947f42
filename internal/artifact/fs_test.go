package artifact

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFSPutOpenIsContentAddressed(t *testing.T) {
	ctx := context.Background()
	s, err := NewFS(t.TempDir())
	require.NoError(t, err)
	r1, err := Put(ctx, s, []byte("hello"))
	require.NoError(t, err)
	// sha256("hello"), computed independently.
	require.Equal(t, Ref("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"), r1)
	r2, err := Put(ctx, s, []byte("hello"))
	require.NoError(t, err)
	require.Equal(t, r1, r2)
	b, err := ReadAll(ctx, s, r1)
	require.NoError(t, err)
	require.Equal(t, "hello", string(b))
	ok, err := s.Exists(ctx, "sha256:"+Ref(repeat("0", 64)))
	require.NoError(t, err)
	require.False(t, ok)
	require.Empty(t, tmpFiles(t, s), "no temp files left behind")
}

func TestFSAbortLeavesNothing(t *testing.T) {
	ctx := context.Background()
	s, err := NewFS(t.TempDir())
	require.NoError(t, err)
	w, err := s.Create(ctx)
	require.NoError(t, err)
	_, _ = w.Write([]byte("partial"))
	require.NoError(t, w.Abort())
	objs, _ := filepath.Glob(filepath.Join(s.Root(), "objects", "*", "*"))
	require.Empty(t, objs)
	require.Empty(t, tmpFiles(t, s))
}

func TestRefValidationRejectsPaths(t *testing.T) {
	s, err := NewFS(t.TempDir())
	require.NoError(t, err)
	for _, r := range []Ref{"", "sha256:../../etc/passwd", "sha256:" + Ref(repeat("A", 64)), "md5:" + Ref(repeat("0", 64))} {
		_, err := s.Open(context.Background(), r)
		require.Error(t, err, r)
	}
}

func TestMemoRoundTripAndKeys(t *testing.T) {
	ctx := context.Background()
	s, err := NewFS(t.TempDir())
	require.NoError(t, err)
	type v struct{ A int }
	k := KeyOf("stage", "x")
	var got v
	ok, err := s.GetMemo(ctx, k, &got)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, s.PutMemo(ctx, k, v{A: 7}))
	ok, err = s.GetMemo(ctx, k, &got)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 7, got.A)
	require.NotEqual(t, KeyOf("ab", "c"), KeyOf("a", "bc"))
	_, err = s.GetMemo(ctx, Key("../x"), &got)
	require.Error(t, err)
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

// CleanTmp removes at once the temp files of processes of this host that
// are gone, and leaves a live process's (this one's) alone whatever its age.
func TestCleanTmpRemovesDeadWritersAtOnce(t *testing.T) {
	s, err := NewFS(t.TempDir())
	require.NoError(t, err)
	w, err := s.Create(context.Background()) // this process: alive
	require.NoError(t, err)
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run()) // a pid that no longer runs
	dead := filepath.Join(s.Root(), "tmp", fmt.Sprintf("w-%s-%d-123", thisHost, cmd.Process.Pid))
	require.NoError(t, os.WriteFile(dead, []byte("half"), 0o644))
	deadInShard := filepath.Join(s.Root(), tmpShard(7), fmt.Sprintf("w-%s-%d-456", thisHost, cmd.Process.Pid))
	require.NoError(t, os.WriteFile(deadInShard, []byte("half"), 0o644))
	other := filepath.Join(s.Root(), "tmp", fmt.Sprintf("w-%s-%d-123", "another-host", cmd.Process.Pid))
	require.NoError(t, os.WriteFile(other, []byte("half"), 0o644))

	n, err := s.CleanTmp(time.Hour)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.NoFileExists(t, dead)
	require.NoFileExists(t, deadInShard)
	require.FileExists(t, other, "another machine's writer: only by age")
	_, err = w.Commit()
	require.NoError(t, err, "the live writer's file was kept")
}

// tmpFiles lists the files under tmp/ (its shards included).
func tmpFiles(t *testing.T, s *FS) []string {
	var out []string
	require.NoError(t, filepath.WalkDir(filepath.Join(s.Root(), "tmp"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	}))
	return out
}

// A store's 256 object and memo directories are made when it is opened (not
// by the first writes of a run); writes still work when one was removed
// since, and a store whose directories cannot be made still opens.
func TestNewFSMakesItsFanout(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := NewFS(root)
	require.NoError(t, err)
	for _, sub := range []string{"objects", "memo"} {
		entries, err := os.ReadDir(filepath.Join(root, sub))
		require.NoError(t, err)
		require.Len(t, entries, 256, sub)
		require.Equal(t, "00", entries[0].Name())
		require.Equal(t, "ff", entries[255].Name())
	}
	// sha256("hello") = 2cf24d…: its directory removed behind the store's back.
	require.NoError(t, os.Remove(filepath.Join(root, "objects", "2c")))
	ref, err := Put(ctx, s, []byte("hello"))
	require.NoError(t, err)
	b, err := ReadAll(ctx, s, ref)
	require.NoError(t, err)
	require.Equal(t, "hello", string(b))
	key := Key(repeat("ab", 32))
	require.NoError(t, os.Remove(filepath.Join(root, "memo", "ab")))
	require.NoError(t, s.PutMemo(ctx, key, "v"))
	var v string
	ok, err := s.GetMemo(ctx, key, &v)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "v", v)
	require.Empty(t, tmpFiles(t, s))

	// Reopening makes nothing new; a store that cannot make them still opens.
	again, err := NewFS(root)
	require.NoError(t, err)
	_, err = Put(ctx, again, []byte("hello"))
	require.NoError(t, err)
	if os.Geteuid() != 0 { // root writes regardless of modes
		ro := t.TempDir()
		for _, sub := range []string{"objects", "memo", "tmp"} {
			require.NoError(t, os.MkdirAll(filepath.Join(ro, sub), 0o755))
		}
		require.NoError(t, os.Chmod(filepath.Join(ro, "objects"), 0o555))
		t.Cleanup(func() { _ = os.Chmod(filepath.Join(ro, "objects"), 0o755) })
		_, err := NewFS(ro)
		require.NoError(t, err)
	}
}
