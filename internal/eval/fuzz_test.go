package eval

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/trec"
)

// Any input either fails with an error or evaluates; nothing panics.
func FuzzEvaluate(f *testing.F) {
	f.Add(handQrels, handRun, "all_trec")
	f.Add("1 0 a -1\n1 0 b 0\n", "1 Q0 a 1 1 t\n1 Q0 b 1 1 t\n", "ndcg.-1=2,0=-3")
	f.Add("1 0 a 5\n1 0 b 2\n", "1 Q0 c 1 1 t\n", "Rndcg.5=0.5")
	f.Add("1 0 a 1\n", "1 Q0 a 1 1 t\n", "relstring.1e300")
	f.Fuzz(func(t *testing.T, qrels, run, spec string) {
		q, err := trec.ParseQrels(strings.NewReader(qrels), "q")
		if err != nil {
			return
		}
		r, err := trec.ParseRun(strings.NewReader(run), "r")
		if err != nil {
			return
		}
		ms, err := ParseMeasures([]string{"all_trec", spec})
		if err != nil {
			return
		}
		for _, c := range []bool{false, true} {
			res, err := Evaluate(q, r, ms, Options{Complete: c})
			if err == nil {
				require.NoError(t, Format(&strings.Builder{}, res, true))
			}
		}
	})
}

func TestEvaluateHandBuiltMeasures(t *testing.T) {
	q, r := handInputs(t)
	res, err := Evaluate(q, r, []Measure{{Name: "P", Params: "2"}}, Options{})
	require.NoError(t, err)
	v, ok := res.Get("P_2")
	assert.True(t, ok)
	assert.InDelta(t, 0.25, v, 1e-12) // q1: e c → 1/2; q2: 0
	_, err = Evaluate(q, r, []Measure{{Name: "nope"}}, Options{})
	assert.Error(t, err)
}
