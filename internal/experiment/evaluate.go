package experiment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

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
	key := evalKey(in)
	out, hit, err := lookup(ctx, s, key, func(o EvalInfo) []artifact.Ref { return []artifact.Ref{o.PerQuery} })
	if err != nil {
		return out, err
	}
	if hit {
		out.Cached = true
		return out, nil
	}
	qrels, err := loadQrels(ctx, s, in.Qrels)
	if err != nil {
		return EvalInfo{}, err
	}
	if out, err = score(ctx, s, in, qrels, run); err != nil {
		return EvalInfo{}, err
	}
	return out, s.PutMemo(ctx, key, out)
}

func evalKey(in EvalInput) artifact.Key {
	return artifact.KeyOf(evalVersion, string(in.Qrels), string(in.Run), strings.Join(in.Metrics, ","), strconv.FormatBool(in.Complete))
}

func loadQrels(ctx context.Context, s artifact.Store, ref artifact.Ref) (trec.Qrels, error) {
	qb, err := artifact.ReadAll(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	return trec.ParseQrels(bytes.NewReader(qb), "qrels "+string(ref))
}

// score evaluates in.Run (or run, when the caller has it parsed) against
// qrels and stores the per-query table; the caller memoizes the result.
func score(ctx context.Context, s artifact.Store, in EvalInput, qrels trec.Qrels, run *trec.Run) (EvalInfo, error) {
	var out EvalInfo
	var err error
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
	return out, nil
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
// a reranked run instead of two, each with its workflow task. This step ends
// the reranked run, so its parts overlap: the qrels are read while the run
// is assembled; the run is evaluated as built (not read back and parsed)
// while it is stored; the three memo entries are written at once.
func AssembleAndEvaluate(ctx context.Context, s artifact.Store, in FinishInput) (FinishedRun, error) {
	var out FinishedRun
	var qrels trec.Qrels
	var qrelsErr error
	qrelsRead := make(chan struct{})
	go func() {
		defer close(qrelsRead)
		qrels, qrelsErr = loadQrels(ctx, s, in.Eval.Qrels)
	}()
	assembled, a, err := planAssembly(ctx, s, in.Assemble)
	<-qrelsRead
	if err != nil {
		return out, err
	}
	ev := in.Eval
	if a == nil { // assembled before: evaluated as Evaluate would (memo, or the stored run)
		out.Assembled = assembled
		ev.Run = assembled.Run.Ref
		out.Eval, err = evaluate(ctx, s, ev, nil)
		return out, err
	}
	ev.Run = artifact.RefOf(a.run)
	key := evalKey(ev)
	var storeErr, evalErr error
	var wg sync.WaitGroup
	wg.Go(func() { out.Assembled, storeErr = a.store(ctx, s) })
	wg.Go(func() {
		var hit bool
		if out.Eval, hit, evalErr = lookup(ctx, s, key, func(o EvalInfo) []artifact.Ref { return []artifact.Ref{o.PerQuery} }); evalErr != nil || hit {
			out.Eval.Cached = hit
			return
		}
		if evalErr = qrelsErr; evalErr == nil {
			out.Eval, evalErr = score(ctx, s, ev, qrels, a.parsed(ev.Run))
		}
	})
	wg.Wait()
	if err := errors.Join(storeErr, evalErr); err != nil {
		return out, err
	}
	if out.Assembled.Run.Ref != ev.Run {
		return out, fmt.Errorf("the store named the run %s, not %s (its content's hash)", out.Assembled.Run.Ref, ev.Run)
	}
	var memoErr error
	if !out.Eval.Cached {
		wg.Go(func() { memoErr = s.PutMemo(ctx, key, out.Eval) })
	}
	err = a.memo(ctx, s, out.Assembled)
	wg.Wait()
	return out, errors.Join(err, memoErr)
}
