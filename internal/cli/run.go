// Package cli implements the starter's subcommands.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/platform"
	"github.com/clirflow/clirflow/workflows"
)

// connFlags are the Temporal connection flags every subcommand shares.
type connFlags struct {
	address, namespace, queue, ui, codecKey string
}

func (c *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.address, "address", "", "Temporal frontend host:port (default $TEMPORAL_ADDRESS or "+platform.DefaultAddress+")")
	fs.StringVar(&c.namespace, "namespace", "", "Temporal namespace (default $TEMPORAL_NAMESPACE or default)")
	fs.StringVar(&c.queue, "task-queue", platform.Env(platform.EnvTaskQueue, workflows.TaskQueue), "task queue of the workers")
	fs.StringVar(&c.ui, "ui", platform.Env(platform.EnvUI, platform.DefaultUI), "Temporal UI base URL, for links")
	fs.StringVar(&c.codecKey, "codec-key", "", "payload encryption key file, the workers' key (default $"+platform.EnvCodecKeyFile+"; none: no encryption)")
}

func (c *connFlags) dial() (client.Client, string, error) {
	opts, err := platform.ClientOptionsWithCodecKey(c.address, c.namespace, c.codecKey)
	if err != nil {
		return nil, "", err
	}
	cl, err := client.Dial(opts)
	if err != nil {
		return nil, "", fmt.Errorf("connect to Temporal at %s: %w", opts.HostPort, err)
	}
	return cl, opts.Namespace, nil
}

// LoadExperiment reads a config file, resolves its paths against the current
// directory (the default output directory too) and validates it, so mistakes
// are reported before anything starts.
func LoadExperiment(path string) (config.Experiment, error) {
	wd, err := os.Getwd()
	if err != nil {
		return config.Experiment{}, err
	}
	e, err := config.Load(path, wd)
	if err != nil {
		return e, err
	}
	if e.Output == "" && e.Name != "" {
		e.Output = filepath.Join(wd, config.DefaultOutput, e.Name)
	}
	if err := e.WithDefaults().Validate(); err != nil {
		return e, fmt.Errorf("%s: %w", path, err)
	}
	if err := e.CheckFiles(); err != nil {
		return e, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

// Run implements `starter run`.
func Run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn connFlags
	conn.register(fs)
	cfgPath := fs.String("config", "", "experiment config (YAML)")
	wait := fs.Bool("wait", false, "wait for the result, showing progress, and print the metric table")
	id := fs.String("id", "", "workflow id (default clirflow-NAME-RANDOM)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cfgPath == "" {
		fmt.Fprintln(stderr, "run: -config is required")
		return 2
	}
	exp, err := LoadExperiment(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	c, namespace, err := conn.dial()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer c.Close()
	if *id == "" {
		*id = fmt.Sprintf("clirflow-%s-%s", exp.Name, uuid.NewString()[:8])
	}
	ctx := context.Background()
	run, link, err := startExperiment(ctx, c, conn, namespace, exp, *id)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "started experiment %s: workflow %s\n%s\n", exp.Name, run.GetID(), link)
	if !*wait {
		return 0
	}
	res, err := waitWithProgress(ctx, c, run, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "experiment failed: %s\n", describe(err))
		return 1
	}
	fmt.Fprintf(stdout, "\n%s\n", res.Report.Markdown)
	runs, err := runsOf(res)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	reused := 0
	for _, r := range runs {
		if r.Run.Cached && r.Eval.Cached {
			reused++
		}
	}
	fmt.Fprintf(stdout, "runs computed: %d, reused from the artifact store: %d\n", len(runs)-reused, reused)
	calls := 0
	for _, t := range res.Translations {
		fmt.Fprintf(stdout, "translation %s %s: %s\n", t.Dataset, t.What, experiment.TranslationNote(t.Translator, t.Src, t.Tgt, t.Info))
		calls += t.Info.Calls
	}
	if len(res.Translations) > 0 {
		fmt.Fprintf(stdout, "translator calls: %d\n", calls)
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(res.Report.Dir, "report.md"))
	if res.Report.HTML != "" {
		fmt.Fprintf(stdout, "html report: %s\n", res.Report.HTML)
	}
	fmt.Fprintf(stdout, "history: %s\n", link)
	if len(res.Report.Drift) > 0 {
		fmt.Fprintln(stdout, "\nREPRODUCTION DRIFT (expected scores in the config differ):")
		for _, d := range res.Report.Drift {
			fmt.Fprintln(stdout, "  "+d)
		}
		return 3
	}
	return 0
}

// startExperiment starts the Experiment workflow, tagged with its search
// attributes, and returns it with its link in the Temporal UI.
func startExperiment(ctx context.Context, c client.Client, conn connFlags, namespace string, exp config.Experiment, id string) (client.WorkflowRun, string, error) {
	names := make([]string, 0, len(exp.Datasets))
	for _, d := range exp.Datasets {
		names = append(names, d.Name)
	}
	sort.Strings(names)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: conn.queue,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SearchExperiment.ValueSet(exp.Name), workflows.SearchDatasets.ValueSet(names)),
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, "Experiment", exp)
	if err != nil {
		return nil, "", fmt.Errorf("start experiment: %w", err)
	}
	link := fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history", strings.TrimRight(conn.ui, "/"), namespace, run.GetID(), run.GetRunID())
	return run, link, nil
}

func waitWithProgress(ctx context.Context, c client.Client, run client.WorkflowRun, stderr io.Writer) (workflows.ExperimentResult, error) {
	done := make(chan error, 1)
	var res workflows.ExperimentResult
	go func() { done <- run.Get(ctx, &res) }()
	// A redrawn bar on a terminal; one line per step otherwise (CI logs, pipes).
	f, isFile := stderr.(*os.File)
	tty := false
	if isFile {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("starting"),
		progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30), progressbar.OptionShowCount())
	if !tty {
		bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(io.Discard))
	}
	last := ""
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			_ = bar.Finish()
			return res, err
		case <-tick.C:
			v, err := c.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.ProgressQuery)
			if err != nil {
				continue // no worker has picked the workflow up yet
			}
			var p workflows.Progress
			if v.Get(&p) == nil && p.Total > 0 {
				bar.ChangeMax(p.Total)
				_ = bar.Set(p.Done)
				bar.Describe(p.Current)
				if line := fmt.Sprintf("[%d/%d] %s", p.Done, p.Total, p.Current); !tty && line != last {
					fmt.Fprintln(stderr, line)
					last = line
				}
			}
		}
	}
}

// describe unwraps Temporal's error chain down to the message that says what
// went wrong (e.g. "corpus.jsonl:12: duplicate document id").
func describe(err error) string {
	var msgs []string
	for e := err; e != nil; e = errors.Unwrap(e) {
		var appErr *temporal.ApplicationError
		if errors.As(e, &appErr) && e == error(appErr) {
			msgs = append(msgs, appErr.Error())
		}
	}
	if len(msgs) > 0 {
		return msgs[len(msgs)-1]
	}
	return err.Error()
}

// runsOf returns an experiment's runs: from its result, or from the report's
// results.json when the result left them out (a grid too large for one
// Temporal payload).
func runsOf(res workflows.ExperimentResult) ([]experiment.RunResult, error) {
	if res.RunsOmitted == 0 {
		return res.Runs, nil
	}
	raw, err := os.ReadFile(filepath.Join(res.Report.Dir, "results.json"))
	if err != nil {
		return nil, fmt.Errorf("the result leaves out its %d runs and the report cannot be read: %w", res.RunsOmitted, err)
	}
	var rs struct {
		Runs []experiment.RunResult `json:"runs"`
	}
	if err := json.Unmarshal(raw, &rs); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(res.Report.Dir, "results.json"), err)
	}
	return rs.Runs, nil
}
