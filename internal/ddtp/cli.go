package ddtp

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/clirflow/clirflow/internal/inputerr"
)

const usage = `usage: build-demo -lang XX -out DIR (-en FILE -xx FILE | -apt-lists DIR [-dist NAME]) [options]

Builds a cross-language retrieval collection from Debian's translated package
descriptions (DDTP Translation files, plain or lz4/xz/gz/bz2 compressed):
documents are the long descriptions in language XX, queries the English short
descriptions, relevant the packages with the same English long description.
Writes DIR/corpus.jsonl, DIR/topics.tsv and DIR/qrels.txt.

To get the files without touching the system's apt state:
  mkdir -p /tmp/ddtp/partial
  apt-get -o Acquire::Languages="en,XX" -o Dir::State::Lists=/tmp/ddtp update
  build-demo -apt-lists /tmp/ddtp -dist bookworm -lang XX -out DIR

options:
`

// Main runs the build-demo command; it returns the process exit status (0 ok, 1
// failure, 2 usage error).
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("build-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		enPath   = fs.String("en", "", "English Translation file (Translation-en[.lz4|.xz|.gz|.bz2])")
		xxPath   = fs.String("xx", "", "Translation file of the document language")
		lang     = fs.String("lang", "", "document language code, e.g. de (required)")
		out      = fs.String("out", "", "output directory (required)")
		queries  = fs.Int("queries", DefaultQueries, "number of queries to sample")
		maxDocs  = fs.Int("max-docs", 0, "keep at most this many documents: all relevant ones plus a deterministic sample (0: all)")
		seed     = fs.String("seed", "", "sampling seed (empty: the default sample)")
		aptLists = fs.String("apt-lists", "", "apt lists directory to find the Translation files in (instead of -en/-xx)")
		dist     = fs.String("dist", "", "with -apt-lists: the suite, e.g. bookworm, when several have Translation files")
	)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "build-demo: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return bad("unexpected argument %q", fs.Arg(0))
	case !langCode.MatchString(*lang):
		return bad("-lang: want a language code such as de or pt_BR, got %q", *lang)
	case *out == "":
		return bad("-out is required")
	case *queries <= 0:
		return bad("-queries must be positive")
	case *maxDocs < 0:
		return bad("-max-docs must not be negative")
	case *aptLists != "" && (*enPath != "" || *xxPath != ""):
		return bad("use either -apt-lists or -en/-xx")
	case *aptLists == "" && (*enPath == "" || *xxPath == ""):
		return bad("need -en and -xx, or -apt-lists")
	case *dist != "" && *aptLists == "":
		return bad("-dist only goes with -apt-lists")
	}
	if *aptLists != "" {
		var err error
		*enPath, *xxPath, err = FindAptLists(*aptLists, *lang, *dist)
		if err != nil {
			fmt.Fprintf(stderr, "build-demo: %v\n", err)
			return 1
		}
	}
	if err := run(*enPath, *xxPath, *lang, *out, Options{Queries: *queries, MaxDocs: *maxDocs, Seed: *seed}, stdout); err != nil {
		fmt.Fprintf(stderr, "build-demo: %v\n", err)
		return 1
	}
	return 0
}

var langCode = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)

func run(enPath, xxPath, lang, out string, opts Options, stdout io.Writer) error {
	en, err := ReadFile(enPath)
	if err != nil {
		return err
	}
	xx, err := ReadFile(xxPath)
	if err != nil {
		return err
	}
	if xx[0].Lang != lang {
		return inputerr.At(xxPath, xx[0].Line, "Description-%s, but -lang is %s", xx[0].Lang, lang)
	}
	c, err := Build(en, xx, opts)
	if err != nil {
		return err
	}
	if err := c.Write(out); err != nil {
		return err
	}
	s := c.Stats
	fmt.Fprintf(stdout, "english:    %s: %d stanzas, %d packages\n", enPath, s.EnStanzas, s.EnPackages)
	fmt.Fprintf(stdout, "%-11s %s: %d stanzas, %d packages (%d with an empty long description, %d without English, %d md5 fallbacks)\n",
		lang+":", xxPath, s.XXStanzas, s.XXPackages, s.EmptyLong, s.NoEnglish, s.MD5Fallback)
	fmt.Fprintf(stdout, "candidates: %d queries (%d more with an ambiguous short description; %d sampled ones skipped as duplicate text), %d documents\n",
		s.Candidates, s.Ambiguous, s.DuplicateQueries, s.AllDocs)
	fmt.Fprintf(stdout, "wrote %s: %d documents, %d queries, %d relevant pairs (%.2f per query, max %d)\n",
		out, s.Docs, s.Queries, s.Qrels, s.AvgRelevant(), s.MaxRelevant)
	if s.RelevantKeptOverMax {
		fmt.Fprintf(stdout, "note: the relevant documents alone exceed -max-docs %d; all were kept\n", opts.MaxDocs)
	}
	return nil
}

// FindAptLists finds the English and lang Translation files in an apt lists
// directory (files named ..._dists_<suite>_<component>_i18n_Translation-<lang>,
// optionally compressed). The two files must share their prefix (same mirror,
// suite and component); when several prefixes have both, dist selects the suite.
func FindAptLists(dir, lang, dist string) (enPath, xxPath string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", "", err
	}
	const marker = "_i18n_Translation-"
	type pair struct{ en, xx string }
	byPrefix := make(map[string]*pair)
	for _, e := range entries {
		name := e.Name()
		i := strings.LastIndex(name, marker)
		if i < 0 || !e.Type().IsRegular() {
			continue
		}
		prefix, rest := name[:i], name[i+len(marker):]
		l, ext, _ := strings.Cut(rest, ".")
		switch ext {
		case "", "lz4", "xz", "gz", "bz2":
		default:
			continue
		}
		if dist != "" && !strings.Contains(prefix, "_dists_"+dist+"_") {
			continue
		}
		p := byPrefix[prefix]
		if p == nil {
			p = &pair{}
			byPrefix[prefix] = p
		}
		full := filepath.Join(dir, name)
		switch l {
		case "en":
			p.en = full
		case lang:
			p.xx = full
		}
	}
	var found []string
	for prefix, p := range byPrefix {
		if p.en != "" && p.xx != "" {
			found = append(found, prefix)
		}
	}
	sort.Strings(found)
	switch len(found) {
	case 0:
		return "", "", fmt.Errorf("%s: no pair of Translation-en and Translation-%s files of the same suite (run apt-get update with Acquire::Languages=\"en,%s\")", dir, lang, lang)
	case 1:
		p := byPrefix[found[0]]
		return p.en, p.xx, nil
	}
	return "", "", fmt.Errorf("%s: several suites have Translation-en and Translation-%s (%s); choose one with -dist", dir, lang, strings.Join(found, ", "))
}
