package translate

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func needFreeDict(t testing.TB) {
	need(t, "FreeDict eng-deu (dict-freedict-eng-deu)", fileExists("/usr/share/dictd/freedict-eng-deu.index") && fileExists("/usr/share/dictd/freedict-eng-deu.dict.dz"))
}

func TestDictionaryFreeDict(t *testing.T) {
	needFreeDict(t)
	d, err := NewDictionary(DictionaryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	p := Pair{"en", "de"}
	for q, want := range map[string]string{
		"house":                "house Haus",
		"House":                "House Haus",
		"file system":          "file system Dateisystem", // multi-word entry, longest first
		"linux 42":             "linux 42",                // untranslatable words kept as they are
		"software":             "software",                // translation equal to the word: once
		"linux file system 42": "linux file system Dateisystem 42",
	} {
		got, err := d.TranslateQuery(p, q)
		if err != nil || got != want {
			t.Errorf("%q → %q (%v), want %q", q, got, err, want)
		}
	}
	no := false
	d2, _ := NewDictionary(DictionaryConfig{KeepOriginal: &no, Senses: 3})
	got, err := d2.TranslateQuery(p, "house linux")
	if err != nil {
		t.Fatal(err)
	}
	terms := strings.Fields(got)
	if !slices.Contains(terms, "Haus") || slices.Contains(terms, "house") || !slices.Contains(terms, "linux") || len(terms) < 3 {
		t.Errorf("3 senses, no originals: %q", got)
	}
	tr, _ := d.Lookup(p, "computer", 1)
	if len(tr) != 1 || tr[0] != "Computer" {
		t.Errorf("computer → %q (markup <masc> and [comp.] must go)", tr)
	}
	out, err := d.Translate(context.Background(), p, []string{"house", "free software"})
	if err != nil || len(out) != 2 || out[0] != "house Haus" {
		t.Errorf("Translate = %q %v", out, err)
	}
	ps, err := d.Pairs(context.Background())
	if err != nil || !slices.Contains(ps, p) {
		t.Errorf("Pairs = %v %v", ps, err)
	}
	if id := d.ID(p); !strings.Contains(id, "eng-deu") || !strings.Contains(id, "senses=1") {
		t.Errorf("ID = %q", id)
	}
	_, err = d.Translate(context.Background(), Pair{"en", "yo"}, []string{"x"})
	if !IsPermanent(err) || !strings.Contains(err.Error(), "dict-freedict-eng-yor") {
		t.Errorf("missing dictionary: %v", err)
	}
}

func TestParseEntry(t *testing.T) {
	body := "bank /bˈaŋk/\nBankinstitut <neut>, Bank <fem> [fin.]\n      \"the presenting bank\"  - die vorlegende Bank\n see: {banks}\n"
	if got := parseEntry(body); !slices.Equal(got, []string{"Bankinstitut"}) {
		t.Errorf("got %q", got)
	}
	numbered := "run /r/\n1. Lauf <m>; Rennen\n2. (Strom) Fluss <m>\n   Note: x\n"
	if got := parseEntry(numbered); !slices.Equal(got, []string{"Lauf", "Fluss"}) {
		t.Errorf("numbered: %q", got)
	}
	if got := parseEntry("to /t/\ngegenüber jdm./einer Sache <prp>\n"); !slices.Equal(got, []string{"gegenüber"}) {
		t.Errorf("placeholders: %q", got)
	}
}

func TestDictionarySmallFiles(t *testing.T) {
	// a hand-made dictd database: plain .dict, dictd base64 offsets
	dir := t.TempDir()
	entries := []struct{ head, body string }{
		{"cat", "cat /kat/\nKatze <fem>\n"},
		{"cat", "cat /kat/\nKater <masc>, Mieze\n      \"a b\" - c d\n see: {cats}\n"},
		{"file system", "file system\nDateisystem <neut> [comp.]\n"},
	}
	var data, index strings.Builder
	enc := func(n int) string {
		if n == 0 {
			return "A"
		}
		s := ""
		for n > 0 {
			s = string(dictB64Alphabet[n%64]) + s
			n /= 64
		}
		return s
	}
	for _, e := range entries {
		index.WriteString(e.head + "\t" + enc(data.Len()) + "\t" + enc(len(e.body)) + "\n")
		data.WriteString(e.body)
	}
	os.WriteFile(filepath.Join(dir, "freedict-eng-deu.index"), []byte(index.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "freedict-eng-deu.dict"), []byte(data.String()), 0o644)
	d, _ := NewDictionary(DictionaryConfig{Dir: dir, Senses: 2})
	got, err := d.TranslateQuery(Pair{"en", "de"}, "Cat in the file system!")
	if want := "Cat Kater Katze in the file system Dateisystem"; err != nil || got != want {
		t.Errorf("got %q %v, want %q", got, err, want)
	}
	if _, err := NewDictionary(DictionaryConfig{Senses: -1}); !IsPermanent(err) || !strings.Contains(err.Error(), "senses") {
		t.Errorf("bad senses: %v", err)
	}
}
