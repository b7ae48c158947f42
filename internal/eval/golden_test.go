package eval

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trec_eval's own regression data (testdata/README.md says how each expected
// file was produced). Every measure in them is implemented, so the outputs
// must match byte for byte.
func TestGoldenTrecEvalOutputs(t *testing.T) {
	td := func(f string) string { return filepath.Join("testdata", f) }
	cases := []struct {
		expected string
		args     []string
	}{
		{"out.test", []string{td("qrels.test"), td("results.test")}},
		{"out.test.aq", []string{"-m", "all_trec", "-q", td("qrels.test"), td("results.test")}},
		{"out.test.aqc", []string{"-m", "all_trec", "-q", "-c", td("qrels.test"), td("results.trunc")}},
		{"out.test.meas_params", []string{"-q", "-miprec_at_recall..10,.20,.25,.75,.50",
			"-m", "P.5,7,3", "-m", "recall.20,2000", "-m", "Rprec_mult.5.0,0.2,0.35",
			"-mutility.2,-1,0,0", "-m", "11pt_avg..25,.5,.75", "-mndcg.1=3,2=9,4=4.5",
			"-mndcg_cut.10,20,23.4", "-msuccess.2,5,20", td("qrels.test"), td("results.test")}},
	}
	for _, c := range cases {
		t.Run(c.expected, func(t *testing.T) {
			want, err := os.ReadFile(td(c.expected))
			require.NoError(t, err)
			var out, errOut bytes.Buffer
			require.Equal(t, 0, Main(c.args, &out, &errOut), errOut.String())
			wantLines := strings.SplitAfter(string(want), "\n")
			gotLines := strings.SplitAfter(out.String(), "\n")
			require.Equal(t, len(wantLines), len(gotLines), "line count")
			for i := range wantLines {
				assert.Equal(t, wantLines[i], gotLines[i], "line %d", i+1)
			}
		})
	}
}
