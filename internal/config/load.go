package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// Load reads an experiment from a YAML (or JSON, a subset of YAML) file. Unknown
// keys and wrongly typed values are errors that name the file, line and key.
// Relative paths inside the file are resolved against baseDir (the caller's
// working directory, like Pyserini's reproduction configs), so the resulting
// input can be sent to workers on this machine as is.
func Load(path, baseDir string) (Experiment, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Experiment{}, inputerr.At(path, 0, "cannot read config: %v", err)
	}
	raw, err = expandEnv(raw, path)
	if err != nil {
		return Experiment{}, err
	}
	e, err := Parse(raw, path)
	if err != nil {
		return Experiment{}, err
	}
	e.ResolvePaths(baseDir)
	return e, nil
}

var envRefRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expandEnv replaces ${NAME} and ${NAME:-default} in a config file, so one
// config can point at an endpoint chosen by the environment (e.g. the LLM
// server's URL and model). Secrets do not go this way: workers read API keys
// from the variable named in api_key_env. An unset variable without a default
// is an error naming the line.
func expandEnv(raw []byte, name string) ([]byte, error) {
	var err error
	lines := bytes.Split(raw, []byte("\n"))
	for i, line := range lines {
		lines[i] = envRefRE.ReplaceAllFunc(line, func(m []byte) []byte {
			sub := envRefRE.FindSubmatch(m)
			if v, ok := os.LookupEnv(string(sub[1])); ok && v != "" {
				return []byte(v)
			}
			if len(sub[2]) > 0 {
				return sub[3]
			}
			if err == nil {
				err = inputerr.At(name, i+1, "environment variable %s is not set (use ${%s:-default} for a default)", sub[1], sub[1])
			}
			return m
		})
	}
	return bytes.Join(lines, []byte("\n")), err
}

// Parse decodes a YAML or JSON experiment document strictly.
func Parse(raw []byte, name string) (Experiment, error) {
	var e Experiment
	if len(bytes.TrimSpace(raw)) == 0 {
		return e, inputerr.At(name, 0, "empty config")
	}
	if err := yaml.UnmarshalWithOptions(raw, &e, yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
		return Experiment{}, yamlError(name, raw, err)
	}
	return e, nil
}

// yamlError turns goccy's multi-line error (with a source excerpt) into one
// file:line error, naming the field path when the token belongs to a node
// (goccy's own text names the Go struct, e.g. "Experiment.FirstStages", not
// the field: "first_stages[0].k1").
func yamlError(name string, raw []byte, err error) error {
	var se yaml.Error
	if errors.As(err, &se) {
		if tok := se.GetToken(); tok != nil && tok.Position != nil {
			msg := goStructRE.ReplaceAllString(se.GetMessage(), "into ")
			if field := yamlFieldAt(raw, tok.Position.Line, tok.Position.Column); field != "" {
				return inputerr.At(name, tok.Position.Line, "%s: %s", field, msg)
			}
			return inputerr.At(name, tok.Position.Line, "%s", msg)
		}
		return inputerr.At(name, 0, "%s", se.GetMessage())
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i > 0 {
		msg = msg[:i]
	}
	return inputerr.At(name, 0, "%s", msg)
}

// goStructRE matches the Go type goccy names in type errors, which means
// nothing to someone writing YAML.
var goStructRE = regexp.MustCompile(`into Go struct field \S+ of type `)

// yamlFieldAt returns the field path ("datasets[0].colour") of the node at a
// line and column of a YAML document, or "" when there is none.
func yamlFieldAt(raw []byte, line, col int) string {
	f, err := parser.ParseBytes(raw, 0)
	if err != nil {
		return ""
	}
	v := &nodeAt{line: line, col: col}
	for _, doc := range f.Docs {
		if doc.Body != nil {
			ast.Walk(v, doc.Body)
		}
	}
	return strings.TrimPrefix(strings.TrimPrefix(v.path, "$"), ".")
}

type nodeAt struct {
	line, col int
	path      string
}

func (v *nodeAt) Visit(n ast.Node) ast.Visitor {
	if v.path != "" {
		return nil
	}
	if tok := n.GetToken(); tok != nil && tok.Position != nil && tok.Position.Line == v.line && tok.Position.Column == v.col {
		if _, isMap := n.(*ast.MappingValueNode); !isMap {
			v.path = n.GetPath()
			return nil
		}
	}
	return v
}

// ResolvePaths makes every file path absolute against baseDir.
func (e *Experiment) ResolvePaths(baseDir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(baseDir, p)
	}
	if e.Output != "" {
		e.Output = abs(e.Output)
	}
	for i := range e.Datasets {
		d := &e.Datasets[i]
		d.Corpus, d.Topics, d.Qrels = abs(d.Corpus), abs(d.Topics), abs(d.Qrels)
	}
	for i := range e.FirstStages {
		e.FirstStages[i].Path = abs(e.FirstStages[i].Path)
	}
}

// UnmarshalJSON decodes the workflow input. Temporal decodes payloads leniently,
// which would silently drop a misspelt key typed into the UI form; so unknown keys
// are collected here and reported by Validate, naming each one.
func (e *Experiment) UnmarshalJSON(b []byte) error {
	type plain Experiment
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return err
	}
	*e = Experiment(p)
	e.unknown = unknownKeys(generic, reflect.TypeOf(p), "")
	return nil
}

// unknownKeys walks a decoded JSON value alongside the Go type and lists the
// paths of object keys the type has no field for.
func unknownKeys(v any, t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return nil
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			fields[name] = f.Type
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			ft, ok := fields[k]
			if !ok {
				out = append(out, p)
				continue
			}
			out = append(out, unknownKeys(x[k], ft, p)...)
		}
	case []any:
		if t.Kind() != reflect.Slice {
			return nil
		}
		for i, el := range x {
			out = append(out, unknownKeys(el, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return out
}
