package rerank

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
)

// Message is one chat message of a prompt.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Chat roles.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// PairwisePromptName is the name of the pairwise (PRP) prompt; PromptID accepts it.
const PairwisePromptName = "prp"

//go:embed prompts/*.yaml
var promptFS embed.FS

// promptTemplate is one prompt file of prompts/. Listwise prompts are either single-turn (one user
// message: prefix, body per passage, suffix) or multi-turn (prefix_assistant and body_assistant set:
// the prefix and every passage are separate user turns, each answered by the assistant text, and the
// suffix is the last user turn). Placeholders: {num} and {query} in prefix and suffix, {rank} and
// {passage} in body, {rank} in body_assistant; {query}, {doc1}, {doc2} in the pairwise user message.
type promptTemplate struct {
	Name            string `yaml:"name"`
	Kind            string `yaml:"kind"` // listwise | pairwise
	System          string `yaml:"system"`
	Prefix          string `yaml:"prefix"`
	PrefixAssistant string `yaml:"prefix_assistant"`
	Body            string `yaml:"body"`
	BodyAssistant   string `yaml:"body_assistant"`
	Suffix          string `yaml:"suffix"`
	User            string `yaml:"user"`

	id string
}

var prompts = mustLoadPrompts()

func mustLoadPrompts() map[string]*promptTemplate {
	m, err := loadPrompts()
	if err != nil {
		panic("rerank: embedded prompts: " + err.Error())
	}
	return m
}

func loadPrompts() (map[string]*promptTemplate, error) {
	entries, err := promptFS.ReadDir("prompts")
	if err != nil {
		return nil, err
	}
	out := map[string]*promptTemplate{}
	for _, e := range entries {
		data, err := promptFS.ReadFile(path.Join("prompts", e.Name()))
		if err != nil {
			return nil, err
		}
		var t promptTemplate
		if err := yaml.UnmarshalWithOptions(data, &t, yaml.Strict()); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		if t.Name+".yaml" != e.Name() {
			return nil, fmt.Errorf("%s: name %q does not match the file name", e.Name(), t.Name)
		}
		if err := t.validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		t.id = t.hash()
		out[t.Name] = &t
	}
	return out, nil
}

func (t *promptTemplate) validate() error {
	check := func(field, s string, allowed ...string) error {
		names, err := placeholders(s)
		if err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
		for _, n := range names {
			if !slices.Contains(allowed, n) {
				return fmt.Errorf("%s: unknown placeholder {%s}", field, n)
			}
		}
		return nil
	}
	switch t.Kind {
	case "listwise":
		if t.User != "" {
			return fmt.Errorf("listwise prompt with a user field")
		}
		if !strings.Contains(t.Body, "{passage}") || !strings.Contains(t.Body, "{rank}") {
			return fmt.Errorf("body needs {rank} and {passage}")
		}
		if (t.PrefixAssistant == "") != (t.BodyAssistant == "") {
			return fmt.Errorf("prefix_assistant and body_assistant go together (multi-turn)")
		}
		for _, c := range []struct{ f, s string }{{"system", t.System}, {"prefix_assistant", t.PrefixAssistant}} {
			if err := check(c.f, c.s); err != nil {
				return err
			}
		}
		if err := check("prefix", t.Prefix, "num", "query"); err != nil {
			return err
		}
		if err := check("suffix", t.Suffix, "num", "query"); err != nil {
			return err
		}
		if err := check("body", t.Body, "rank", "passage"); err != nil {
			return err
		}
		return check("body_assistant", t.BodyAssistant, "rank")
	case "pairwise":
		if t.Prefix != "" || t.Body != "" || t.Suffix != "" || t.PrefixAssistant != "" || t.BodyAssistant != "" {
			return fmt.Errorf("pairwise prompt with listwise fields")
		}
		if err := check("system", t.System); err != nil {
			return err
		}
		return check("user", t.User, "query", "doc1", "doc2")
	default:
		return fmt.Errorf("unknown kind %q", t.Kind)
	}
}

// hash is the content hash of what the prompt sends (not of the file: comments do not count).
func (t *promptTemplate) hash() string {
	h := sha256.New()
	for _, s := range []string{t.Kind, t.System, t.Prefix, t.PrefixAssistant, t.Body, t.BodyAssistant, t.Suffix, t.User} {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func (t *promptTemplate) multiTurn() bool { return t.BodyAssistant != "" }

// placeholders lists the {name} placeholders of a template ("{{" and "}}" are literal braces, as in
// Python's str.format, which rank_llm and llm-rankers use).
func placeholders(tmpl string) ([]string, error) {
	var names []string
	_, err := format(tmpl, func(name string) (string, bool) {
		names = append(names, name)
		return "", true
	})
	return names, err
}

// fill substitutes the placeholders of tmpl in one pass: substituted values are never expanded again.
func fill(tmpl string, values map[string]string) string {
	s, err := format(tmpl, func(name string) (string, bool) {
		v, ok := values[name]
		return v, ok
	})
	if err != nil { // templates are validated when loaded
		panic("rerank: " + err.Error())
	}
	return s
}

func format(tmpl string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		switch {
		case c == '{' && i+1 < len(tmpl) && tmpl[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(tmpl) && tmpl[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '{':
			j := strings.IndexByte(tmpl[i:], '}')
			if j < 0 {
				return "", fmt.Errorf("unclosed { in %q", tmpl)
			}
			name := tmpl[i+1 : i+j]
			v, ok := lookup(name)
			if !ok {
				return "", fmt.Errorf("unknown placeholder {%s}", name)
			}
			b.WriteString(v)
			i += j
		case c == '}':
			return "", fmt.Errorf("single } in %q", tmpl)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// PromptNames lists the listwise prompt names, sorted: rankgpt, rankgpt-template, rankzephyr,
// rankzephyr-template.
func PromptNames() []string {
	var names []string
	for n, t := range prompts {
		if t.Kind == "listwise" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// PromptID is a content hash of the named prompt (listwise names and PairwisePromptName), for cache
// keys: it changes whenever the text sent to the model changes. "" for an unknown name.
func PromptID(name string) string {
	t, ok := prompts[name]
	if !ok {
		return ""
	}
	return name + "@" + t.id
}

// ListwisePrompt builds the chat messages of the named listwise prompt for one window. passages are
// the window's passage texts in their current order (identifier [i] is passages[i-1]), normally made
// by PassageText. Like rank_llm, "[n]" in the query and in passages is rewritten to "(n)" (idempotent).
func ListwisePrompt(name string, query string, passages []string) ([]Message, error) {
	t, ok := prompts[name]
	if !ok || t.Kind != "listwise" {
		return nil, fmt.Errorf("rerank: unknown listwise prompt %q (have %s)", name, strings.Join(PromptNames(), ", "))
	}
	if len(passages) == 0 {
		return nil, fmt.Errorf("rerank: listwise prompt %q with no passages", name)
	}
	head := map[string]string{"num": strconv.Itoa(len(passages)), "query": ReplaceNumbers(query)}
	var msgs []Message
	if t.System != "" {
		msgs = append(msgs, Message{RoleSystem, t.System})
	}
	prefix, suffix := fill(t.Prefix, head), fill(t.Suffix, head)
	if t.multiTurn() {
		if prefix != "" {
			msgs = append(msgs, Message{RoleUser, prefix}, Message{RoleAssistant, t.PrefixAssistant})
		}
		for i, p := range passages {
			rank := strconv.Itoa(i + 1)
			msgs = append(msgs,
				Message{RoleUser, fill(t.Body, map[string]string{"rank": rank, "passage": ReplaceNumbers(p)})},
				Message{RoleAssistant, fill(t.BodyAssistant, map[string]string{"rank": rank})})
		}
		if suffix != "" {
			msgs = append(msgs, Message{RoleUser, suffix})
		}
		return msgs, nil
	}
	var b strings.Builder
	b.WriteString(prefix)
	for i, p := range passages {
		b.WriteString(fill(t.Body, map[string]string{"rank": strconv.Itoa(i + 1), "passage": ReplaceNumbers(p)}))
	}
	b.WriteString(suffix)
	return append(msgs, Message{RoleUser, b.String()}), nil
}

// PairwisePrompt builds llm-rankers' PRP prompt with docA as "Passage A" and docB as "Passage B": one
// user message. Texts are inserted verbatim (llm-rankers does not rewrite "[n]"); truncate them first.
func PairwisePrompt(query, docA, docB string) []Message {
	t := prompts[PairwisePromptName]
	var msgs []Message
	if t.System != "" {
		msgs = append(msgs, Message{RoleSystem, t.System})
	}
	return append(msgs, Message{RoleUser, fill(t.User, map[string]string{"query": query, "doc1": docA, "doc2": docB})})
}
