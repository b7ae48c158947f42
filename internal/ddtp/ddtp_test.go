package ddtp

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clirflow/clirflow/internal/dataset"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

// English: alpha has two versions (md5 a1 first, a2 second); beta and gamma share
// their long description (gamma with different case/wrapping); delta has an empty
// long description; eps and zeta share the short description "transitional
// package" with different long descriptions (ambiguous); eta and theta share
// short and long description (duplicate query text).
const fixtureEN = `Package: alpha
Description-md5: a1
Description-en: Alpha tool, old version
 Old alpha text.

Package: alpha
Description-md5: a2
Description-en: Alpha tool
 Alpha does things.
 .
 Second paragraph
 with two lines.
   verbatim line

Package: beta
Description-md5: b1
Description-en: Beta library
 Shared long
 description.

Package: gamma
Description-md5: g1
Description-en: Gamma library (dev files)
 shared LONG description.

Package: delta
Description-md5: d1
Description-en: Delta
 Delta long.

Package: eps
Description-md5: e1
Description-en: transitional package
 Eps moved.

Package: zeta
Description-md5: z1
Description-en: Transitional  package
 Zeta moved.

Package: eta
Description-md5: h1
Description-en: eta theta tool
 Same thing.

Package: theta
Description-md5: t1
Description-en: Eta theta tool
 Same thing.

Package: noxx
Description-md5: n1
Description-en: Only in English
 Not translated.
`

// German: alpha twice (the second stanza must be ignored); its md5 a2 points at
// the second English version. delta's long description is empty. orphan has no
// English description.
const fixtureDE = `Package: alpha
Description-md5: a2
Description-de: Alpha-Werkzeug
 Alpha macht Dinge.
 .
 Zweiter Absatz
 mit zwei Zeilen.
   wörtliche Zeile

Package: alpha
Description-md5: a1
Description-de: Alpha-Werkzeug, alt
 Alter Alpha-Text.

Package: beta
Description-md5: b1
Description-de: Beta-Bibliothek
 Gemeinsame lange Beschreibung.

Package: gamma
Description-md5: g1
Description-de: Gamma-Bibliothek
 Gemeinsame lange Beschreibung (Gamma).

Package: delta
Description-md5: d1
Description-de: Delta

Package: eps
Description-md5: e1
Description-de: Übergangspaket
 Eps ist umgezogen.

Package: zeta
Description-md5: z1
Description-de: Übergangspaket
 Zeta ist umgezogen.

Package: eta
Description-md5: h1
Description-de: Eta
 Dasselbe.

Package: theta
Description-md5: t1
Description-de: Theta
 Dasselbe.

Package: orphan
Description-md5: o1
Description-de: Waise
 Ohne Englisch.
`

func parse(t testing.TB, text, name string) []Stanza {
	t.Helper()
	var out []Stanza
	require.NoError(t, ReadTranslation(strings.NewReader(text), name, func(s Stanza) error {
		out = append(out, s)
		return nil
	}))
	return out
}

func TestReadTranslation(t *testing.T) {
	de := parse(t, fixtureDE, "Translation-de")
	require.Len(t, de, 10)
	a := de[0]
	assert.Equal(t, "alpha", a.Package)
	assert.Equal(t, "a2", a.MD5)
	assert.Equal(t, "de", a.Lang)
	assert.Equal(t, "Alpha-Werkzeug", a.Short)
	assert.Equal(t, 1, a.Line)
	assert.Equal(t, "Translation-de", a.File)
	assert.Equal(t, "Alpha macht Dinge.\nZweiter Absatz mit zwei Zeilen.\nwörtliche Zeile", a.LongText())
	assert.Equal(t, 10, de[1].Line)
	assert.Equal(t, "", de[4].LongText())
	assert.Equal(t, "Dasselbe.", de[8].LongText())
}

func TestReadTranslationErrors(t *testing.T) {
	cases := []struct {
		name, text string
		line       int
		contains   string
	}{
		{"malformed", "Package: a\nDescription-de: x\nno colon here\n", 3, "malformed line"},
		{"continuation outside", "Package: a\nDescription-de: x\n\n continued\n", 4, "continuation line outside a stanza"},
		{"no package", "Package: a\nDescription-de: x\n\nDescription-md5: 1\nDescription-de: y\n", 4, "without Package"},
		{"no description", "Package: a\nDescription-md5: 1\n\n", 1, "no Description-xx"},
		{"repeated field", "Package: a\nPackage: b\n", 2, "repeated"},
		{"two descriptions", "Package: a\nDescription-de: x\nDescription-fr: y\n", 3, "second description"},
		{"bad package name", "Package: a b\n", 1, "bad package name"},
		{"invalid utf8", "Package: a\nDescription-de: \xff\n", 2, "invalid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ReadTranslation(strings.NewReader(c.text), "T", func(Stanza) error { return nil })
			var ie *inputerr.Error
			require.True(t, errors.As(err, &ie), "%v", err)
			assert.Equal(t, "T", ie.File)
			assert.Equal(t, c.line, ie.Line, "%v", err)
			assert.Contains(t, err.Error(), c.contains)
		})
	}
}

func compress(t *testing.T, kind string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	switch kind {
	case Gzip:
		w = gzip.NewWriter(&buf)
	case XZ:
		xw, err := xz.NewWriter(&buf)
		require.NoError(t, err)
		w = xw
	case LZ4:
		w = lz4.NewWriter(&buf)
	default:
		return data
	}
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func TestOpenCompressed(t *testing.T) {
	want := parse(t, fixtureDE, "") // File is set per reader below
	dir := t.TempDir()
	for _, kind := range []string{Plain, Gzip, XZ, LZ4} {
		t.Run(kind, func(t *testing.T) {
			data := compress(t, kind, []byte(fixtureDE))
			assert.Equal(t, kind, Detect(data))
			// misleading extension: detection is by content
			p := filepath.Join(dir, "Translation-de-"+kind+".gz")
			require.NoError(t, os.WriteFile(p, data, 0o644))
			got, err := ReadFile(p)
			require.NoError(t, err)
			require.Len(t, got, len(want))
			for i := range got {
				assert.Equal(t, p, got[i].File)
				got[i].File = ""
			}
			assert.Equal(t, want, got)
		})
	}
	assert.Equal(t, Bzip2, Detect([]byte("BZh91AY&SY")))
	assert.Equal(t, Plain, Detect([]byte("BZ")))

	// a truncated compressed file is an input error, not a panic
	data := compress(t, XZ, []byte(strings.Repeat(fixtureDE, 50)))
	p := filepath.Join(dir, "trunc.xz")
	require.NoError(t, os.WriteFile(p, data[:len(data)/2], 0o644))
	_, err := ReadFile(p)
	require.Error(t, err)
	assert.True(t, inputerr.Is(err), "%v", err)

	p = filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(p, nil, 0o644))
	_, err = ReadFile(p)
	assert.True(t, inputerr.Is(err), "%v", err)
}

func build(t *testing.T, opts Options) *Collection {
	t.Helper()
	c, err := Build(parse(t, fixtureEN, "en"), parse(t, fixtureDE, "de"), opts)
	require.NoError(t, err)
	return c
}

func qrelsOf(c *Collection) map[string][]string {
	m := map[string][]string{}
	for _, q := range c.Qrels {
		m[q.QID] = append(m[q.QID], q.DocID)
	}
	return m
}

func TestBuild(t *testing.T) {
	c := build(t, Options{})
	assert.Equal(t, "de", c.Lang)
	// delta (empty long) is skipped; orphan (no English) stays as a distractor
	var ids []string
	for _, d := range c.Docs {
		ids = append(ids, d.ID)
		assert.Empty(t, d.Title)
	}
	assert.Equal(t, []string{"alpha", "beta", "eps", "eta", "gamma", "orphan", "theta", "zeta"}, ids)
	assert.Equal(t, "Alpha macht Dinge.\nZweiter Absatz mit zwei Zeilen.\nwörtliche Zeile", c.Docs[0].Text)

	// queries: alpha (English of md5 a2, not the first English stanza), beta,
	// gamma, one of eta/theta; not eps/zeta (ambiguous), delta, orphan, noxx
	queries := map[string]string{}
	for _, q := range c.Topics {
		queries[q.ID] = q.Query
	}
	assert.Len(t, queries, 4)
	assert.Equal(t, "Alpha tool", queries["q-alpha"])
	assert.Equal(t, "Beta library", queries["q-beta"])
	assert.Equal(t, "Gamma library (dev files)", queries["q-gamma"])
	_, hasEta := queries["q-eta"]
	_, hasTheta := queries["q-theta"]
	assert.True(t, hasEta != hasTheta, "exactly one of the duplicate queries: %v", queries)

	rel := qrelsOf(c)
	assert.Equal(t, []string{"alpha"}, rel["q-alpha"])
	assert.Equal(t, []string{"beta", "gamma"}, rel["q-beta"])
	assert.Equal(t, []string{"beta", "gamma"}, rel["q-gamma"])
	if hasEta {
		assert.Equal(t, []string{"eta", "theta"}, rel["q-eta"])
	} else {
		assert.Equal(t, []string{"eta", "theta"}, rel["q-theta"])
	}
	s := c.Stats
	assert.Equal(t, 1, s.EmptyLong)
	assert.Equal(t, 1, s.NoEnglish)
	assert.Equal(t, 2, s.Ambiguous)
	assert.Equal(t, 1, s.DuplicateQueries)
	assert.Equal(t, 5, s.Candidates)
	assert.Equal(t, 7, s.Qrels)
	assert.Equal(t, 2, s.MaxRelevant)
	assert.InDelta(t, 1.75, s.AvgRelevant(), 1e-9)
}

func TestBuildMD5Fallback(t *testing.T) {
	de := parse(t, "Package: alpha\nDescription-md5: zz\nDescription-de: A\n Text.\n", "de")
	c, err := Build(parse(t, fixtureEN, "en"), de, Options{})
	require.NoError(t, err)
	assert.Equal(t, 1, c.Stats.MD5Fallback)
	require.Len(t, c.Topics, 1)
	assert.Equal(t, "Alpha tool, old version", c.Topics[0].Query) // first English stanza
}

func TestBuildSampling(t *testing.T) {
	c := build(t, Options{Queries: 2, MaxDocs: 3})
	assert.Len(t, c.Topics, 2)
	docs := map[string]bool{}
	for _, d := range c.Docs {
		docs[d.ID] = true
	}
	for _, q := range c.Qrels {
		assert.True(t, docs[q.DocID], "relevant %s kept", q.DocID)
	}
	assert.GreaterOrEqual(t, len(c.Docs), 3)
	if len(c.Qrels) < 3 {
		assert.Len(t, c.Docs, 3)
	}

	c = build(t, Options{Queries: 100, MaxDocs: 1})
	assert.True(t, c.Stats.RelevantKeptOverMax)
	assert.Len(t, c.Docs, 5) // all relevant documents, nothing else

	// determinism, including the written bytes
	a, b := t.TempDir(), t.TempDir()
	require.NoError(t, build(t, Options{Queries: 3, MaxDocs: 5}).Write(a))
	require.NoError(t, build(t, Options{Queries: 3, MaxDocs: 5}).Write(b))
	for _, f := range []string{CorpusFile, TopicsFile, QrelsFile} {
		x, err := os.ReadFile(filepath.Join(a, f))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, f))
		require.NoError(t, err)
		assert.Equal(t, string(x), string(y), f)
	}
	// the seed changes the sample (for some seed among a few)
	base := build(t, Options{Queries: 2})
	changed := false
	for _, seed := range []string{"1", "2", "3", "4", "5"} {
		if !assert.ObjectsAreEqual(base.Topics, build(t, Options{Queries: 2, Seed: seed}).Topics) {
			changed = true
		}
	}
	assert.True(t, changed)
}

func TestBuildErrors(t *testing.T) {
	en := parse(t, fixtureEN, "en")
	_, err := Build(en, parse(t, fixtureDE+"\nPackage: x\nDescription-fr: y\n z\n", "de"), Options{})
	var ie *inputerr.Error
	require.True(t, errors.As(err, &ie), "%v", err)
	assert.Equal(t, "de", ie.File)
	assert.Equal(t, 54, ie.Line)

	_, err = Build(parse(t, fixtureDE, "notenglish"), parse(t, fixtureDE, "de"), Options{})
	require.True(t, errors.As(err, &ie), "%v", err)
	assert.Equal(t, "notenglish", ie.File)

	_, err = Build(en, parse(t, "Package: a\nDescription-de: x\n", "de"), Options{})
	require.True(t, errors.As(err, &ie), "%v", err)
	assert.Contains(t, err.Error(), "no documents")
}

func TestWriteFormat(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	c := build(t, Options{})
	require.NoError(t, c.Write(dir))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{CorpusFile, QrelsFile, TopicsFile}, names) // no temp files left
	corpus, err := os.ReadFile(filepath.Join(dir, CorpusFile))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(corpus), `{"id":"alpha","text":"Alpha macht Dinge.\nZweiter Absatz mit zwei Zeilen.\nwörtliche Zeile"}`+"\n"), string(corpus))
	topics, err := os.ReadFile(filepath.Join(dir, TopicsFile))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(topics), "q-alpha\tAlpha tool\n"), string(topics))
	qrels, err := os.ReadFile(filepath.Join(dir, QrelsFile))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(qrels), "q-alpha 0 alpha 1\nq-beta 0 beta 1\nq-beta 0 gamma 1\n"), string(qrels))

	// what was written reads back with the dataset readers
	checkCollection(t, dir, len(c.Docs), len(c.Topics), len(c.Qrels))
}

func TestMainCLI(t *testing.T) {
	dir := t.TempDir()
	lists := filepath.Join(dir, "lists")
	require.NoError(t, os.MkdirAll(lists, 0o755))
	files := map[string]string{
		"deb.debian.org_debian_dists_bookworm_main_i18n_Translation-en.lz4":                   LZ4,
		"deb.debian.org_debian_dists_bookworm_main_i18n_Translation-de.lz4":                   LZ4,
		"deb.debian.org_debian_dists_bookworm-updates_main_i18n_Translation-en.lz4":           LZ4,
		"deb.debian.org_debian-security_dists_bookworm-security_main_i18n_Translation-en.lz4": LZ4,
	}
	for name, kind := range files {
		src := fixtureEN
		if strings.Contains(name, "-de") {
			src = fixtureDE
		}
		require.NoError(t, os.WriteFile(filepath.Join(lists, name), compress(t, kind, []byte(src)), 0o644))
	}
	en, de, err := FindAptLists(lists, "de", "")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(lists, "deb.debian.org_debian_dists_bookworm_main_i18n_Translation-en.lz4"), en)
	assert.Equal(t, filepath.Join(lists, "deb.debian.org_debian_dists_bookworm_main_i18n_Translation-de.lz4"), de)
	_, _, err = FindAptLists(lists, "es", "")
	assert.Error(t, err)

	var stdout, stderr bytes.Buffer
	out := filepath.Join(dir, "out")
	code := Main([]string{"-apt-lists", lists, "-dist", "bookworm", "-lang", "de", "-out", out, "-queries", "3"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	assert.Contains(t, stdout.String(), "3 queries")
	checkCollection(t, out, -1, 3, -1)

	stdout.Reset()
	code = Main([]string{"-en", en, "-xx", de, "-lang", "de", "-out", out, "-max-docs", "4"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())

	for _, args := range [][]string{
		{},
		{"-lang", "de", "-out", out},
		{"-lang", "de", "-out", out, "-en", en},
		{"-lang", "d e", "-out", out, "-en", en, "-xx", de},
		{"-lang", "de", "-out", out, "-en", en, "-xx", de, "-queries", "0"},
		{"-lang", "de", "-out", out, "-en", en, "-xx", de, "-apt-lists", lists},
		{"-lang", "de", "-out", out, "-en", en, "-xx", de, "extra"},
		{"-bogus"},
	} {
		stderr.Reset()
		assert.Equal(t, 2, Main(args, &stdout, &stderr), "%v", args)
		assert.NotEmpty(t, stderr.String())
	}
	stderr.Reset()
	assert.Equal(t, 1, Main([]string{"-en", en, "-xx", de, "-lang", "fr", "-out", out}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "-lang is fr")
	stderr.Reset()
	assert.Equal(t, 1, Main([]string{"-en", en, "-xx", filepath.Join(dir, "none"), "-lang", "de", "-out", out}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "cannot open")
}

// checkCollection reads a written collection with the dataset readers and checks
// it is consistent: every qrels qid is a topic, every qrels docid is in the
// corpus, every topic has a relevant document. Negative counts are not checked.
func checkCollection(t *testing.T, dir string, docs, topics, qrels int) {
	t.Helper()
	ids := map[string]bool{}
	n, err := dataset.ReadCorpus(filepath.Join(dir, CorpusFile), dataset.FormatJSONL, func(d dataset.Document) error {
		ids[d.ID] = true
		if strings.TrimSpace(d.Text) == "" {
			t.Errorf("document %s is empty", d.ID)
		}
		return nil
	})
	require.NoError(t, err)
	if docs >= 0 {
		assert.Equal(t, docs, n)
	}
	tops, err := dataset.ReadTopics(filepath.Join(dir, TopicsFile), dataset.TopicsTSV, nil)
	require.NoError(t, err)
	if topics >= 0 {
		assert.Len(t, tops, topics)
	}
	qids := map[string]bool{}
	for _, q := range tops {
		qids[q.ID] = true
	}
	data, err := os.ReadFile(filepath.Join(dir, QrelsFile))
	require.NoError(t, err)
	judged := map[string]bool{}
	seen := map[string]bool{}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, line := range lines {
		f := strings.Fields(line)
		require.Len(t, f, 4, "qrels line %d", i+1)
		assert.True(t, qids[f[0]], "qrels line %d: qid %s is not a topic", i+1, f[0])
		assert.True(t, ids[f[2]], "qrels line %d: docid %s is not in the corpus", i+1, f[2])
		assert.Equal(t, "0", f[1])
		assert.Equal(t, "1", f[3])
		assert.False(t, seen[f[0]+" "+f[2]], "qrels line %d repeats a pair", i+1)
		seen[f[0]+" "+f[2]] = true
		judged[f[0]] = true
	}
	if qrels >= 0 {
		assert.Len(t, lines, qrels)
	}
	for q := range qids {
		assert.True(t, judged[q], "topic %s has no relevant document", q)
	}
}
