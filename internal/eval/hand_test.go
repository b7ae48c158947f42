package eval

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/trec"
)

// Small cases whose expected values are derived by hand from the definitions.
//
// q1 judgments: a=1 b=0 c=1 d=2 (graded). Run scores: a 1.0, b 2.0, c 2.0,
// d 0.5, e 2.0 (e unjudged). The three-way tie at 2.0 breaks by docno
// descending, so the ranking is e c b a d with judgments - 1 0 1 2.
// q2 is judged but has no relevant document. q3 is judged (2 relevant) but
// not in the run; q4 is in the run only.
const handQrels = `q1 0 a 1
q1 0 b 0
q1 0 c 1
q1 0 d 2
q2 0 x 0
q2 0 y 0
q3 0 m 1
q3 0 n 3
`

const handRun = `q1 Q0 a 1 1.0 tagA
q1 Q0 b 2 2.0 tagA
q1 Q0 c 3 2.0 tagA
q1 Q0 d 4 0.5 tagA
q1 Q0 e 5 2.0 tagA
q2 Q0 x 1 1.0 tagA
q2 Q0 z 2 0.5 tagA
q4 Q0 a 1 9.0 tagB
`

func handInputs(t *testing.T) (trec.Qrels, *trec.Run) {
	q, err := trec.ParseQrels(strings.NewReader(handQrels), "h.qrels")
	require.NoError(t, err)
	r, err := trec.ParseRun(strings.NewReader(handRun), "h.run")
	require.NoError(t, err)
	return q, r
}

func mustMeasures(t *testing.T, specs ...string) []Measure {
	ms, err := ParseMeasures(specs)
	require.NoError(t, err)
	return ms
}

func queryByID(t *testing.T, res *Result, qid string) *QueryResult {
	for i := range res.Queries {
		if res.Queries[i].QID == qid {
			return &res.Queries[i]
		}
	}
	t.Fatalf("query %s not evaluated", qid)
	return nil
}

func TestHandTiesAndGradedRelevance(t *testing.T) {
	q, r := handInputs(t)
	res, err := Evaluate(q, r, mustMeasures(t, "all_trec", "ndcg_cut.1,3", "success.1,2", "recall.2"), Options{})
	require.NoError(t, err)
	q1 := queryByID(t, res, "q1")
	want := map[string]float64{
		"num_ret":     5,
		"num_rel":     3, // a c d
		"num_rel_ret": 3,
		"map":         (1.0/2 + 2.0/4 + 3.0/5) / 3, // relevant at ranks 2, 4, 5
		"recip_rank":  0.5,
		"Rprec":       1.0 / 3, // top 3 = e c b
		"P_5":         3.0 / 5,
		"P_10":        3.0 / 10,
		// only b is judged non-relevant: c is preferred to it, a and d are not
		"bpref":                1.0 / 3,
		"iprec_at_recall_0.00": 0.6, // precision 1/2, 2/4, 3/5 at the relevant docs
		"iprec_at_recall_1.00": 0.6,
		"success_1":            0,
		"success_2":            1,
		"recall_2":             1.0 / 3,
		// gains are the judgments: c=1 at rank 2, a=1 at 4, d=2 at 5;
		// ideal ranking d c a gives 2/log2(2) + 1/log2(3) + 1/log2(4)
		"ndcg":                  (1/math.Log2(3) + 1/math.Log2(5) + 2/math.Log2(6)) / (2 + 1/math.Log2(3) + 0.5),
		"ndcg_cut_1":            0, // e is unjudged
		"ndcg_cut_3":            (1 / math.Log2(3)) / (2 + 1/math.Log2(3) + 0.5),
		"num_nonrel_judged_ret": 1, // b
		"set_P":                 3.0 / 5,
		"set_recall":            1,
	}
	for name, w := range want {
		got, ok := q1.Get(name)
		if assert.True(t, ok, name) {
			assert.InDelta(t, w, got, 1e-12, name)
		}
	}
	for _, v := range q1.Values {
		if v.Name == "relstring" {
			assert.Equal(t, "-1012", v.Text)
		}
	}
	// The tie order shows in the printed numbers too.
	var out bytes.Buffer
	require.NoError(t, Format(&out, res, true))
	assert.Contains(t, out.String(), "ndcg                  \tq1\t0.5862\n")
	assert.Contains(t, out.String(), "relstring             \tq1\t'-1012'\n")
	assert.Contains(t, out.String(), "runid                 \tall\ttagB\n") // tag of the last line
}

func TestHandRelevanceLevel(t *testing.T) {
	q, r := handInputs(t)
	res, err := Evaluate(q, r, mustMeasures(t, "map", "P.5", "bpref", "num_rel"), Options{RelevanceLevel: 2})
	require.NoError(t, err)
	q1 := queryByID(t, res, "q1")
	for name, w := range map[string]float64{
		"num_rel": 1,       // only d
		"map":     1.0 / 5, // d at rank 5
		"P_5":     1.0 / 5,
		"bpref":   0, // a, b, c are all judged non-relevant and ranked above d
	} {
		got, _ := q1.Get(name)
		assert.InDelta(t, w, got, 1e-12, name)
	}
}

func TestHandNoRelevantDocs(t *testing.T) {
	q, r := handInputs(t)
	res, err := Evaluate(q, r, mustMeasures(t, "all_trec"), Options{})
	require.NoError(t, err)
	q2 := queryByID(t, res, "q2")
	for _, v := range q2.Values {
		switch v.Name {
		case "num_ret":
			assert.Equal(t, 2.0, v.Num)
		case "num_nonrel_judged_ret", "utility": // x judged non-relevant; utility = -1 per non-relevant
			assert.Equal(t, map[string]float64{"num_nonrel_judged_ret": 1, "utility": -2}[v.Name], v.Num, v.Name)
		case "relstring":
			assert.Equal(t, "0-", v.Text)
		default:
			assert.Zero(t, v.Num, v.Name)
		}
	}
}

func TestHandMissingQueries(t *testing.T) {
	q, r := handInputs(t)
	ms := mustMeasures(t, "official")
	ap1 := (1.0/2 + 2.0/4 + 3.0/5) / 3

	res, err := Evaluate(q, r, ms, Options{})
	require.NoError(t, err)
	require.Len(t, res.Queries, 2) // q3 has no results, q4 no judgments
	assert.Equal(t, "q1", res.Queries[0].QID)
	assert.Equal(t, "q2", res.Queries[1].QID)
	for name, w := range map[string]float64{
		"num_q":   2,
		"num_ret": 7, // q4's result is not counted
		"num_rel": 3,
		"map":     ap1 / 2,
		// geometric mean with q2's 0 floored at 1e-5
		"gm_map": math.Sqrt(ap1 * 1e-5),
	} {
		got, _ := res.Get(name)
		assert.InDelta(t, w, got, 1e-12, name)
	}

	res, err = Evaluate(q, r, ms, Options{Complete: true})
	require.NoError(t, err)
	require.Len(t, res.Queries, 2) // -c prints no lines for q3
	for name, w := range map[string]float64{
		"num_q":   3,
		"num_ret": 7,
		"num_rel": 5, // q3's two relevant documents count
		"map":     ap1 / 3,
		"gm_map":  math.Cbrt(ap1 * 1e-5 * 1e-5),
	} {
		got, _ := res.Get(name)
		assert.InDelta(t, w, got, 1e-12, name)
	}
}

func TestHandCLIFormat(t *testing.T) {
	dir := t.TempDir()
	qp, rp := filepath.Join(dir, "q"), filepath.Join(dir, "r")
	require.NoError(t, os.WriteFile(qp, []byte(handQrels), 0o644))
	require.NoError(t, os.WriteFile(rp, []byte(handRun), 0o644))
	var out, errOut bytes.Buffer
	require.Equal(t, 0, Main([]string{"-q", "-c", "-m", "map", "-mnum_q", "-m", "P.5", "-m", "num_rel", qp, rp}, &out, &errOut), errOut.String())
	// measure order is trec_eval's, not the command line's; 0.5333/3 = 0.1778
	assert.Equal(t, ""+
		"num_rel               \tq1\t3\n"+
		"map                   \tq1\t0.5333\n"+
		"P_5                   \tq1\t0.6000\n"+
		"num_rel               \tq2\t0\n"+
		"map                   \tq2\t0.0000\n"+
		"P_5                   \tq2\t0.0000\n"+
		"num_q                 \tall\t3\n"+
		"num_rel               \tall\t5\n"+
		"map                   \tall\t0.1778\n"+
		"P_5                   \tall\t0.2000\n", out.String())
}
