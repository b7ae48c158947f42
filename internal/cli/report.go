package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/platform"
)

// Report implements `starter report`: the report of a finished experiment
// (every file, report.html included) regenerated from the artifact store,
// without running anything — after a change to the report's code, or into
// another directory. The input is the one the experiment's last WriteReport
// recorded; reports written before that record existed are rebuilt from
// their results.json.
func Report(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("experiment", "", "experiment name")
	artifacts := fs.String("artifacts", platform.Env(platform.EnvArtifacts, platform.DefaultArtifacts), "artifact store: a directory or s3://BUCKET[/PREFIX] (see $"+platform.EnvS3Endpoint+")")
	out := fs.String("out", "", "output directory (default the experiment's output)")
	results := fs.String("results", "", "results directory to read results.json from when the store has no record (default results/EXPERIMENT)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *name == "" {
		fmt.Fprintln(stderr, "report: -experiment is required")
		return 2
	}
	store, err := platform.OpenStore(context.Background(), *artifacts, "")
	if err != nil {
		fmt.Fprintln(stderr, "report:", err)
		return 1
	}
	ctx := context.Background()
	in, ok, err := experiment.LoadReportInput(ctx, store, *name)
	if err != nil {
		fmt.Fprintln(stderr, "report:", err)
		return 1
	}
	if !ok {
		if *results == "" {
			*results = filepath.Join(config.DefaultOutput, *name)
		}
		if in, err = readResultsJSON(filepath.Join(*results, "results.json")); err != nil {
			fmt.Fprintf(stderr, "report: %s has no report of experiment %q, and %v\n", store.Root(), *name, err)
			return 1
		}
	}
	if *out != "" {
		if in.Experiment.Output, err = filepath.Abs(*out); err != nil {
			fmt.Fprintln(stderr, "report:", err)
			return 1
		}
	}
	info, err := experiment.RenderReport(ctx, store, in)
	if err != nil {
		fmt.Fprintf(stderr, "report: %v (are the experiment's artifacts in %s?)\n", err, store.Root())
		return 1
	}
	fmt.Fprintf(stdout, "report: %s\nhtml report: %s\n", filepath.Join(info.Dir, "report.md"), info.HTML)
	for _, d := range info.Drift {
		fmt.Fprintln(stdout, "drift: "+d)
	}
	return 0
}

// readResultsJSON reads the report input back from results.json, which
// embeds it.
func readResultsJSON(path string) (experiment.ReportInput, error) {
	var in experiment.ReportInput
	raw, err := os.ReadFile(path)
	if err != nil {
		return in, err
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return in, fmt.Errorf("%s: %w", path, err)
	}
	if in.Experiment.Name == "" {
		return in, fmt.Errorf("%s: not a clirflow results.json", path)
	}
	return in, nil
}
