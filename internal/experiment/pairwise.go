package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/llm"
	"github.com/clirflow/clirflow/internal/rerank"
)

// PassInput is one PRP bubble-sort pass of one query (or, for allpair, the
// whole sort). State is the checkpoint from the previous pass; empty starts
// from the first-stage order.
type PassInput struct {
	Candidates artifact.Ref    `json:"candidates"`
	QID        string          `json:"qid"`
	Method     string          `json:"method"` // bubblesort or allpair
	K          int             `json:"k"`
	State      json.RawMessage `json:"state,omitempty"`
	Endpoint   config.Endpoint `json:"endpoint"`
}

// PassResult carries the state for the next pass (small: the order and the
// memo of answers) and, when Done, the final order.
type PassResult struct {
	State json.RawMessage `json:"state,omitempty"`
	Done  bool            `json:"done"`
	Order []string        `json:"order,omitempty"`
	Stats CallStats       `json:"stats"`
	// Sort counts comparisons asked and answered from the memo in this pass.
	Sort  rerank.Stats `json:"sort"`
	Audit artifact.Ref `json:"audit"`
}

// comparisonAudit is one PRP comparison: both prompts and answers.
type comparisonAudit struct {
	Lower, Upper string
	AsA, AsB     AuditRecord
}

// RerankPass runs PRP comparisons until the end of a bubble-sort pass,
// calling checkpoint with the state after every comparison (the activity
// heartbeats it, and resumes from it after a retry). resume, if not nil, is
// the last checkpoint of a previous attempt of this same pass.
func RerankPass(ctx context.Context, s artifact.Store, c Chatter, in PassInput, resume json.RawMessage, checkpoint func(json.RawMessage)) (PassResult, error) {
	q, err := LoadQuery(ctx, s, in.Candidates, in.QID)
	if err != nil {
		return PassResult{}, err
	}
	var out PassResult
	var audits []comparisonAudit
	// ask asks both orders of a comparison; the prompts with first as
	// Passage A and second as Passage B, then the reverse.
	ask := func(first, second string) (rerank.Verdict, rerank.Verdict, error) {
		pf, ok1 := q.Passage(first)
		ps, ok2 := q.Passage(second)
		if !ok1 || !ok2 {
			return 0, 0, fmt.Errorf("documents %q/%q are not candidates of query %s", first, second, in.QID)
		}
		var verdicts [2]rerank.Verdict
		var recs [2]AuditRecord
		for i, pair := range [2][2]string{{pf, ps}, {ps, pf}} {
			msgs := toLLM(rerank.PairwisePrompt(q.Query, pair[0], pair[1]))
			resp, err := c.Chat(ctx, llm.Request{Messages: msgs, Temperature: 0})
			if err != nil {
				return 0, 0, err
			}
			v, repaired := rerank.ParsePairwise(resp.Content)
			st := statsOf(resp)
			if repaired {
				st.Repairs = 1
			}
			if v == rerank.Unknown {
				st.Unusable = 1
			}
			out.Stats.Add(st)
			verdicts[i] = v
			docs := []string{first, second}
			if i == 1 {
				docs = []string{second, first}
			}
			recs[i] = AuditRecord{Kind: "comparison", QID: in.QID, Endpoint: c.ID(), Docs: docs, Messages: msgs,
				Answer: resp.Content, Verdict: v.String(), Repaired: repaired, Stats: st, At: time.Now().UTC()}
		}
		audits = append(audits, comparisonAudit{Lower: first, Upper: second, AsA: recs[0], AsB: recs[1]})
		return verdicts[0], verdicts[1], nil
	}

	if in.Method == "allpair" {
		order, st, err := rerank.AllPair(q.IDs(), in.K, func(first, second string) (bool, bool, error) {
			a, b, err := ask(first, second)
			if err != nil {
				return false, false, err
			}
			firstWins, _, inconsistent := rerank.Decide(a, b)
			return firstWins, inconsistent, nil
		})
		if err != nil {
			return PassResult{}, err
		}
		out.Done, out.Order, out.Sort = true, order, st
		out.Audit, err = putJSON(ctx, s, audits)
		return out, err
	}

	st := rerank.NewBubble(q.IDs(), in.K)
	switch {
	case len(resume) > 0:
		err = json.Unmarshal(resume, st)
	case len(in.State) > 0:
		err = json.Unmarshal(in.State, st)
	}
	if err != nil {
		return PassResult{}, inputerr.Field("state", "damaged PRP checkpoint: %v", err)
	}
	before := st.Stats()
	lower, upper, done := st.Next()
	for !done {
		a, b, err := ask(lower, upper)
		if err != nil {
			return PassResult{}, err
		}
		st.RecordVerdicts(lower, upper, a, b)
		state, err := json.Marshal(st)
		if err != nil {
			return PassResult{}, err
		}
		if checkpoint != nil {
			checkpoint(state)
		}
		if st.PassDone() {
			break
		}
		lower, upper, done = st.Next()
	}
	if out.State, err = json.Marshal(st); err != nil {
		return PassResult{}, err
	}
	after := st.Stats()
	out.Sort = rerank.Stats{Comparisons: after.Comparisons - before.Comparisons, Asked: after.Asked - before.Asked,
		MemoHits: after.MemoHits - before.MemoHits, Swaps: after.Swaps - before.Swaps, Inconsistent: after.Inconsistent - before.Inconsistent}
	if st.Done() {
		out.Done, out.Order = true, st.Final()
	}
	out.Audit, err = putJSON(ctx, s, audits)
	return out, err
}
