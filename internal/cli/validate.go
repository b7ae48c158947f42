package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
)

// Validate implements `starter validate`: config and files are checked, and
// with -json the workflow input is printed (paste it into the Temporal UI).
func Validate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "experiment config (YAML)")
	asJSON := fs.Bool("json", false, "print the workflow input as JSON")
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
