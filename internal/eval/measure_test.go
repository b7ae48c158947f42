package eval

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/inputerr"
)

func names(ms []Measure) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Names...)
	}
	return out
}

func TestParseMeasuresConfigNames(t *testing.T) {
	ms, err := ParseMeasures([]string{"num_q", "recall.100", "P.10", "ndcg_cut.20", "map", "recip_rank", "num_rel_ret"})
	require.NoError(t, err)
	// trec_eval order, not the order given
	assert.Equal(t, []string{"num_q", "num_rel_ret", "map", "recip_rank", "P_10", "recall_100", "ndcg_cut_20"}, names(ms))
	assert.Equal(t, "ndcg_cut", ms[len(ms)-1].Name)
	assert.Equal(t, "20", ms[len(ms)-1].Params)
}

func TestParseMeasuresParams(t *testing.T) {
	for _, c := range []struct {
		spec string
		want []string
	}{
		{"P.5,7,3", []string{"P_3", "P_5", "P_7"}},                                     // sorted
		{"ndcg_cut.10,20,23.4", []string{"ndcg_cut_10", "ndcg_cut_20", "ndcg_cut_23"}}, // atol
		{"iprec_at_recall..5,0", []string{"iprec_at_recall_0.00", "iprec_at_recall_0.50"}},
		{"Rprec_mult.5.0,0.2", []string{"Rprec_mult_0.20", "Rprec_mult_5.00"}},
		{"utility.2,-1,0,0", []string{"utility_2,-1,0,0"}},
		{"ndcg.1=3,2=9", []string{"ndcg_1=3,2=9"}},
		{"success", []string{"success_1", "success_5", "success_10"}},
		{"map.5", []string{"map"}}, // trec_eval ignores parameters of plain measures
	} {
		ms, err := ParseMeasures([]string{c.spec})
		require.NoError(t, err, c.spec)
		assert.Equal(t, c.want, names(ms), c.spec)
	}
	// The first parameters given for a measure win, also across groups.
	ms, err := ParseMeasures([]string{"P.7", "official", "P.8"})
	require.NoError(t, err)
	assert.Contains(t, names(ms), "P_7")
	assert.NotContains(t, names(ms), "P_8")
	assert.NotContains(t, names(ms), "P_5")
	assert.Len(t, ms, 12)
}

func TestParseMeasuresErrors(t *testing.T) {
	for _, spec := range []string{"nope", "P.", "P.0", "P.-5", "P.5,5", "P.x", "iprec_at_recall..1,.1", "utility.1,2", "ndcg.1", "ndcg.a=2", "ndcg.1==2"} {
		_, err := ParseMeasures([]string{spec})
		require.Error(t, err, spec)
		assert.True(t, inputerr.Is(err), spec)
	}
	_, err := ParseMeasures([]string{"map", "ndcg@10"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "measures[1]")
	assert.Contains(t, err.Error(), "ndcg_cut") // lists what is supported
}

func TestDefaultMeasuresAreOfficial(t *testing.T) {
	ms, err := ParseMeasures(nil)
	require.NoError(t, err)
	assert.Equal(t, "runid", ms[0].Name)
	assert.Equal(t, "P", ms[len(ms)-1].Name)
}
