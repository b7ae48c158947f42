package analysis

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func analyze(t *testing.T, lang, text string) []string {
	t.Helper()
	a, err := ForLanguage(lang)
	require.NoError(t, err)
	return a.Analyze(text)
}

func TestForLanguageUnknown(t *testing.T) {
	_, err := ForLanguage("xx")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "xx")
	for _, code := range []string{"en", "de", "fr", "ha", "none"} {
		assert.Contains(t, err.Error(), code)
	}
}

func TestLanguagesAndVersions(t *testing.T) {
	langs := Languages()
	for _, want := range []string{"en", "de", "fr", "it", "es", "fi", "ru", "nl", "sv", "pt", "da", "no", "hu", "ha", "so", "sw", "yo", "none", "whitespace"} {
		assert.Contains(t, langs, want)
	}
	seen := map[string]string{}
	for _, l := range langs {
		a, err := ForLanguage(l)
		require.NoError(t, err, l)
		assert.Equal(t, l, a.Language())
		assert.NotEmpty(t, a.Version())
		if a.Version() != "whitespace-lowercase/"+analyzerFamilyVersion {
			prev, dup := seen[a.Version()]
			assert.False(t, dup, "version of %s equals version of %s", l, prev)
			seen[a.Version()] = l
		}
	}
	// Codes are case-insensitive and analyzers are shared.
	a1, err := ForLanguage(" EN ")
	require.NoError(t, err)
	a2, err := ForLanguage("en")
	require.NoError(t, err)
	assert.Same(t, a1, a2)
}

func TestStopwordFilesWellFormed(t *testing.T) {
	sizes := map[string]int{"en.txt": 33, "de.txt": 231, "nl.txt": 101, "sv.txt": 114, "it.txt": 279, "pt.txt": 203, "ru.txt": 159, "da.txt": 94}
	entries, err := stopFS.ReadDir("stopwords")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(entries), 13)
	for _, e := range entries {
		data, err := stopFS.ReadFile("stopwords/" + e.Name())
		require.NoError(t, err)
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		seen := map[string]bool{}
		for _, w := range lines {
			assert.NotEmpty(t, w, e.Name())
			assert.Equal(t, strings.ToLower(strings.TrimSpace(w)), w, "%s: %q", e.Name(), w)
			assert.NotContains(t, w, "|", e.Name())
			assert.False(t, seen[w], "%s: duplicate %q", e.Name(), w)
			seen[w] = true
		}
		if n, ok := sizes[e.Name()]; ok {
			assert.Len(t, lines, n, e.Name())
		}
	}
}

func TestEnglish(t *testing.T) {
	// Lowercasing, Lucene's 33 stop words, possessives, Porter stems.
	assert.Equal(t, []string{"run", "librari", "quick", "fox"},
		analyze(t, "en", "Running LIBRARIES: the quick foxes"))
	assert.Equal(t, []string{"john", "book"}, analyze(t, "en", "John's book"))
	assert.Equal(t, []string{"john", "book"}, analyze(t, "en", "JOHN’S books"))
	assert.Equal(t, []string{"student", "caress", "poni", "connect"},
		analyze(t, "en", "students' caresses ponies connection"))
	// All 33 stop words disappear; "not"-like words outside the set stay.
	assert.Empty(t, analyze(t, "en", "a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with"))
	assert.Equal(t, []string{"which", "would"}, analyze(t, "en", "which would"))
	assert.Nil(t, analyze(t, "en", ""))
	assert.Nil(t, analyze(t, "en", " ,.;!? -- "))
}

func TestTokenizer(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"don't stop", []string{"don't", "stop"}},
		{"U.S.A. e-mail", []string{"u.s.a", "e", "mail"}},
		{"pi=3.14, n=1,000,000.", []string{"pi", "3.14", "n", "1,000,000"}},
		{"a,b 1:2 x_y _z", []string{"a", "b", "1", "2", "x_y", "z"}},
		{"end. Start", []string{"end", "start"}},
		{"abc123 123abc", []string{"abc123", "123abc"}},
		{"日本語", []string{"日", "本", "語"}},
		{"naïve café", []string{"naïve", "café"}},
		{"cafe\u0301!", []string{"cafe\u0301"}},
		{"\xff\xfeabc\xff", []string{"abc"}},
	}
	// The raw tokenizer output, through a pipeline without stop words or
	// stemmer.
	p := &pipeline{lang: "test", cache: newTermCache()}
	for _, c := range cases {
		assert.Equal(t, c.want, p.Analyze(c.in), c.in)
	}
}

func TestWhitespaceLanguages(t *testing.T) {
	for _, l := range []string{"ha", "so", "sw", "yo", "none", "whitespace"} {
		assert.Equal(t, []string{"habari", "za", "dunia,", "the", "running"},
			analyze(t, l, " Habari\tZA\ndunia,  the RUNNING "), l)
	}
	// Non-breaking space is not whitespace for Java.
	assert.Equal(t, []string{"a\u00a0b", "c"}, analyze(t, "sw", "a\u00a0b\u2003c"))
}

func TestSnowballLanguages(t *testing.T) {
	cases := []struct {
		lang, in string
		want     []string
	}{
		// German: "die", "und" are stop words; Häuser -> häus (R1 "er"
		// removed) -> haus (postlude maps ä to a); ß is rewritten to ss.
		{"de", "Die Häuser und die Bäume", []string{"haus", "baum"}},
		{"de", "Straße", []string{"strass"}},
		// French: elision, stop words, plural "chevaux" -> "cheval".
		{"fr", "L'avion et les chevaux", []string{"avion", "cheval"}},
		{"fr", "jusqu'à", nil},
		{"it", "dell'arte e gli amici", []string{"arte", "amic"}},
		{"es", "Los niños y las casas", []string{"niñ", "cas"}},
		{"pt", "as casas e os gatos", []string{"cas", "gat"}},
		{"nl", "de huizen en het boek", []string{"huiz", "boek"}},
		{"sv", "husen och bilarna", []string{"hus", "bil"}},
		{"fi", "kaupungissa ja taloissa", []string{"kaupung", "talo"}},
		{"ru", "Книги и журналы", []string{"книг", "журнал"}},
		{"da", "husene og bilerne", []string{"hus", "bil"}},
		{"no", "husene og bilene", []string{"hus", "bil"}},
		{"hu", "a házak", []string{"ház"}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, analyze(t, c.lang, c.in), "%s %q", c.lang, c.in)
	}
}

func TestAppendTokensReusesSlice(t *testing.T) {
	a, err := ForLanguage("en")
	require.NoError(t, err)
	ap := a.(TokenAppender)
	buf := make([]string, 0, 16)
	out := ap.AppendTokens(buf[:0], "running dogs")
	assert.Equal(t, []string{"run", "dog"}, out)
	out = ap.AppendTokens(out, "cats")
	assert.Equal(t, []string{"run", "dog", "cat"}, out)
	allocs := testing.AllocsPerRun(100, func() { buf = ap.AppendTokens(buf[:0], "The running dogs chased cats across libraries") })
	assert.Zero(t, allocs)
}

func TestCacheEvictionKeepsResultsCorrect(t *testing.T) {
	p := &pipeline{lang: "test", cache: newTermCache()}
	var sb strings.Builder
	for i := 0; i < cacheShards*cacheShardCap*2; i++ {
		sb.WriteString("w")
		sb.WriteString(strings.Repeat("x", i%7))
		sb.WriteByte(byte('a' + i%26))
		sb.WriteByte(byte('a' + (i/26)%26))
		sb.WriteByte(byte('a' + (i/676)%26))
		sb.WriteByte(' ')
	}
	text := sb.String()
	got := p.Analyze(text)
	assert.Equal(t, strings.Fields(text), got)
	for i := range p.cache.shards {
		assert.LessOrEqual(t, len(p.cache.shards[i].m), cacheShardCap)
	}
}

func TestConcurrentUse(t *testing.T) {
	a, err := ForLanguage("de")
	require.NoError(t, err)
	want := a.Analyze("Die Häuser und Bäume der Stadt laufen")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				assert.Equal(t, want, a.Analyze("Die Häuser und Bäume der Stadt laufen"))
			}
		}()
	}
	wg.Wait()
}

func BenchmarkAnalyzeEnglish(b *testing.B) {
	a, _ := ForLanguage("en")
	ap := a.(TokenAppender)
	text := strings.Repeat("The quick brown foxes were running over the lazy dogs' libraries, 3.14 times. ", 8)
	var buf []string
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		buf = ap.AppendTokens(buf[:0], text)
	}
}

// refStandard is the standard tokenizer as first written (a reference for
// nextStandard, which has an ASCII fast path).
func refStandard(text string) []string {
	var out []string
	i := 0
	n := len(text)
	for i < n {
		r, size := decode(text, i)
		cls := classOf(r)
		if cls == clsIdeo {
			out = append(out, text[i:i+size])
			i += size
			continue
		}
		if cls != clsLetter && cls != clsDigit {
			i += size
			continue
		}
		start := i
		prev := cls
		i += size
	scan:
		for i < n {
			r, size = decode(text, i)
			switch c := classOf(r); c {
			case clsLetter, clsDigit:
				prev = c
				i += size
			case clsMark:
				i += size
			case clsJoiner, clsUnderscore:
				if i+size >= n {
					break scan
				}
				r2, size2 := decode(text, i+size)
				c2 := classOf(r2)
				var ok bool
				if c == clsUnderscore {
					ok = c2 == clsLetter || c2 == clsDigit
				} else {
					f := joinFlags(r)
					ok = (prev == clsLetter && c2 == clsLetter && f&joinLetters != 0) ||
						(prev == clsDigit && c2 == clsDigit && f&joinDigits != 0)
				}
				if !ok {
					break scan
				}
				prev = c2
				i += size + size2
			default:
				break scan
			}
		}
		out = append(out, text[start:i])
	}
	return out
}

// randomTexts are texts drawn from an alphabet of the characters the
// tokenizers and filters treat specially.
func randomTexts(n int) []string {
	alphabet := []string{"a", "b", "S", "s", "l", "L", "d", "e", "1", "9", "'", ".", ":", ",", ";", "_", " ", "\t", "\n",
		"-", "!", "é", "À", "ß", "日", "の", "\u0301", "\u2019", "\uFF07", "\u00B7", "\u203F", "\u00A0", "\u2003", "\xff",
		"\xc3", "\xc0\x80", "\xdf\xbf", "\u0300", "\u037E", "\u0589",
		"dell'", "all'", "l'", "qu'", "John's", "the ", "Running ", "case ", "CASA", "jusqu'", "и ", "Книги"}
	r := rand.New(rand.NewPCG(7, 11))
	texts := make([]string, n)
	for i := range texts {
		var sb strings.Builder
		for j := r.IntN(40); j > 0; j-- {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		texts[i] = sb.String()
	}
	return texts
}

func TestRawTokens(t *testing.T) {
	texts := randomTexts(20000)
	p := &pipeline{lang: "test", cache: newTermCache()}
	for _, text := range texts {
		require.Equal(t, refStandard(text), p.AppendRawTokens(nil, text), "%q", text)
	}
	// For every analyzer, the terms are the composition of the raw tokens
	// and Term.
	for _, l := range Languages() {
		a, err := ForLanguage(l)
		require.NoError(t, err)
		rt, ok := a.(RawTokenizer)
		require.True(t, ok, l)
		for _, text := range texts[:4000] {
			var want []string
			for _, raw := range rt.AppendRawTokens(nil, text) {
				if term, ok := rt.Term(raw); ok {
					want = append(want, term)
				}
			}
			require.Equal(t, want, a.Analyze(text), "%s %q", l, text)
		}
	}
}
