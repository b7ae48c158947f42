package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/clirflow/clirflow/internal/kvcache"
)

// Cache stores translations by CacheKey.
type Cache = kvcache.Cache

// CacheKey is the sha256 (hex) of the translator ID, the pair and the text.
func CacheKey(translatorID string, p Pair, text string) string {
	h := sha256.New()
	for _, s := range []string{translatorID, p.Src, p.Tgt, text} {
		fmt.Fprintf(h, "%d:%s\x00", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// FileCache is the persistent, multi-process Cache (see kvcache.FileCache).
type FileCache = kvcache.FileCache

// NewFileCache opens (creating) a cache directory.
func NewFileCache(dir string) (*FileCache, error) { return kvcache.NewFileCache(dir) }

// MemCache is an in-memory Cache (tests, one-off runs); the zero value is ready
// for use.
type MemCache = kvcache.MemCache
