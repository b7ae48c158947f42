package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FS stores artifacts as files under one root:
//
//	objects/ab/abcdef…   content, named by its SHA-256
//	memo/ab/abcdef….json stage results, named by their key
//	tmp/0 … tmp/f/       writes in progress (same filesystem, so rename is
//	                     atomic), spread over 16 directories: 32 concurrent
//	                     writers of audit records spent most of each write
//	                     waiting for one directory's lock
//	tmp/                 memo writes in progress
//
// Names are always hashes: no user string (document id, dataset name) ever
// becomes a path component here.
type FS struct {
	root string
	next atomic.Uint32 // round robin over the tmp shards
	dirs sync.Map      // object directories known to exist
}

const tmpShards = 16

// NewFS opens (creating if needed) a store rooted at dir.
func NewFS(dir string) (*FS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	subs := []string{"objects", "memo", "tmp"}
	for i := 0; i < tmpShards; i++ {
		subs = append(subs, tmpShard(i))
	}
	for _, sub := range subs {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o755); err != nil {
			return nil, fmt.Errorf("artifact store %s: %w", abs, err)
		}
	}
	s := &FS{root: abs}
	s.makeFanout("objects")
	s.makeFanout("memo")
	return s, nil
}

// makeFanout makes the 256 directories objects/00 … objects/ff (or memo's)
// that a new store lacks and remembers them as existing. A new directory is
// dear on ext4 while files are written beside it (a fresh store's first
// reranked run spent 0.08 s of CPU in mkdir); made here, when a worker
// starts, writes do not pay for it. Best effort: on a read-only store, or
// when one cannot be made, Put and PutMemo make the directory they need.
func (s *FS) makeFanout(sub string) {
	dir := filepath.Join(s.root, sub)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	have := make(map[string]bool, len(entries))
	for _, e := range entries {
		have[e.Name()] = e.IsDir()
	}
	for i := range 256 {
		name := fmt.Sprintf("%02x", i)
		if !have[name] && os.Mkdir(filepath.Join(dir, name), 0o755) != nil {
			continue
		}
		s.dirs.Store(filepath.Join(dir, name), true)
	}
}

func tmpShard(i int) string { return filepath.Join("tmp", strconv.FormatInt(int64(i), 16)) }

// Root is the store's directory.
func (s *FS) Root() string { return s.root }

// ObjectPath is the file holding ref (for tools that want to read it directly).
func (s *FS) ObjectPath(ref Ref) (string, error) {
	if !ref.Valid() {
		return "", fmt.Errorf("invalid artifact ref %q", ref)
	}
	h := ref.hex()
	return filepath.Join(s.root, "objects", h[:2], h), nil
}

func (s *FS) memoPath(key Key) (string, error) {
	k := string(key)
	if len(k) != 64 || strings.Trim(k, "0123456789abcdef") != "" {
		return "", fmt.Errorf("invalid memo key %q", k)
	}
	return filepath.Join(s.root, "memo", k[:2], k+".json"), nil
}

type fsWriter struct {
	s    *FS
	f    *os.File
	h    hash.Hash
	done bool
}

// Create starts a new artifact in one of the tmp/ shards.
func (s *FS) Create(ctx context.Context) (Writer, error) {
	shard := int(s.next.Add(1) % tmpShards)
	f, err := os.CreateTemp(filepath.Join(s.root, tmpShard(shard)), tmpPattern("w-"))
	if err != nil {
		return nil, err
	}
	return &fsWriter{s: s, f: f, h: sha256.New()}, nil
}

func (w *fsWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	return n, err
}

func (w *fsWriter) Commit() (Ref, error) {
	if w.done {
		return "", errors.New("artifact writer already closed")
	}
	w.done = true
	ref := Ref("sha256:" + hex.EncodeToString(w.h.Sum(nil)))
	tmp := w.f.Name()
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := w.f.Close(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	dst, _ := w.s.ObjectPath(ref)
	if _, err := os.Stat(dst); err == nil {
		// Same content already stored (content addressing makes this a no-op).
		os.Remove(tmp)
		return ref, nil
	}
	if dir := filepath.Dir(dst); !w.s.knownDir(dir) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			os.Remove(tmp)
			return "", err
		}
		w.s.dirs.Store(dir, true)
	}
	if err := os.Chmod(tmp, 0o444); err != nil {
		os.Remove(tmp)
		return "", err
	}
	err := os.Rename(tmp, dst)
	if errors.Is(err, fs.ErrNotExist) {
		// The directory was removed behind the cache's back: make it again.
		if err = os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
			err = os.Rename(tmp, dst)
		}
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return ref, nil
}

func (s *FS) knownDir(dir string) bool {
	_, ok := s.dirs.Load(dir)
	return ok
}

func (w *fsWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	return os.Remove(w.f.Name())
}

// Open reads an artifact.
func (s *FS) Open(ctx context.Context, ref Ref) (io.ReadCloser, error) {
	p, err := s.ObjectPath(ref)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s in %s", ErrNotFound, ref, s.root)
	}
	return f, err
}

// Exists reports whether ref is stored.
func (s *FS) Exists(ctx context.Context, ref Ref) (bool, error) {
	p, err := s.ObjectPath(ref)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// GetMemo reads a memo entry.
func (s *FS) GetMemo(ctx context.Context, key Key, v any) (bool, error) {
	p, err := s.memoPath(key)
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		// A memo entry is written atomically, so a bad one was damaged outside
		// clirflow: recompute rather than fail.
		return false, nil
	}
	return true, nil
}

// PutMemo writes a memo entry atomically.
func (s *FS) PutMemo(ctx context.Context, key Key, v any) error {
	p, err := s.memoPath(key)
	if err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if !s.knownDir(dir) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		s.dirs.Store(dir, true)
	}
	err = WriteFileAtomic(p, b, filepath.Join(s.root, "tmp"))
	if errors.Is(err, fs.ErrNotExist) {
		// The directory was removed behind the cache's back: make it again.
		if err = os.MkdirAll(dir, 0o755); err == nil {
			err = WriteFileAtomic(p, b, filepath.Join(s.root, "tmp"))
		}
	}
	return err
}

// CleanTmp removes what killed writers left in tmp/ and its shards: the
// files of processes of this host that no longer run, and any file older
// than age (a writer on another machine sharing the directory).
func (s *FS) CleanTmp(age time.Duration) (int, error) {
	n := 0
	for i := -1; i < tmpShards; i++ {
		dir := filepath.Join(s.root, "tmp")
		if i >= 0 {
			dir = filepath.Join(s.root, tmpShard(i))
		}
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) && i >= 0 {
			continue // a store made before the shards
		}
		if err != nil {
			return n, err
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			info, err := e.Info()
			if err == nil && (time.Since(info.ModTime()) > age || orphaned(e.Name(), "w-") || orphaned(e.Name(), ".tmp-")) {
				if os.Remove(filepath.Join(dir, e.Name())) == nil {
					n++
				}
			}
		}
	}
	return n, nil
}

// WriteFileAtomic writes data to path via a temp file in tmpDir (or path's
// directory when tmpDir is empty) and a rename, so readers see the old file or
// the whole new one, never a part.
func WriteFileAtomic(path string, data []byte, tmpDir string) error {
	return writeAtomic(path, tmpDir, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// CopyFileAtomic copies an artifact to a user-visible path atomically.
func CopyFileAtomic(ctx context.Context, s Store, ref Ref, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	rc, err := s.Open(ctx, ref)
	if err != nil {
		return err
	}
	defer rc.Close()
	return writeAtomic(path, "", func(w io.Writer) error {
		_, err := io.Copy(w, rc)
		return err
	})
}

func writeAtomic(path, tmpDir string, fill func(io.Writer) error) error {
	if tmpDir == "" {
		tmpDir = filepath.Dir(path)
	}
	f, err := os.CreateTemp(tmpDir, tmpPattern(".tmp-"))
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
