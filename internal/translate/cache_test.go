package translate

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestFileCachePersistsAndIgnoresTornLine(t *testing.T) {
	dir := t.TempDir()
	c, err := NewFileCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := CacheKey("t", Pair{"es", "en"}, "hola"), CacheKey("t", Pair{"es", "en"}, "adiós")
	if k1 == k2 || len(k1) != 64 || k1 == CacheKey("t2", Pair{"es", "en"}, "hola") {
		t.Fatal("keys must differ by text and translator")
	}
	if err := c.Put(k1, "hello\nworld \"q\""); err != nil {
		t.Fatal(err)
	}
	c.Put(k2, "goodbye")
	c.Close()
	// a crash in the middle of a write leaves a torn line in k1's shard
	shard := filepath.Join(dir, k1[:2]+".jsonl")
	f, _ := os.OpenFile(shard, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"k":"` + k1 + `","v":"tor`)
	f.Close()

	c2, _ := NewFileCache(dir)
	if v, ok := c2.Get(k1); !ok || v != "hello\nworld \"q\"" {
		t.Errorf("after reopen: %q %v", v, ok)
	}
	if v, ok := c2.Get(k2); !ok || v != "goodbye" {
		t.Errorf("k2: %q %v", v, ok)
	}
	// the next append starts on a fresh line, so it survives another reopen
	k3 := k1[:2] + strings.Repeat("0", 62)
	if err := c2.Put(k3, "three"); err != nil {
		t.Fatal(err)
	}
	c3, _ := NewFileCache(dir)
	if v, ok := c3.Get(k3); !ok || v != "three" {
		t.Errorf("after torn line: %q %v", v, ok)
	}
	if v, _ := c3.Get(k1); v != "hello\nworld \"q\"" {
		t.Errorf("torn line must not override: %q", v)
	}
}

func TestFileCacheConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	a, _ := NewFileCache(dir)
	b, _ := NewFileCache(dir) // a second "process": separate handles and maps
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := a
			if g%2 == 1 {
				c = b
			}
			for i := range 200 {
				k := CacheKey("t", Pair{"es", "en"}, fmt.Sprintf("%d-%d", g, i))
				if err := c.Put(k, strings.Repeat("x", i)+fmt.Sprint(g)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// b sees what a wrote (read on miss) and a fresh instance sees everything
	fresh, _ := NewFileCache(dir)
	for _, c := range []*FileCache{a, b, fresh} {
		for g := range 8 {
			for i := range 200 {
				k := CacheKey("t", Pair{"es", "en"}, fmt.Sprintf("%d-%d", g, i))
				if v, ok := c.Get(k); !ok || v != strings.Repeat("x", i)+fmt.Sprint(g) {
					t.Fatalf("missing %d-%d", g, i)
				}
			}
		}
	}
}

// TestFileCacheSeveralProcesses appends from child processes at the same time.
func TestFileCacheSeveralProcesses(t *testing.T) {
	if dir := os.Getenv("TRANSLATE_CACHE_CHILD_DIR"); dir != "" {
		c, _ := NewFileCache(dir)
		for i := range 300 {
			c.Put(CacheKey("t", Pair{}, os.Getenv("TRANSLATE_CACHE_CHILD")+fmt.Sprint(i)), "v")
		}
		return
	}
	dir := t.TempDir()
	var cmds []*exec.Cmd
	for p := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileCacheSeveralProcesses$")
		cmd.Env = append(os.Environ(), "TRANSLATE_CACHE_CHILD_DIR="+dir, fmt.Sprintf("TRANSLATE_CACHE_CHILD=p%d-", p))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := NewFileCache(dir)
	for p := range 3 {
		for i := range 300 {
			if _, ok := c.Get(CacheKey("t", Pair{}, fmt.Sprintf("p%d-%d", p, i))); !ok {
				t.Fatalf("lost p%d-%d", p, i)
			}
		}
	}
}

// countingTranslator reverses texts and counts calls.
type countingTranslator struct {
	calls, texts atomic.Int64
}

func (c *countingTranslator) ID(p Pair) string { return "counting/1" }
func (c *countingTranslator) Pairs(ctx context.Context) ([]Pair, error) {
	return []Pair{{"es", "en"}}, nil
}
func (c *countingTranslator) Translate(ctx context.Context, p Pair, texts []string) ([]string, error) {
	c.calls.Add(1)
	c.texts.Add(int64(len(texts)))
	out := make([]string, len(texts))
	for i, t := range texts {
		if t == "FAIL" {
			return nil, fmt.Errorf("boom")
		}
		out[i] = "EN(" + t + ")"
	}
	return out, nil
}

func TestBatcherStatsAndRerun(t *testing.T) {
	dir := t.TempDir()
	cache, _ := NewFileCache(dir)
	tr := &countingTranslator{}
	b := &Batcher{T: tr, Cache: cache, BatchSize: 3, Concurrency: 2}
	var texts []string
	for i := range 10 {
		texts = append(texts, fmt.Sprintf("frase %d", i))
	}
	texts = append(texts, "frase 1", "  ", "frase 2", "\n") // duplicates and whitespace
	out, st, err := b.Translate(context.Background(), Pair{"es", "en"}, texts)
	if err != nil {
		t.Fatal(err)
	}
	if out[1] != "EN(frase 1)" || out[10] != "EN(frase 1)" || out[11] != "  " || out[13] != "\n" {
		t.Errorf("out = %q", out)
	}
	if st != (Stats{Texts: 14, CacheHits: 0, Calls: 4, TranslatedTexts: 10}) {
		t.Errorf("first pass stats %+v", st)
	}
	// a re-run, even from a reopened cache, makes 0 calls
	cache2, _ := NewFileCache(dir)
	b2 := &Batcher{T: tr, Cache: cache2, BatchSize: 3}
	before := tr.calls.Load()
	out2, st2, err := b2.Translate(context.Background(), Pair{"es", "en"}, texts)
	if err != nil || strings.Join(out2, "|") != strings.Join(out, "|") {
		t.Fatalf("rerun %q %v", out2, err)
	}
	if st2.Calls != 0 || tr.calls.Load() != before || st2.CacheHits != 12 || st2.TranslatedTexts != 0 {
		t.Errorf("second pass stats %+v (want 0 calls, 12/12 non-blank texts from cache)", st2)
	}
	// errors propagate
	if _, _, err := b.Translate(context.Background(), Pair{"es", "en"}, []string{"a", "FAIL"}); err == nil {
		t.Error("want error")
	}
}

func TestBatcherDocument(t *testing.T) {
	tr := &countingTranslator{}
	b := &Batcher{T: tr, Cache: &MemCache{}}
	got, st, err := b.TranslateDocument(context.Background(), Pair{"es", "en"}, "Hola, Sr. Pérez. Adiós.\n\nOtra vez.")
	if err != nil {
		t.Fatal(err)
	}
	if want := "EN(Hola, Sr. Pérez.) EN(Adiós.)\nEN(Otra vez.)"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	if st.Calls != 1 || st.TranslatedTexts != 3 {
		t.Errorf("stats %+v", st)
	}
}
