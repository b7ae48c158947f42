// Command starter is clirflow's CLI: start and verify experiments, regenerate
// reports, evaluate runs like trec_eval, build the demo collection.
package main

import (
	"fmt"
	"os"

	"github.com/clirflow/clirflow/internal/cli"
	"github.com/clirflow/clirflow/internal/ddtp"
	"github.com/clirflow/clirflow/internal/eval"
)

const usage = `usage: starter COMMAND [flags]

commands:
  run -config FILE [-wait]     start an experiment (prints the Temporal UI link; -wait shows progress, the table
                               and the paths of report.md and report.html)
  validate -config FILE        check a config and its files without starting anything
  eval [-q] [-c] [-m MEASURE]… QRELS RUN
                               evaluate a TREC run; output is byte-compatible with trec_eval 9.0.8
  verify -config FILE          re-run an experiment (memo hits: cheap) and check its expected scores;
                               exit 1 with one line per drift beyond the tolerance
  report -experiment NAME [-artifacts DIR|s3://BUCKET/PREFIX] [-out DIR]
                               regenerate a finished experiment's report (report.html too) from the
                               artifact store, running nothing
  audit -experiment NAME -query QID [-run RUN] [-full]
                               the LLM calls behind one query: prompts, answers, repairs, tokens, cache hits
  build-demo [flags]           build a demo collection from Debian's translated package descriptions
  codec-key -out FILE          make a payload encryption key (then -codec-key FILE or $CLIRFLOW_CODEC_KEY_FILE
                               on worker and starter)
  codec-server -key FILE [-listen 127.0.0.1:8234] [-cors-origin http://localhost:8233]
                               decrypt payloads for the Temporal UI (--ui-codec-endpoint http://127.0.0.1:8234)

Run 'starter COMMAND -h' for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	args := os.Args[2:]
	var code int
	switch os.Args[1] {
	case "run":
		code = cli.Run(args, os.Stdout, os.Stderr)
	case "validate":
		code = cli.Validate(args, os.Stdout, os.Stderr)
	case "eval":
		code = eval.Main(args, os.Stdout, os.Stderr)
	case "verify":
		code = cli.Verify(args, os.Stdout, os.Stderr)
	case "report":
		code = cli.Report(args, os.Stdout, os.Stderr)
	case "audit":
		code = cli.Audit(args, os.Stdout, os.Stderr)
	case "build-demo":
		code = ddtp.Main(args, os.Stdout, os.Stderr)
	case "codec-key", "codec-server":
		code = cli.Codec(os.Args[1], args, os.Stdout, os.Stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(os.Stdout, usage)
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n\n%s", os.Args[1], usage)
		code = 2
	}
	os.Exit(code)
}
