package vector

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"github.com/clirflow/clirflow/internal/artifact"
)

// Embedded is the default VectorStore: exact search, no server. Each collection
// is a directory under the root:
//
//	NAME/header.json     dim, metric, count, complete, generation: the commit point
//	NAME/vectors-G.f32   count × dim little-endian float32 (cosine: normalised), row i ↔ id line i
//	NAME/ids-G.jsonl     one JSON string per line
//	.tmp/                collections being created or deleted
//
// Upserts of new documents append to the data files and then replace the
// header atomically (temp file + rename), so a crash leaves bytes past the
// header's count, which are ignored and cut off by the next append. An upsert
// that replaces existing documents writes a new generation of both files and
// then the header. Readers therefore see either the old or the new collection.
//
// A collection is read into one contiguous []float32 on first use and kept;
// a replaced header.json (another process wrote) is noticed by a stat per call
// and reloads it. Concurrent searches share a read lock. Writers to one
// collection are expected to take turns (one loading worker at a time).
type Embedded struct {
	root string
	mu   sync.Mutex
	cols map[string]*collection
}

const (
	headerFile   = "header.json"
	headerFormat = 1
)

type header struct {
	Format   int    `json:"format"`
	Dim      int    `json:"dim"`
	Metric   Metric `json:"metric"`
	Count    int    `json:"count"`
	Complete bool   `json:"complete"`
	Gen      int    `json:"generation"`
	IDsBytes int64  `json:"ids_bytes"` // committed length of ids-G.jsonl
}

// OpenEmbedded opens (creating if needed) a store rooted at dir.
func OpenEmbedded(dir string) (*Embedded, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(abs, ".tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("vector store %s: %w", abs, err)
	}
	return &Embedded{root: abs, cols: map[string]*collection{}}, nil
}

// Root is the store's directory.
func (s *Embedded) Root() string { return s.root }

func (s *Embedded) collection(name string) (*collection, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cols[name]
	if c == nil {
		c = &collection{name: name, dir: filepath.Join(s.root, name)}
		s.cols[name] = c
	}
	return c, nil
}

func (s *Embedded) Create(ctx context.Context, name string, dim int, metric Metric) error {
	if err := checkCreate(name, dim, metric); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Join(s.root, name)
	if _, err := os.Stat(filepath.Join(dir, headerFile)); err == nil {
		return fmt.Errorf("%w: %q", ErrExists, name)
	}
	// Build the collection aside and rename it into place: it appears whole or not at all.
	tmp, err := os.MkdirTemp(filepath.Join(s.root, ".tmp"), "create-*")
	if err != nil {
		return err
	}
	h := header{Format: headerFormat, Dim: dim, Metric: metric, Gen: 1}
	b, _ := json.Marshal(h)
	for _, f := range []struct {
		name string
		data []byte
	}{{dataFile("vectors", 1), nil}, {dataFile("ids", 1), nil}, {headerFile, b}} {
		if err = artifact.WriteFileAtomic(filepath.Join(tmp, f.name), f.data, ""); err != nil {
			break
		}
	}
	if err == nil {
		err = os.Chmod(tmp, 0o755)
	}
	if err == nil {
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		os.RemoveAll(tmp)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %q", ErrExists, name)
		}
		return fmt.Errorf("vector store: create %q: %w", name, err)
	}
	return nil
}

func (s *Embedded) Upsert(ctx context.Context, name string, points []Point) error {
	c, err := s.collection(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.write(func() error {
		if err := checkPoints(name, points, c.hdr.Dim); err != nil || len(points) == 0 {
			return err
		}
		dim, from, rewrite := c.hdr.Dim, len(c.ids), false
		for _, p := range points {
			i, ok := c.pos[p.DocID]
			if !ok {
				i = len(c.ids)
				c.pos[p.DocID] = i
				c.ids = append(c.ids, p.DocID)
				c.vecs = append(c.vecs, p.Vector...)
			}
			rewrite = rewrite || i < from // replaces a row already on disk
			row := c.vecs[i*dim : (i+1)*dim]
			copy(row, p.Vector)
			if c.hdr.Metric == Cosine {
				normalize(row)
			}
		}
		persist := c.appendRows
		if rewrite {
			persist = func(int) error { return c.rewrite() }
		}
		if err := persist(from); err != nil {
			c.loaded = false // memory is ahead of the disk: reload on next use
			return fmt.Errorf("vector store: upsert %q: %w", name, err)
		}
		return nil
	})
}

func (s *Embedded) FinishLoad(ctx context.Context, name string) error {
	c, err := s.collection(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.write(func() error {
		if c.hdr.Complete {
			return nil
		}
		h := c.hdr
		h.Complete = true
		return c.commit(h)
	})
}

func (s *Embedded) Search(ctx context.Context, name string, query []float32, k int) ([]Hit, error) {
	c, err := s.collection(name)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var hits []Hit
	err = c.read(func() error {
		if !c.hdr.Complete {
			return fmt.Errorf("%w: %q", ErrIncomplete, name)
		}
		if err := checkQuery(name, query, k, c.hdr.Dim); err != nil {
			return err
		}
		q := query
		if c.hdr.Metric == Cosine {
			q = append([]float32(nil), query...)
			normalize(q)
		}
		hits = search(c.vecs, c.ids, c.hdr.Dim, q, k)
		return nil
	})
	return hits, err
}

func (s *Embedded) Info(ctx context.Context, name string) (CollectionInfo, error) {
	c, err := s.collection(name)
	if err != nil {
		return CollectionInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return CollectionInfo{}, err
	}
	var info CollectionInfo
	err = c.read(func() error {
		info = CollectionInfo{Dim: c.hdr.Dim, Metric: c.hdr.Metric, Count: len(c.ids), Complete: c.hdr.Complete}
		return nil
	})
	return info, err
}

func (s *Embedded) Delete(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.cols, name) // free its memory; a later use reloads from disk
	s.mu.Unlock()
	var r [8]byte
	rand.Read(r[:])
	// Rename first so the collection disappears at once, then remove at leisure.
	tmp := filepath.Join(s.root, ".tmp", "delete-"+hex.EncodeToString(r[:]))
	if err := os.Rename(filepath.Join(s.root, name), tmp); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		return fmt.Errorf("vector store: delete %q: %w", name, err)
	}
	return os.RemoveAll(tmp)
}

// Close drops the in-memory copies; the store stays usable.
func (s *Embedded) Close() error {
	s.mu.Lock()
	s.cols = map[string]*collection{}
	s.mu.Unlock()
	return nil
}

// collection is one collection's in-memory copy, in step with header.json.
type collection struct {
	name, dir string

	mu     sync.RWMutex
	loaded bool
	stat   os.FileInfo // header.json as loaded; nil: the collection does not exist
	hdr    header
	ids    []string
	pos    map[string]int
	vecs   []float32 // len(ids) × hdr.Dim
}

func dataFile(kind string, gen int) string {
	if kind == "vectors" {
		return fmt.Sprintf("vectors-%d.f32", gen)
	}
	return fmt.Sprintf("ids-%d.jsonl", gen)
}

func (c *collection) path(file string) string { return filepath.Join(c.dir, file) }

// fresh reports whether memory matches the header on disk.
func (c *collection) fresh() (bool, error) {
	st, err := os.Stat(c.path(headerFile))
	if errors.Is(err, fs.ErrNotExist) {
		return c.loaded && c.stat == nil, nil
	}
	if err != nil {
		return false, err
	}
	return c.loaded && c.stat != nil && os.SameFile(c.stat, st) &&
		c.stat.Size() == st.Size() && c.stat.ModTime().Equal(st.ModTime()), nil
}

// read runs f under the read lock with memory in step with the disk.
func (c *collection) read(f func() error) error {
	for {
		c.mu.RLock()
		ok, err := c.fresh()
		if err == nil && ok {
			if c.stat == nil {
				err = fmt.Errorf("%w: %q", ErrNotFound, c.name)
			} else {
				err = f()
			}
			c.mu.RUnlock()
			return err
		}
		c.mu.RUnlock()
		if err != nil {
			return err
		}
		c.mu.Lock()
		if ok, err = c.fresh(); err == nil && !ok {
			err = c.load()
		}
		c.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// write runs f under the write lock with memory in step with the disk.
func (c *collection) write(f func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ok, err := c.fresh()
	if err == nil && !ok {
		err = c.load()
	}
	if err != nil {
		return err
	}
	if c.stat == nil {
		return fmt.Errorf("%w: %q", ErrNotFound, c.name)
	}
	return f()
}

func (c *collection) load() error {
	c.loaded, c.stat, c.hdr, c.ids, c.pos, c.vecs = false, nil, header{}, nil, nil, nil
	st, err := os.Stat(c.path(headerFile))
	if errors.Is(err, fs.ErrNotExist) {
		c.loaded = true
		return nil
	}
	if err != nil {
		return err
	}
	b, err := os.ReadFile(c.path(headerFile))
	if err != nil {
		return err
	}
	var h header
	if err := json.Unmarshal(b, &h); err != nil || h.Format != headerFormat || h.Dim < 1 || h.Count < 0 || h.IDsBytes < 0 {
		return fmt.Errorf("vector store: %s: not a format-%d collection header", c.path(headerFile), headerFormat)
	}
	ids, err := readIDs(c.path(dataFile("ids", h.Gen)), h.IDsBytes, h.Count)
	if err != nil {
		return err
	}
	vecs, err := readFloats(c.path(dataFile("vectors", h.Gen)), h.Count*h.Dim)
	if err != nil {
		return err
	}
	c.pos = make(map[string]int, len(ids))
	for i, id := range ids {
		c.pos[id] = i
	}
	c.loaded, c.stat, c.hdr, c.ids, c.vecs = true, st, h, ids, vecs
	return nil
}

// commit replaces the header: the moment a write becomes visible.
func (c *collection) commit(h header) error {
	b, _ := json.Marshal(h)
	if err := artifact.WriteFileAtomic(c.path(headerFile), b, ""); err != nil {
		return err
	}
	st, err := os.Stat(c.path(headerFile))
	if err != nil {
		return err
	}
	c.hdr, c.stat = h, st
	return nil
}

// appendRows writes rows from… of memory after the committed ones, then commits.
func (c *collection) appendRows(from int) error {
	var ids bytes.Buffer
	for _, id := range c.ids[from:] {
		b, _ := json.Marshal(id)
		ids.Write(b)
		ids.WriteByte('\n')
	}
	h := c.hdr
	if err := appendAt(c.path(dataFile("vectors", h.Gen)), int64(from*h.Dim*4), f32bytes(c.vecs[from*h.Dim:])); err != nil {
		return err
	}
	if err := appendAt(c.path(dataFile("ids", h.Gen)), h.IDsBytes, ids.Bytes()); err != nil {
		return err
	}
	h.Count, h.IDsBytes = len(c.ids), h.IDsBytes+int64(ids.Len())
	return c.commit(h)
}

// appendAt cuts path to off (dropping what an uncommitted write left) and writes b there.
func appendAt(path string, off int64, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(off)
	if err == nil {
		_, err = f.WriteAt(b, off)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rewrite writes the whole collection as a new generation, then commits.
func (c *collection) rewrite() error {
	var ids bytes.Buffer
	for _, id := range c.ids {
		b, _ := json.Marshal(id)
		ids.Write(b)
		ids.WriteByte('\n')
	}
	h := c.hdr
	h.Gen++
	h.Count, h.IDsBytes = len(c.ids), int64(ids.Len())
	if err := artifact.WriteFileAtomic(c.path(dataFile("vectors", h.Gen)), f32bytes(c.vecs), ""); err != nil {
		return err
	}
	if err := artifact.WriteFileAtomic(c.path(dataFile("ids", h.Gen)), ids.Bytes(), ""); err != nil {
		return err
	}
	old := c.hdr.Gen
	if err := c.commit(h); err != nil {
		return err
	}
	os.Remove(c.path(dataFile("vectors", old)))
	os.Remove(c.path(dataFile("ids", old)))
	return nil
}

func readIDs(path string, size int64, count int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("vector store: %s: %w", path, err)
	}
	ids := make([]string, 0, count)
	for line := range bytes.Lines(b) {
		var id string
		if err := json.Unmarshal(line, &id); err != nil {
			return nil, fmt.Errorf("vector store: %s: line %d: %w", path, len(ids)+1, err)
		}
		ids = append(ids, id)
	}
	if len(ids) != count {
		return nil, fmt.Errorf("vector store: %s: %d ids, header says %d", path, len(ids), count)
	}
	return ids, nil
}

func readFloats(path string, n int) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v := make([]float32, n)
	b := f32bytes(v)
	if !littleEndian {
		b = make([]byte, 4*n)
	}
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("vector store: %s: %w", path, err)
	}
	if !littleEndian {
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	}
	return v, nil
}

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// f32bytes is v in the file layout: v's own memory on little-endian hosts
// (no copy of a matrix that may be gigabytes), else a converted copy.
func f32bytes(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
	}
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}
