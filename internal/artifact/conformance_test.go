package artifact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testConformance is what every backend must do: the experiment code relies
// on exactly this, whichever store a worker was given. It runs against the
// filesystem backend always and against an S3-compatible server when one is
// configured (s3_test.go).
func testConformance(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("PutOpenExists", func(t *testing.T) {
		s := newStore(t)
		data := []byte("qid\tdocid\n1\tdoc-1\n")
		ref, err := Put(ctx, s, data)
		require.NoError(t, err)
		sum := sha256.Sum256(data)
		require.Equal(t, Ref("sha256:"+hex.EncodeToString(sum[:])), ref, "refs are content addresses")
		ok, err := s.Exists(ctx, ref)
		require.NoError(t, err)
		require.True(t, ok)
		got, err := ReadAll(ctx, s, ref)
		require.NoError(t, err)
		require.Equal(t, data, got)

		again, err := Put(ctx, s, data)
		require.NoError(t, err)
		require.Equal(t, ref, again, "the same content twice is one artifact")

		empty, err := Put(ctx, s, nil)
		require.NoError(t, err)
		got, err = ReadAll(ctx, s, empty)
		require.NoError(t, err)
		require.Empty(t, got)
		require.True(t, AllExist(ctx, s, ref, empty))
	})

	t.Run("Missing", func(t *testing.T) {
		s := newStore(t)
		missing := RefOf([]byte("never stored"))
		ok, err := s.Exists(ctx, missing)
		require.NoError(t, err)
		require.False(t, ok)
		_, err = s.Open(ctx, missing)
		require.ErrorIs(t, err, ErrNotFound)
		require.False(t, AllExist(ctx, s, missing))
		for _, bad := range []Ref{"", "sha256:xyz", "../../etc/passwd", Ref("sha256:" + string(bytes.Repeat([]byte("A"), 64)))} {
			_, err := s.Open(ctx, bad)
			require.Error(t, err, "%q", bad)
			require.NotErrorIs(t, err, ErrNotFound)
			_, err = s.Exists(ctx, bad)
			require.Error(t, err, "%q", bad)
		}
	})

	t.Run("StreamedLarge", func(t *testing.T) {
		// Larger than one multipart part (16 MiB) of the S3 client.
		s := newStore(t)
		w, err := s.Create(ctx)
		require.NoError(t, err)
		h := sha256.New()
		rng := rand.New(rand.NewPCG(1, 2))
		chunk := make([]byte, 1<<20)
		for range 17 {
			for i := range chunk {
				chunk[i] = byte(rng.Uint32())
			}
			_, err := io.MultiWriter(w, h).Write(chunk)
			require.NoError(t, err)
		}
		ref, err := w.Commit()
		require.NoError(t, err)
		require.Equal(t, "sha256:"+hex.EncodeToString(h.Sum(nil)), string(ref))
		_, err = w.Commit()
		require.Error(t, err, "a writer commits once")
		rc, err := s.Open(ctx, ref)
		require.NoError(t, err)
		h2 := sha256.New()
		n, err := io.Copy(h2, rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		require.EqualValues(t, 17<<20, n)
		require.Equal(t, h.Sum(nil), h2.Sum(nil))
	})

	t.Run("NothingBeforeCommit", func(t *testing.T) {
		s := newStore(t)
		data := []byte("uncommitted " + t.Name())
		w, err := s.Create(ctx)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
		ok, err := s.Exists(ctx, RefOf(data))
		require.NoError(t, err)
		require.False(t, ok, "visible before Commit")
		require.NoError(t, w.Abort())
		require.NoError(t, w.Abort(), "Abort twice is harmless")
		ok, err = s.Exists(ctx, RefOf(data))
		require.NoError(t, err)
		require.False(t, ok, "visible after Abort")
	})

	t.Run("Memo", func(t *testing.T) {
		s := newStore(t)
		type entry struct {
			Ref   Ref `json:"ref"`
			Count int `json:"count"`
		}
		key := KeyOf("stage", "v1", t.Name())
		var got entry
		ok, err := s.GetMemo(ctx, key, &got)
		require.NoError(t, err)
		require.False(t, ok)
		require.NoError(t, s.PutMemo(ctx, key, entry{Ref: RefOf([]byte("x")), Count: 1}))
		ok, err = s.GetMemo(ctx, key, &got)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, entry{Ref: RefOf([]byte("x")), Count: 1}, got)
		require.NoError(t, s.PutMemo(ctx, key, entry{Count: 2}), "a memo entry can be replaced")
		got = entry{}
		ok, err = s.GetMemo(ctx, key, &got)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, 2, got.Count)

		_, err = s.GetMemo(ctx, Key("../x"), &got)
		require.Error(t, err)
		require.Error(t, s.PutMemo(ctx, Key("ABC"), got))
	})

	t.Run("ConcurrentReadersSeeWholeArtifacts", func(t *testing.T) {
		// Readers polling while two writers store the same large artifact see
		// it missing or whole, never a part; memo readers see one version or
		// the other.
		s := newStore(t)
		data := make([]byte, 6<<20)
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		ref := RefOf(data)
		key := KeyOf("concurrent", t.Name())
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		done := make(chan struct{})
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if got, err := Put(ctx, s, data); err != nil || got != ref {
					errs <- fmt.Errorf("put: %v %s", err, got)
				}
			}()
		}
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range 20 {
					if err := s.PutMemo(ctx, key, map[string]string{"writer": fmt.Sprint(i), "n": fmt.Sprint(n), "pad": string(bytes.Repeat([]byte("p"), 4096))}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		var rwg sync.WaitGroup
		var whole, absent int
		var mu sync.Mutex
		for range 2 {
			rwg.Add(1)
			go func() {
				defer rwg.Done()
				for {
					select {
					case <-done:
						return
					default:
					}
					b, err := ReadAll(ctx, s, ref)
					mu.Lock()
					switch {
					case errors.Is(err, ErrNotFound):
						absent++
					case err != nil:
						errs <- err
					case !bytes.Equal(b, data):
						errs <- fmt.Errorf("read %d bytes of %d, or different content", len(b), len(data))
					default:
						whole++
					}
					mu.Unlock()
					var m map[string]string
					if ok, err := s.GetMemo(ctx, key, &m); err != nil {
						errs <- err
					} else if ok && (len(m["pad"]) != 4096 || m["writer"] == "") {
						errs <- fmt.Errorf("partial memo entry %v", m)
					}
					time.Sleep(time.Millisecond)
				}
			}()
		}
		wg.Wait()
		close(done)
		rwg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		got, err := ReadAll(ctx, s, ref)
		require.NoError(t, err)
		require.Equal(t, data, got)
		t.Logf("readers saw the artifact absent %d times, whole %d times", absent, whole)
	})
}

func TestFSConformance(t *testing.T) {
	testConformance(t, func(t *testing.T) Store {
		s, err := NewFS(t.TempDir())
		require.NoError(t, err)
		return s
	})
}
