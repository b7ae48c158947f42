package dataset

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const trecClassic = `<top>

<num> Number: 301
<title> International Organized Crime

<desc> Description:
Identify organizations that participate in international criminal
activity.

<narr> Narrative:
A relevant document must as a minimum identify the organization.

</top>

<top>
<num> Number: 302
<title> Topic: Poliomyelitis and Post-Polio
<desc> Description:
Is the disease of Poliomyelitis (polio) under control?
<narr> Narrative:
Relevant documents should contain data.
</top>
`

// closing tags, several fields on a line, extra fields, CRLF
const trecClosed = "<topics>\r\n" // not allowed: text outside <top>; used in error cases
const trecClosedOK = "<top><num>C001</num><title>Klimawandel</title>\r\n" +
	"<desc>Folgen des Klimawandels</desc><lang>de</lang></top>\r\n" +
	"<top>\r\n<num>C002</num>\r\n<title>Wahl  2024\r\n</title>\r\n<desc></desc>\r\n</top>\r\n"

func TestReadTopicsTSV(t *testing.T) {
	p := writeFile(t, "topics.tsv", "\xef\xbb\xbf1\tWhat is  the capital?\r\n\n q2 \t second query\n")
	for _, format := range []string{TopicsTSV, TopicsAuto, ""} {
		topics, err := ReadTopics(p, format, nil)
		require.NoError(t, err)
		assert.Equal(t, []Topic{{"1", "What is the capital?"}, {"q2", "second query"}}, topics)
	}
	gz := writeGzip(t, "topics.tsv.gz", "a\tb\n")
	topics, err := ReadTopics(gz, TopicsAuto, nil)
	require.NoError(t, err)
	assert.Equal(t, []Topic{{"a", "b"}}, topics)
}

func TestReadTopicsTREC(t *testing.T) {
	p := writeFile(t, "topics.301-302", trecClassic)
	for _, format := range []string{TopicsTREC, TopicsAuto} {
		topics, err := ReadTopics(p, format, nil)
		require.NoError(t, err)
		assert.Equal(t, []Topic{{"301", "International Organized Crime"}, {"302", "Poliomyelitis and Post-Polio"}}, topics)
	}
	topics, err := ReadTopics(p, TopicsTREC, []string{"title", "desc"})
	require.NoError(t, err)
	assert.Equal(t, Topic{"301", "International Organized Crime Identify organizations that participate in international criminal activity."}, topics[0])
	topics, err = ReadTopics(p, TopicsTREC, []string{"narr"})
	require.NoError(t, err)
	assert.Equal(t, Topic{"302", "Relevant documents should contain data."}, topics[1])

	p = writeFile(t, "topics.xml", trecClosedOK)
	topics, err = ReadTopics(p, TopicsAuto, []string{"title", "desc"})
	require.NoError(t, err)
	// an empty requested field is fine as long as the query is not empty
	assert.Equal(t, []Topic{{"C001", "Klimawandel Folgen des Klimawandels"}, {"C002", "Wahl 2024"}}, topics)

	gz := writeGzip(t, "topics.gz", trecClassic)
	topics, err = ReadTopics(gz, TopicsAuto, nil)
	require.NoError(t, err)
	assert.Len(t, topics, 2)
}

func TestReadTopicsErrors(t *testing.T) {
	cases := []struct {
		name, format, content string
		fields                []string
		line                  int
		contains              string
	}{
		{"tsv no tab", TopicsTSV, "1\tok\n2 no tab\n", nil, 2, "malformed topic line"},
		{"tsv three fields", TopicsAuto, "1\tok\textra\n", nil, 1, "got 3 tab-separated fields"},
		{"tsv duplicate", TopicsTSV, "1\ta\n2\tb\n\n1\tc\n", nil, 4, `duplicate topic id "1" (first at line 1)`},
		{"tsv empty qid", TopicsTSV, "1\ta\n \tb\n", nil, 2, "empty topic id"},
		{"tsv empty query", TopicsTSV, "1\ta\n2\t  \n", nil, 2, `topic "2" has an empty query`},
		{"tsv qid with space", TopicsTSV, "q 1\ta\n", nil, 1, "U+0020"},
		{"tsv invalid utf8", TopicsTSV, "1\ta\n2\t\xff\n", nil, 2, "invalid UTF-8"},
		{"trec text outside top", TopicsTREC, "<top><num>1</num><title>a</title></top>\nstray\n", nil, 2, "text outside <top>"},
		{"trec wrapper element", TopicsAuto, trecClosed + trecClosedOK, nil, 1, "<topics> outside <top>"},
		{"trec nested top", TopicsTREC, "<top>\n<num>1\n<top>\n", nil, 3, "missing </top> for the topic at line 1"},
		{"trec unclosed", TopicsTREC, "\n<top>\n<num>1\n<title>x\n", nil, 2, "not closed"},
		{"trec stray close", TopicsTREC, "</top>\n", nil, 1, "</top> without <top>"},
		{"trec no num", TopicsTREC, "<top>\n<title>x\n</top>\n", nil, 1, "without <num>"},
		{"trec empty num", TopicsTREC, "<top>\n<num> Number:\n<title>x\n</top>\n", nil, 2, "empty topic id"},
		{"trec duplicate", TopicsTREC, trecClassic + "<top>\n<num> Number: 301\n<title> again\n</top>\n", nil, 24, `duplicate topic id "301" (first at line 3)`},
		{"trec empty title", TopicsTREC, "<top>\n<num> 5\n<title>\n<desc> Description: d\n</top>\n", nil, 2, `topic "5" has an empty query`},
		{"trec missing field", TopicsTREC, trecClassic, []string{"title", "summary"}, 1, "has no <summary> field"},
		{"trec repeated field", TopicsTREC, "<top>\n<num>1\n<title>a\n<title>b\n</top>", nil, 4, "repeated"},
		{"trec text before field", TopicsTREC, "<top>\n oops\n<num>1\n</top>", nil, 2, "outside a topic field"},
		{"trec mismatched close", TopicsTREC, "<top><num>1</title></top>", nil, 1, "does not close"},
		{"trec num with space", TopicsTREC, "<top><num>1 2</num><title>x</title></top>", nil, 1, "U+0020"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, "topics.txt", c.content)
			_, err := ReadTopics(p, c.format, c.fields)
			requireInputErr(t, err, p, c.line, c.contains)
		})
	}
}

func TestReadTopicsWholeFileErrors(t *testing.T) {
	for _, content := range []string{"", "\n\n  \n"} {
		p := writeFile(t, "empty.tsv", content)
		_, err := ReadTopics(p, TopicsAuto, nil)
		requireInputErr(t, err, p, 0, "no topics")
	}
	p := writeFile(t, "t.tsv", "1\tx\n")
	_, err := ReadTopics(p, "xml", nil)
	requireInputErr(t, err, p, 0, "unknown topics format")
	_, err = ReadTopics(p, TopicsTREC, []string{"<bad>"})
	requireInputErr(t, err, p, 0, "invalid topic field name")
	missing := filepath.Join(t.TempDir(), "none.tsv")
	_, err = ReadTopics(missing, TopicsTSV, nil)
	requireInputErr(t, err, missing, 0, "cannot open")
}
