package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
)

// Verify implements `starter verify`, a reproduction check like Pyserini's
// YAMLs: the experiment runs again (finished stages are memo hits, so this
// costs lookups) and every `expected` score of the config is compared with
// the result. Exit 1 with one line per drift, 0 with a summary.
func Verify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn connFlags
	conn.register(fs)
	cfgPath := fs.String("config", "", "experiment config (YAML) with expected scores")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cfgPath == "" {
		fmt.Fprintln(stderr, "verify: -config is required")
		return 2
	}
	exp, err := LoadExperiment(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if len(exp.Expected) == 0 {
		fmt.Fprintf(stderr, "verify: %s records no expected scores; nothing to verify\n", *cfgPath)
		return 2
	}
	c, namespace, err := conn.dial()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer c.Close()
	ctx := context.Background()
	run, link, err := startExperiment(ctx, c, conn, namespace, exp, fmt.Sprintf("clirflow-verify-%s-%s", exp.Name, uuid.NewString()[:8]))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stderr, "verifying %s: workflow %s\n%s\n", exp.Name, run.GetID(), link)
	res, err := waitWithProgress(ctx, c, run, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "experiment failed: %s\n", describe(err))
		return 1
	}
	runs, err := runsOf(res)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return verdict(*cfgPath, exp, runs, stdout)
}

// verdict compares the runs with the config's expected scores: one line per
// drift and exit 1, or a summary and exit 0.
func verdict(cfgPath string, exp config.Experiment, runs []experiment.RunResult, stdout io.Writer) int {
	exp = exp.WithDefaults()
	drift := experiment.Drifts(exp, runs)
	for _, d := range drift {
		fmt.Fprintln(stdout, "DRIFT "+d.String())
	}
	if len(drift) > 0 {
		fmt.Fprintf(stdout, "verify %s: %d of %d expected scores drifted\n", cfgPath, len(drift), len(exp.Expected))
		return 1
	}
	reused := 0
	for _, r := range runs {
		if r.Run.Cached && r.Eval.Cached {
			reused++
		}
	}
	fmt.Fprintf(stdout, "verify %s: ok, %d expected scores reproduced within %g (%d runs, %d reused from the artifact store)\n",
		cfgPath, len(exp.Expected), *exp.Tolerance, len(runs), reused)
	return 0
}
