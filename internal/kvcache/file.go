package kvcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// FileCache is a persistent Cache: 256 append-only JSON-lines shards
// (dir/xx.jsonl, xx = first two hex digits of the key; other keys go to a
// hashed shard). Each Put is one O_APPEND write of one line, so goroutines and
// several processes can append to the same directory. A shard is loaded on
// first use; on a miss, lines appended since (by other processes) are read
// before answering. A torn last line (crash during a write) is ignored, and the
// next Put starts on a fresh line. Later lines win.
type FileCache struct {
	dir    string
	shards [256]cacheShard
}

type cacheShard struct {
	mu          sync.Mutex
	loaded      bool
	m           map[string]string
	offset      int64 // bytes consumed (up to the last complete line)
	needNewline bool  // the file ends in a torn line
	f           *os.File
}

type cacheLine struct {
	K string `json:"k"`
	V string `json:"v"`
}

// NewFileCache opens (creating) a cache directory and its shard files.
func NewFileCache(dir string) (*FileCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("translation cache: %w", err)
	}
	c := &FileCache{dir: dir}
	if err := c.createShards(); err != nil {
		return nil, fmt.Errorf("translation cache: %w", err)
	}
	return c, nil
}

// createShards creates the shard files a new cache lacks. Creating files is
// dear on ext4 while others are written (256 creations were 0.11 s of a
// reranking benchmark's CPU); made here, when a worker starts, they are
// not paid for by the first experiment's answers.
func (c *FileCache) createShards() error {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	have := make(map[string]bool, len(entries))
	for _, e := range entries {
		have[e.Name()] = true
	}
	for i := range c.shards {
		if have[filepath.Base(c.path(i))] {
			continue
		}
		f, err := os.OpenFile(c.path(i), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

func shardOf(key string) int {
	if len(key) >= 2 {
		if b, err := hex.DecodeString(key[:2]); err == nil {
			return int(b[0])
		}
	}
	s := sha256.Sum256([]byte(key))
	return int(s[0])
}

func (c *FileCache) path(i int) string { return filepath.Join(c.dir, fmt.Sprintf("%02x.jsonl", i)) }

// refresh reads lines appended after s.offset. Caller holds s.mu.
func (c *FileCache) refresh(i int, s *cacheShard) error {
	if s.m == nil {
		s.m = map[string]string{}
	}
	f, err := os.Open(c.path(i))
	if os.IsNotExist(err) {
		s.loaded = true
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(s.offset, io.SeekStart); err != nil {
		return err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	s.loaded = true
	last := bytes.LastIndexByte(data, '\n')
	complete := data[:last+1]
	tail := data[last+1:]
	s.needNewline = len(tail) > 0
	for len(complete) > 0 {
		nl := bytes.IndexByte(complete, '\n')
		line := complete[:nl]
		complete = complete[nl+1:]
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var l cacheLine
		if json.Unmarshal(line, &l) != nil || l.K == "" {
			continue // a torn line followed by later appends: skip it
		}
		s.m[l.K] = l.V
	}
	s.offset += int64(last + 1)
	return nil
}

// Get returns a cached translation.
func (c *FileCache) Get(key string) (string, bool) {
	i := shardOf(key)
	s := &c.shards[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		if c.refresh(i, s) != nil {
			return "", false
		}
	}
	if v, ok := s.m[key]; ok {
		return v, true
	}
	if st, err := os.Stat(c.path(i)); err == nil && st.Size() > s.offset {
		if c.refresh(i, s) == nil {
			v, ok := s.m[key]
			return v, ok
		}
	}
	return "", false
}

// Put appends a translation (one write of one line).
func (c *FileCache) Put(key, value string) error {
	i := shardOf(key)
	s := &c.shards[i]
	line, err := json.Marshal(cacheLine{K: key, V: value})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		if err := c.refresh(i, s); err != nil {
			return fmt.Errorf("translation cache: %w", err)
		}
	}
	if s.f == nil {
		f, err := os.OpenFile(c.path(i), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("translation cache: %w", err)
		}
		s.f = f
	}
	buf := make([]byte, 0, len(line)+2)
	if s.needNewline {
		buf = append(buf, '\n')
	}
	buf = append(append(buf, line...), '\n')
	if _, err := s.f.Write(buf); err != nil {
		return fmt.Errorf("translation cache: %w", err)
	}
	// When the line landed right after what was read (nothing else was
	// appended in between), it counts as read: a later miss in this shard
	// does not open and read the process's own lines again.
	if end, err := s.f.Seek(0, io.SeekCurrent); err == nil && end == s.offset+int64(len(buf)) {
		s.offset = end
	}
	s.needNewline = false
	s.m[key] = value
	return nil
}

// Close closes the shard files (the cache stays usable: they reopen on Put).
func (c *FileCache) Close() error {
	var first error
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		if s.f != nil {
			if err := s.f.Close(); err != nil && first == nil {
				first = err
			}
			s.f = nil
		}
		s.mu.Unlock()
	}
	return first
}
