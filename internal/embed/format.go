package embed

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// Format is how an encoder wants its inputs: the text of a query or passage
// is cut to fit MaxInputTokens, then wrapped as prefix + text + suffix.
type Format struct {
	QueryPrefix   string `json:"query_prefix,omitempty"`
	PassagePrefix string `json:"passage_prefix,omitempty"`
	QuerySuffix   string `json:"query_suffix,omitempty"`
	PassageSuffix string `json:"passage_suffix,omitempty"`
	// MaxInputTokens is the model's input limit (prefix, text, suffix and
	// ReservedTokens together); 0: no truncation. Tokens are counted with
	// the client's Tokenizer (cl100k_base by default), an approximation of
	// the model's own tokenizer: see Tokenizer.
	MaxInputTokens int `json:"max_input_tokens,omitempty"`
	// ReservedTokens are the special tokens the server's tokenizer adds
	// (CLS/SEP, BOS/EOS), kept free within MaxInputTokens.
	ReservedTokens int `json:"reserved_tokens,omitempty"`
	// Normalize L2-normalises the vectors (cosine similarity as a dot product).
	Normalize bool `json:"normalize,omitempty"`
	// Dim is the expected vector dimension; 0: any, but all vectors must agree.
	Dim int `json:"dim,omitempty"`
}

func (f Format) affixes(role Role) (prefix, suffix string) {
	if role == Query {
		return f.QueryPrefix, f.QuerySuffix
	}
	return f.PassagePrefix, f.PassageSuffix
}

// Preset is a named Format for a known encoder.
type Preset struct {
	Name  string `json:"name"`
	Model string `json:"model"` // Hugging Face id (or API model name): the usual served name
	Format
	Source string `json:"source"`         // where the settings come from
	Note   string `json:"note,omitempty"` // caveats
}

//go:embed presets.json
var presetsJSON []byte

// presets are data, so that a correction is a one-line JSON change and the
// sources travel with the values.
var presets = func() map[string]Preset {
	var ps []Preset
	if err := json.Unmarshal(presetsJSON, &ps); err != nil {
		panic("embed: presets.json: " + err.Error())
	}
	m := make(map[string]Preset, len(ps))
	for _, p := range ps {
		m[p.Name] = p
	}
	return m
}()

// Presets lists the preset names, sorted.
func Presets() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// LookupPreset returns the named preset (names are case-insensitive).
func LookupPreset(name string) (Preset, error) {
	if p, ok := presets[strings.ToLower(strings.TrimSpace(name))]; ok {
		return p, nil
	}
	return Preset{}, fmt.Errorf("unknown encoder preset %q (known: %s)", name, strings.Join(Presets(), ", "))
}

// Spec is the config form of an encoder's input format: an optional preset
// and explicit values that override it (nil: keep the preset's; an empty
// string is an explicit "no prefix").
type Spec struct {
	Preset         string  `json:"preset,omitempty" yaml:"preset,omitempty"`
	QueryPrefix    *string `json:"query_prefix,omitempty" yaml:"query_prefix,omitempty"`
	PassagePrefix  *string `json:"passage_prefix,omitempty" yaml:"passage_prefix,omitempty"`
	QuerySuffix    *string `json:"query_suffix,omitempty" yaml:"query_suffix,omitempty"`
	PassageSuffix  *string `json:"passage_suffix,omitempty" yaml:"passage_suffix,omitempty"`
	MaxInputTokens *int    `json:"max_input_tokens,omitempty" yaml:"max_input_tokens,omitempty"`
	ReservedTokens *int    `json:"reserved_tokens,omitempty" yaml:"reserved_tokens,omitempty"`
	Normalize      *bool   `json:"normalize,omitempty" yaml:"normalize,omitempty"`
	Dim            *int    `json:"dim,omitempty" yaml:"dim,omitempty"`
}

// Resolve applies the overrides to the preset (or to the zero Preset: no
// prefixes, no truncation, no normalisation). path names the spec in errors
// (e.g. "first_stages[2]"); errors are *inputerr.Error.
func (s Spec) Resolve(path string) (Preset, error) {
	field := func(f string) string {
		if path == "" {
			return f
		}
		return path + "." + f
	}
	var p Preset
	if s.Preset != "" {
		var err error
		if p, err = LookupPreset(s.Preset); err != nil {
			return Preset{}, inputerr.Field(field("preset"), "%v", err)
		}
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.QueryPrefix, s.QueryPrefix)
	set(&p.PassagePrefix, s.PassagePrefix)
	set(&p.QuerySuffix, s.QuerySuffix)
	set(&p.PassageSuffix, s.PassageSuffix)
	for _, c := range []struct {
		name string
		v    *int
		dst  *int
	}{{"max_input_tokens", s.MaxInputTokens, &p.MaxInputTokens}, {"reserved_tokens", s.ReservedTokens, &p.ReservedTokens}, {"dim", s.Dim, &p.Dim}} {
		if c.v == nil {
			continue
		}
		if *c.v < 0 {
			return Preset{}, inputerr.Field(field(c.name), "must be ≥ 0, got %d", *c.v)
		}
		*c.dst = *c.v
	}
	if s.Normalize != nil {
		p.Normalize = *s.Normalize
	}
	return p, nil
}
