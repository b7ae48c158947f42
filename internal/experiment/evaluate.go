package experiment

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/eval"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/trec"
)

// EvalInput names a run, the qrels to judge it by and the measures.
type EvalInput struct {
	Qrels    artifact.Ref `json:"qrels"`
	Run      artifact.Ref `json:"run"`
	Metrics  []string     `json:"metrics"`
	Complete bool         `json:"complete"`
}

// Evaluate scores a run with trec_eval semantics. The per-query table is the
// byte-exact `trec_eval -q` output, stored next to the run.
func Evaluate(ctx context.Context, s artifact.Store, in EvalInput) (EvalInfo, error) {
	return evaluate(ctx, s, in, nil)
}

// evaluate is Evaluate of in.Run, or of run when the caller has it parsed
// (as ParseRun would return it from in.Run's bytes).
func evaluate(ctx context.Context, s artifact.Store, in EvalInput, run *trec.Run) (EvalInfo, error) {
	key := artifact.KeyOf(evalVersion, string(in.Qrels), string(in.Run), strings.Join(in.Metrics, ","), strconv.FormatBool(in.Complete))
	out, hit, err := lookup(ctx, s, key, func(o EvalInfo) []artifact.Ref { return []artifact.Ref{o.PerQuery} })
	if err != nil {
		return out, err
	}
	if hit {
		out.Cached = true
		return out, nil
	}
	qb, err := artifact.ReadAll(ctx, s, in.Qrels)
	if err != nil {
		return EvalInfo{}, err
	}
	qrels, err := trec.ParseQrels(bytes.NewReader(qb), "qrels "+string(in.Qrels))
	if err != nil {
		return EvalInfo{}, err
	}
	if run == nil {
		if run, err = readRun(ctx, s, in.Run); err != nil {
			return EvalInfo{}, err
		}
	}
	measures, err := eval.ParseMeasures(in.Metrics)
	if err != nil {
		return EvalInfo{}, inputerr.Field("metrics", "%v", err)
	}
	res, err := eval.Evaluate(qrels, run, measures, eval.Options{Complete: in.Complete})
	if err != nil {
		return EvalInfo{}, err
	}
	var buf bytes.Buffer
	if err := eval.Format(&buf, res, true); err != nil {
		return EvalInfo{}, err
	}
	if out.PerQuery, err = artifact.Put(ctx, s, buf.Bytes()); err != nil {
		return EvalInfo{}, err
	}
	if out.Summary, err = summaryOf(res, in.Metrics); err != nil {
		return EvalInfo{}, err
	}
	out.NumQueries = len(res.Queries)
	return out, s.PutMemo(ctx, key, out)
}

// summaryOf names each aggregate by the config's spelling (ndcg_cut.20), in
// the config's order; each config metric reports exactly one value.
func summaryOf(res *eval.Result, metrics []string) ([]MetricValue, error) {
	out := make([]MetricValue, 0, len(metrics))
	for _, m := range metrics {
		ms, err := eval.ParseMeasures([]string{m})
		if err != nil || len(ms) != 1 || len(ms[0].Names) != 1 {
			return nil, inputerr.Field("metrics", "%q must name exactly one value, e.g. ndcg_cut.20", m)
		}
		v, ok := res.Get(ms[0].Names[0])
		if !ok {
			return nil, fmt.Errorf("evaluation produced no %s", ms[0].Names[0])
		}
		out = append(out, MetricValue{Name: m, Value: v})
	}
	return out, nil
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// FinishInput assembles a reranked run and evaluates it (Eval.Run is the
// assembled run's and is ignored).
type FinishInput struct {
	Assemble AssembleInput `json:"assemble"`
	Eval     EvalInput     `json:"eval"`
}

// FinishedRun is the assembled run and its evaluation.
type FinishedRun struct {
	Assembled AssembledRun `json:"assembled"`
	Eval      EvalInfo     `json:"eval"`
}

// AssembleAndEvaluate is AssembleRun then Evaluate: one step at the end of
// a reranked run instead of two, each with its workflow task.
func AssembleAndEvaluate(ctx context.Context, s artifact.Store, in FinishInput) (FinishedRun, error) {
	var out FinishedRun
	var err error
	var run *trec.Run
	if out.Assembled, run, err = assembleRun(ctx, s, in.Assemble); err != nil {
		return out, err
	}
	ev := in.Eval
	ev.Run = out.Assembled.Run.Ref
	// The run just written is evaluated as built, not read back and parsed
	// again: this step ends the reranked run.
	out.Eval, err = evaluate(ctx, s, ev, run)
	return out, err
}
