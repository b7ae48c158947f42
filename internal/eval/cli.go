package eval

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/clirflow/clirflow/internal/trec"
)

const usage = `usage: eval [-q] [-c] [-n] [-l LEVEL] [-m MEASURE[.PARAMS]]... QRELS RUN
  -q         also print the values of each query
  -c         average over all qrels queries; missing ones count 0
  -n         no summary ("all") lines
  -l LEVEL   judgments >= LEVEL are relevant (default 1)
  -m MEASURE measure or group (official, set, all_trec), repeatable;
             parameters after a '.', e.g. -m P.5,10 -m ndcg_cut.20
Output is byte-compatible with trec_eval 9.0.8.
`

// long options as trec_eval spells them
var longOpts = map[string]byte{
	"help": 'h', "query_eval_wanted": 'q', "measure": 'm',
	"complete_rel_info_wanted": 'c', "level_for_rel": 'l', "nosummary": 'n',
}

// Main runs "eval" with args (those after the subcommand name) and returns the
// exit code. Options follow getopt: bundled (-qc), attached (-mmap, -l2) or
// separate values, anywhere before "--".
func Main(args []string, stdout, stderr io.Writer) int {
	var (
		perQuery, noSummary bool
		opts                Options
		specs, files        []string
	)
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "eval: "+format+"\n", a...)
		return 1
	}
	set := func(opt byte, val string) error {
		switch opt {
		case 'q':
			perQuery = true
		case 'c':
			opts.Complete = true
		case 'n':
			noSummary = true
		case 'm':
			specs = append(specs, val)
		case 'l':
			l, err := strconv.Atoi(val)
			if err != nil || l < 1 {
				return fmt.Errorf("-l needs a positive integer, got %q", val)
			}
			opts.RelevanceLevel = l
		}
		return nil
	}
	takesValue := func(opt byte) bool { return opt == 'm' || opt == 'l' }

	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			files = append(files, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			opt, ok := longOpts[name]
			if !ok {
				return fail("unknown option %s\n%s", a, usage)
			}
			if opt == 'h' {
				fmt.Fprint(stdout, usage)
				return 0
			}
			if takesValue(opt) && !hasVal {
				if i+1 >= len(args) {
					return fail("option --%s needs a value", name)
				}
				i++
				val = args[i]
			}
			if err := set(opt, val); err != nil {
				return fail("%v", err)
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				opt := a[j]
				if !strings.ContainsRune("qcnmlh", rune(opt)) {
					return fail("unknown option -%c\n%s", opt, usage)
				}
				if opt == 'h' {
					fmt.Fprint(stdout, usage)
					return 0
				}
				val := ""
				if takesValue(opt) {
					if val = a[j+1:]; val == "" {
						if i+1 >= len(args) {
							return fail("option -%c needs a value", opt)
						}
						i++
						val = args[i]
					}
					j = len(a)
				}
				if err := set(opt, val); err != nil {
					return fail("%v", err)
				}
			}
		default:
			files = append(files, a)
		}
	}
	if len(files) != 2 {
		return fail("need exactly two files, QRELS and RUN\n%s", usage)
	}
	measures, err := ParseMeasures(specs)
	if err != nil {
		return fail("%v", err)
	}
	qrels, err := trec.ReadQrels(files[0])
	if err != nil {
		return fail("%v", err)
	}
	run, err := trec.ReadRun(files[1])
	if err != nil {
		return fail("%v", err)
	}
	res, err := Evaluate(qrels, run, measures, opts)
	if err != nil {
		return fail("%v", err)
	}
	if noSummary {
		res.Summary = nil
	}
	bw := bufio.NewWriter(stdout)
	if err := Format(bw, res, perQuery); err != nil {
		return fail("write: %v", err)
	}
	if err := bw.Flush(); err != nil {
		return fail("write: %v", err)
	}
	return 0
}
