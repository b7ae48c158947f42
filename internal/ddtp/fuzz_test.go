package ddtp

import (
	"bytes"
	"io"
	"testing"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// Reading and building must never panic; bad input is an *inputerr.Error.
func FuzzTranslation(f *testing.F) {
	f.Add([]byte(fixtureDE))
	f.Add([]byte("Package: a\nDescription-de: x\n .\n  v\n"))
	f.Add([]byte{0x04, 0x22, 0x4d, 0x18, 0, 0})
	f.Add([]byte{0xfd, '7', 'z', 'X', 'Z', 0x00, 1, 2})
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	f.Add([]byte("BZh9xyz"))
	en := parse(f, fixtureEN, "en")
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "in")
		if err != nil {
			if !inputerr.Is(err) {
				t.Fatalf("not an input error: %v", err)
			}
			return
		}
		var xx []Stanza
		err = ReadTranslation(io.LimitReader(r, 1<<20), "in", func(s Stanza) error {
			xx = append(xx, s)
			return nil
		})
		if err != nil {
			if !inputerr.Is(err) {
				t.Fatalf("not an input error: %v", err)
			}
			return
		}
		if len(xx) == 0 {
			return
		}
		if _, err := Build(en, xx, Options{Queries: 3, MaxDocs: 2}); err != nil && !inputerr.Is(err) {
			t.Fatalf("build: not an input error: %v", err)
		}
	})
}
