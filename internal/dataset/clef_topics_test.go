package dataset

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// English CLEF 2003 style topics with closing tags (UTF-8).
const clefTopicsEN = "<top>\n" +
	"<num>C141</num>\n" +
	"<EN-title>Letter Bomb for Kiesbauer</EN-title>\n" +
	"<EN-desc>Find information on the explosion of a letter bomb in the studio of\nthe TV presenter Arabella Kiesbauer.</EN-desc>\n" +
	"<EN-narr>Relevant documents report the explosion.</EN-narr>\n" +
	"</top>\n\n" +
	"<top>\n" +
	"<num> C142 </num>\n" +
	"<EN-title> Christo wraps the Reichstag </EN-title>\n" +
	"<EN-desc> Find reports on the wrapping of the Reichstag. </EN-desc>\n" +
	"<EN-narr> Any report is relevant. </EN-narr>\n" +
	"</top>\n"

// German topics without closing tags (old TREC style), ISO-8859-1: 0xFC = ü, 0xE4 = ä.
const clefTopicsDE = "<top>\n" +
	"<num> C141\n" +
	"<DE-title> Briefbombe f\xfcr Kiesbauer\n" +
	"<DE-desc> Finde Informationen \xfcber die Explosion einer Briefbombe.\n" +
	"<DE-narr> Relevant sind Berichte \xfcber Sch\xe4den.\n" +
	"</top>\n" +
	"<top>\n" +
	"<num> C142\n" +
	"<DE-title> Christo verh\xfcllt den Reichstag\n" +
	"<DE-desc> Berichte \xfcber die Verh\xfcllung.\n" +
	"<DE-narr> Alles ist relevant.\n" +
	"</top>\n"

// Russian, UTF-8.
const clefTopicsRU = "<top>\n<num>C141</num>\n<RU-title>Письмо-бомба</RU-title>\n<RU-desc>Найти информацию.</RU-desc>\n</top>\n"

func TestReadTopicsCLEF(t *testing.T) {
	en := writeFile(t, "topics-en.txt", clefTopicsEN)
	wantEN := []Topic{
		{"C141", "Letter Bomb for Kiesbauer Find information on the explosion of a letter bomb in the studio of the TV presenter Arabella Kiesbauer."},
		{"C142", "Christo wraps the Reichstag Find reports on the wrapping of the Reichstag."},
	}
	for _, opts := range []TopicOptions{{}, {Format: TopicsAuto}, {Format: TopicsCLEF}, {Format: TopicsCLEF, Lang: "EN"}, {Lang: "en"}, {Fields: []string{"title", "desc"}, Encoding: "utf-8"}} {
		topics, err := ReadTopicsWith(en, opts)
		require.NoError(t, err, "%+v", opts)
		assert.Equal(t, wantEN, topics, "%+v", opts)
	}
	// the old API detects CLEF too
	topics, err := ReadTopics(en, "", nil)
	require.NoError(t, err)
	assert.Equal(t, wantEN, topics)
	topics, err = ReadTopicsWith(en, TopicOptions{Fields: []string{"title"}})
	require.NoError(t, err)
	assert.Equal(t, []Topic{{"C141", "Letter Bomb for Kiesbauer"}, {"C142", "Christo wraps the Reichstag"}}, topics)
	topics, err = ReadTopicsWith(en, TopicOptions{Format: TopicsCLEF, Fields: []string{"narr"}})
	require.NoError(t, err)
	assert.Equal(t, Topic{"C142", "Any report is relevant."}, topics[1])

	de := writeFile(t, "topics-de.txt", clefTopicsDE)
	wantDE := []Topic{
		{"C141", "Briefbombe für Kiesbauer Finde Informationen über die Explosion einer Briefbombe."},
		{"C142", "Christo verhüllt den Reichstag Berichte über die Verhüllung."},
	}
	for _, opts := range []TopicOptions{{Encoding: "iso-8859-1"}, {Format: TopicsCLEF, Encoding: "latin1", Lang: "DE"}} {
		topics, err := ReadTopicsWith(de, opts)
		require.NoError(t, err, "%+v", opts)
		assert.Equal(t, wantDE, topics)
	}
	gz := writeGzip(t, "topics-de.gz", clefTopicsDE)
	topics, err = ReadTopicsWith(gz, TopicOptions{Encoding: "latin1", Lang: "de", Fields: []string{"narr"}})
	require.NoError(t, err)
	assert.Equal(t, []Topic{{"C141", "Relevant sind Berichte über Schäden."}, {"C142", "Alles ist relevant."}}, topics)

	ru := writeGzip(t, "topics-ru", clefTopicsRU)
	topics, err = ReadTopicsWith(ru, TopicOptions{Lang: "RU"})
	require.NoError(t, err)
	assert.Equal(t, []Topic{{"C141", "Письмо-бомба Найти информацию."}}, topics)

	// Latin-1 TSV topics
	tsv := writeFile(t, "t.tsv", "1\tBriefbombe f\xfcr Kiesbauer\n")
	topics, err = ReadTopicsWith(tsv, TopicOptions{Encoding: "latin1"})
	require.NoError(t, err)
	assert.Equal(t, []Topic{{"1", "Briefbombe für Kiesbauer"}}, topics)
}

func TestReadTopicsCLEFErrors(t *testing.T) {
	cases := []struct {
		name, content string
		opts          TopicOptions
		line          int
		contains      string
	}{
		{"wrong language", clefTopicsEN, TopicOptions{Lang: "DE"}, 3, "topic field <en-title> has language prefix EN, want DE"},
		{"mixed languages", clefTopicsEN + "<top><num>C143</num><DE-title>x</DE-title><DE-desc>y</DE-desc></top>\n",
			TopicOptions{}, 15, "has language prefix DE, but the file started with EN (line 3)"},
		{"latin1 read as utf-8", clefTopicsDE, TopicOptions{}, 3, "invalid UTF-8 (byte 40 of the file)"},
		{"missing desc", "<top>\n<num>C1</num>\n<EN-title>x</EN-title>\n</top>\n", TopicOptions{}, 1, `topic "C1" has no <desc> field`},
		{"duplicate", clefTopicsEN + "<top>\n<num>C141</num>\n<EN-title>x</EN-title><EN-desc>y</EN-desc>\n</top>\n", TopicOptions{}, 16, `duplicate topic id "C141" (first at line 2)`},
		{"mismatched close", "<top><num>C1</num><EN-title>x</EN-desc></top>", TopicOptions{Format: TopicsCLEF}, 1, "</desc> does not close"},
		{"unclosed top", "<top>\n<num>C1\n<EN-title>x\n<EN-desc>y\n", TopicOptions{}, 1, "not closed"},
		{"bad lang", clefTopicsEN, TopicOptions{Lang: "E N"}, 0, "invalid topic language"},
		{"bad encoding", clefTopicsEN, TopicOptions{Encoding: "koi8-r"}, 0, "unknown encoding"},
		{"bad format", clefTopicsEN, TopicOptions{Format: "sgml"}, 0, "want tsv, trec, clef or auto"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, "topics.txt", c.content)
			_, err := ReadTopicsWith(p, c.opts)
			requireInputErr(t, err, p, c.line, c.contains)
		})
	}
}
