// Package tokens holds the process's tiktoken encodings: built once from the
// offline BPE files embedded by tiktoken-go-loader (no network) and shared
// by every package that counts or truncates tokens (llm, embed, rerank).
// Each encoding's tables take tens of megabytes and a noticeable time to
// build; one copy per process is enough.
package tokens

import (
	"fmt"
	"sync"

	tiktoken "github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

var (
	loaderOnce sync.Once
	mu         sync.Mutex
	cache      = map[string]*tiktoken.Tiktoken{}
)

// Encoding returns the tiktoken encoding name ("cl100k_base", "o200k_base",
// …), building it on first use. An unknown name is an error.
func Encoding(name string) (*tiktoken.Tiktoken, error) {
	loaderOnce.Do(func() { tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader()) })
	mu.Lock()
	defer mu.Unlock()
	if enc, ok := cache[name]; ok {
		return enc, nil
	}
	enc, err := get(name)
	if err != nil {
		return nil, fmt.Errorf("tiktoken encoding %q: %w", name, err)
	}
	cache[name] = enc
	return enc, nil
}

func get(name string) (enc *tiktoken.Tiktoken, err error) {
	defer func() { // tiktoken-go panics on some malformed inputs; keep that an error
		if r := recover(); r != nil {
			enc, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return tiktoken.GetEncoding(name)
}
