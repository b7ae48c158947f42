package llmtest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Relevance scores a passage for a query (higher is more relevant).
type Relevance func(query, passage string) float64

// Passage is one numbered passage of a listwise prompt.
type Passage struct {
	ID   int // the number in "[i]"
	Text string
}

var passageLineRe = regexp.MustCompile(`^\[(\d+)\] ?`)

// ParseListwisePrompt extracts the query and the passages of a RankGPT-style
// conversation (one user turn "[i] passage" per passage) or a RankZephyr-style
// single user message ("[i] passage" lines between a prefix and the suffix).
// The query is the text after the last "Search Query: " up to ".\n" or
// ". \n" (or the end of the message).
func ParseListwisePrompt(msgs []Message) (query string, passages []Passage, err error) {
	found := false
	for _, m := range msgs {
		if m.Role != "user" {
			continue
		}
		if k := strings.LastIndex(m.Content, "Search Query: "); k >= 0 {
			rest := m.Content[k+len("Search Query: "):]
			end := len(rest)
			for _, sep := range []string{".\n", ". \n"} {
				if e := strings.Index(rest, sep); e >= 0 && e < end {
					end = e
				}
			}
			query, found = rest[:end], true
		}
		if loc := passageLineRe.FindStringSubmatchIndex(m.Content); loc != nil && loc[0] == 0 {
			// RankGPT: the whole turn is one passage
			id, _ := strconv.Atoi(m.Content[loc[2]:loc[3]])
			passages = append(passages, Passage{ID: id, Text: m.Content[loc[1]:]})
			continue
		}
		// RankZephyr: passage lines, continuation lines until the next passage or the suffix
		cur := -1
		for _, line := range strings.Split(m.Content, "\n") {
			if strings.HasPrefix(line, "Search Query: ") {
				cur = -1
				continue
			}
			if loc := passageLineRe.FindStringSubmatchIndex(line); loc != nil {
				id, _ := strconv.Atoi(line[loc[2]:loc[3]])
				passages = append(passages, Passage{ID: id, Text: line[loc[1]:]})
				cur = len(passages) - 1
				continue
			}
			if cur >= 0 {
				passages[cur].Text += "\n" + line
			}
		}
	}
	if !found {
		return "", nil, fmt.Errorf(`llmtest: listwise prompt without "Search Query: "`)
	}
	if len(passages) == 0 {
		return "", nil, fmt.Errorf("llmtest: listwise prompt without [i] passages")
	}
	for i := range passages {
		passages[i].Text = strings.TrimRight(passages[i].Text, "\n")
	}
	return query, passages, nil
}

// ListwiseByRelevance answers listwise prompts with "[a] > [b] > …", the
// passages ordered by rel descending (ties keep the prompt's order). A prompt
// it cannot parse gets HTTP 400.
func ListwiseByRelevance(rel Relevance) Answerer {
	return func(req ChatRequest) (string, error) {
		query, ps, err := ParseListwisePrompt(req.Messages)
		if err != nil {
			return "", &HTTPError{Status: http.StatusBadRequest, Message: err.Error()}
		}
		scores := make([]float64, len(ps))
		for i, p := range ps {
			scores[i] = rel(query, p.Text)
		}
		idx := make([]int, len(ps))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
		ids := make([]int, len(ps))
		for i, j := range idx {
			ids[i] = ps[j].ID
		}
		return FormatRanking(ids), nil
	}
}

const (
	pairPrefix = `Given a query "`
	pairMid    = `", which of the following two passages is more relevant to the query?` + "\n\nPassage A: \""
	pairSep    = "\"\n\nPassage B: \""
	pairSuffix = "\"\n\nOutput Passage A or Passage B:"
)

// ParsePairwisePrompt extracts query and passages from a PRP prompt:
// Given a query "{query}", which of the following two passages is more
// relevant to the query?\n\nPassage A: "{doc1}"\n\nPassage B: "{doc2}"\n\nOutput Passage A or Passage B:
func ParsePairwisePrompt(text string) (query, a, b string, ok bool) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, pairPrefix) || !strings.HasSuffix(text, pairSuffix) {
		return "", "", "", false
	}
	body := text[len(pairPrefix) : len(text)-len(pairSuffix)]
	m := strings.Index(body, pairMid)
	if m < 0 {
		return "", "", "", false
	}
	query, rest := body[:m], body[m+len(pairMid):]
	s := strings.LastIndex(rest, pairSep)
	if s < 0 {
		return "", "", "", false
	}
	return query, rest[:s], rest[s+len(pairSep):], true
}

// PairwiseByRelevance answers PRP prompts (last user message) with
// "Passage A" or "Passage B", whichever rel scores higher (ties: A). A prompt
// it cannot parse gets HTTP 400.
func PairwiseByRelevance(rel Relevance) Answerer { return PairwiseWithPositionBias(rel, 0) }

// PairwiseWithPositionBias is PairwiseByRelevance with bias added to passage
// A's score (bias > 0: a model favouring the first position; < 0: the second).
func PairwiseWithPositionBias(rel Relevance, bias float64) Answerer {
	return func(req ChatRequest) (string, error) {
		last := ""
		for _, m := range req.Messages {
			if m.Role == "user" {
				last = m.Content
			}
		}
		q, a, b, ok := ParsePairwisePrompt(last)
		if !ok {
			return "", &HTTPError{Status: http.StatusBadRequest, Message: "llmtest: not a pairwise prompt"}
		}
		if rel(q, a)+bias >= rel(q, b) {
			return "Passage A", nil
		}
		return "Passage B", nil
	}
}

// Embedding is the server's deterministic embedding: a unit vector of
// dimension dim drawn from a generator seeded by sha256(model, text).
func Embedding(model, text string, dim int) []float32 {
	sum := sha256.Sum256([]byte(model + "\x00" + text))
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
	v := make([]float32, dim)
	var norm float64
	for i := range v {
		x := rng.NormFloat64()
		v[i] = float32(x)
		norm += x * x
	}
	norm = math.Sqrt(norm)
	if norm == 0 {
		return v
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / norm)
	}
	return v
}

// TableRelevance is a Relevance from a table: passage text → score (0 when absent).
func TableRelevance(table map[string]float64) Relevance {
	return func(_, passage string) float64 { return table[passage] }
}
