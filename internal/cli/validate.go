package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/platform"
	"github.com/clirflow/clirflow/internal/translate"
)

// Validate implements `starter validate`: config and files are checked, and
// with -json the workflow input is printed (paste it into the Temporal UI).
func Validate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "experiment config (YAML)")
	asJSON := fs.Bool("json", false, "print the workflow input as JSON")
	checkPairs := fs.Bool("pairs", true, "ask each translator on this machine whether it offers the language pairs the experiment needs")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cfgPath == "" {
		fmt.Fprintln(stderr, "validate: -config is required")
		return 2
	}
	exp, err := LoadExperiment(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *checkPairs {
		if err := checkTranslationPairs(exp); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", *cfgPath, err)
			return 1
		}
	}
	if *asJSON {
		b, err := json.MarshalIndent(exp, "", "  ")
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	fmt.Fprintf(stdout, "%s: ok (%d datasets, %d first stages, %d metrics)\n", *cfgPath, len(exp.Datasets), len(exp.FirstStages), len(exp.Metrics))
	return 0
}

// checkTranslationPairs asks every translator the experiment uses for its
// pairs, so an unknown pair is reported before anything starts, with the
// pairs the translator does offer.
func checkTranslationPairs(e config.Experiment) error {
	e = e.WithDefaults()
	newT := platform.NewTranslators()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for i, f := range e.FirstStages {
		if f.Translate == config.TranslateNone {
			continue
		}
		field := fmt.Sprintf("first_stages[%d].translator", i)
		tcfg, _ := e.TranslatorNamed(f.Translator)
		tr, err := newT(tcfg)
		if err != nil {
			errs = append(errs, inputerr.Field(field, "%v", err))
			continue
		}
		pairs, err := tr.Pairs(ctx)
		if err != nil {
			errs = append(errs, inputerr.Field(field, "%v", err))
			continue
		}
		for _, d := range e.Datasets {
			if !f.AppliesTo(d.Name) {
				continue
			}
			want := translate.Pair{Src: d.DocLang, Tgt: d.QueryLang}
			if f.Translate == config.TranslateQueries {
				want = translate.Pair{Src: d.QueryLang, Tgt: d.DocLang}
			}
			found := false
			for _, p := range pairs {
				found = found || p == want
			}
			if !found {
				errs = append(errs, inputerr.Field(field, "%s cannot translate %s (dataset %s); it offers: %s", f.Translator, want, d.Name, translate.FormatPairs(pairs)))
			}
		}
	}
	return errors.Join(errs...)
}
