package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/platform"
)

// Audit implements `starter audit`: the trail of LLM calls behind one query
// of a finished experiment — every window or comparison, with the model's raw
// answer, the parsed permutation or verdict, repairs, tokens, latency and
// whether it came from the cache.
func Audit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("experiment", "", "experiment name (its results are in results/NAME)")
	dir := fs.String("results", "", "results directory (default results/EXPERIMENT)")
	qid := fs.String("query", "", "query id")
	only := fs.String("run", "", "only this reranked run (e.g. ddtp-es/bm25-og+rankgpt)")
	artifacts := fs.String("artifacts", platform.Env(platform.EnvArtifacts, platform.DefaultArtifacts), "artifact store: a directory or s3://BUCKET[/PREFIX] (see $"+platform.EnvS3Endpoint+")")
	full := fs.Bool("full", false, "print the full prompts too")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *qid == "" || (*name == "" && *dir == "") {
		fmt.Fprintln(stderr, "audit: -experiment (or -results) and -query are required")
		return 2
	}
	if *dir == "" {
		*dir = filepath.Join(config.DefaultOutput, *name)
	}
	raw, err := os.ReadFile(filepath.Join(*dir, "results.json"))
	if err != nil {
		fmt.Fprintf(stderr, "audit: %v (has the experiment finished?)\n", err)
		return 1
	}
	var res struct {
		Runs []experiment.RunResult `json:"runs"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		fmt.Fprintf(stderr, "audit: %s/results.json: %v\n", *dir, err)
		return 1
	}
	store, err := platform.OpenStore(context.Background(), *artifacts, "")
	if err != nil {
		fmt.Fprintln(stderr, "audit:", err)
		return 1
	}
	ctx := context.Background()
	found := false
	for _, r := range res.Runs {
		if r.Audit == "" || (*only != "" && r.Name() != *only) {
			continue
		}
		var index map[string][]artifact.Ref
		if err := readJSON(ctx, store, r.Audit, &index); err != nil {
			fmt.Fprintf(stderr, "audit: %s: %v\n", r.Name(), err)
			return 1
		}
		refs, ok := index[*qid]
		if !ok {
			continue
		}
		found = true
		// A query's windows are one artifact (QueryAudit) or, in runs
		// recorded before, an artifact each; a PRP pass is an artifact.
		var steps []json.RawMessage
		for _, ref := range refs {
			b, err := artifact.ReadAll(ctx, store, ref)
			if err != nil {
				fmt.Fprintf(stderr, "audit: %s: %v\n", ref, err)
				return 1
			}
			var qa experiment.QueryAudit
			if len(b) > 0 && b[0] == '{' && json.Unmarshal(b, &qa) == nil && qa.Windows != nil {
				for i, rec := range qa.Windows {
					if *full { // rendered again from the candidates, checked against the hash sent
						if rec.Messages, err = qa.Messages(ctx, store, i); err != nil {
							fmt.Fprintf(stderr, "audit: %s: window %d: %v\n", ref, i+1, err)
							return 1
						}
					}
					rb, _ := json.Marshal(rec)
					steps = append(steps, rb)
				}
				continue
			}
			steps = append(steps, b)
		}
		fmt.Fprintf(stdout, "== %s, query %s: %d steps\n", r.Name(), *qid, len(steps))
		for i, b := range steps {
			if err := printStep(stdout, i+1, b, *full); err != nil {
				fmt.Fprintf(stderr, "audit: %s step %d: %v\n", r.Name(), i+1, err)
				return 1
			}
		}
	}
	if !found {
		fmt.Fprintf(stderr, "audit: no reranked run of %s has query %q\n", *dir, *qid)
		return 1
	}
	return 0
}

func readJSON(ctx context.Context, s artifact.Store, ref artifact.Ref, v any) error {
	b, err := artifact.ReadAll(ctx, s, ref)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func printStep(w io.Writer, n int, b []byte, full bool) error {
	if len(b) > 0 && b[0] == '[' { // a PRP pass: its comparisons
		var cmps []struct {
			Lower, Upper string
			AsA, AsB     experiment.AuditRecord
		}
		if err := json.Unmarshal(b, &cmps); err != nil {
			return err
		}
		fmt.Fprintf(w, "%d. PRP pass: %d comparisons asked\n", n, len(cmps))
		for _, c := range cmps {
			fmt.Fprintf(w, "   %s (lower) vs %s: as A → %s, as B → %s%s\n", c.Lower, c.Upper, c.AsA.Verdict, c.AsB.Verdict, cached(c.AsA, c.AsB))
			if full {
				printMessages(w, c.AsA)
				fmt.Fprintf(w, "      answer: %q\n", c.AsA.Answer)
			}
		}
		return nil
	}
	var rec experiment.AuditRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d. window %v via %s: tokens %d/%d, %d ms, cache hit %v, repairs %d\n", n, rec.Window, rec.Endpoint,
		rec.Stats.PromptTokens, rec.Stats.CompletionTokens, rec.Stats.LatencyMS, rec.Stats.CacheHits > 0, rec.Repairs.Total())
	if full {
		printMessages(w, rec)
	}
	fmt.Fprintf(w, "   answer: %q\n   permutation: %v\n   docs in: %s\n", rec.Answer, rec.Permutation, strings.Join(rec.Docs, " "))
	return nil
}

func cached(a, b experiment.AuditRecord) string {
	if a.Stats.CacheHits+b.Stats.CacheHits > 0 {
		return " (cache)"
	}
	return ""
}

func printMessages(w io.Writer, rec experiment.AuditRecord) {
	for _, m := range rec.Messages {
		fmt.Fprintf(w, "   [%s] %s\n", m.Role, strings.ReplaceAll(m.Content, "\n", "\n      "))
	}
}
