package eval

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runMain(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFiles(t *testing.T, qrels, run string) (string, string) {
	dir := t.TempDir()
	qp, rp := filepath.Join(dir, "qrels.txt"), filepath.Join(dir, "run.txt")
	require.NoError(t, os.WriteFile(qp, []byte(qrels), 0o644))
	require.NoError(t, os.WriteFile(rp, []byte(run), 0o644))
	return qp, rp
}

func TestCLIFlagForms(t *testing.T) {
	qp, rp := writeFiles(t, handQrels, handRun)
	want := "map                   \tall\t0.2667\n"
	for _, args := range [][]string{
		{"-m", "map", qp, rp},
		{"-mmap", qp, rp},
		{qp, "-m", "map", rp}, // options after operands, as GNU getopt allows
		{"--measure=map", qp, rp},
		{"--measure", "map", "--", qp, rp},
		{"-l1", "-mmap", qp, rp},
	} {
		code, out, errOut := runMain(args...)
		require.Equal(t, 0, code, "%v: %s", args, errOut)
		assert.Equal(t, want, out, "%v", args)
	}
	// bundled flags: -q, -c, then -m with the rest of the word as its value
	code, out, _ := runMain("-qcmnum_q", qp, rp)
	require.Equal(t, 0, code)
	assert.Equal(t, "num_q                 \tall\t3\n", out)
	// -n drops the summary
	code, out, _ = runMain("-q", "-n", "-m", "num_ret", qp, rp)
	require.Equal(t, 0, code)
	assert.Equal(t, "num_ret               \tq1\t5\nnum_ret               \tq2\t2\n", out)
}

func TestCLIErrors(t *testing.T) {
	qp, rp := writeFiles(t, handQrels, handRun)
	badRun := filepath.Join(t.TempDir(), "bad.run")
	require.NoError(t, os.WriteFile(badRun, []byte("q1 Q0 a 1 1.0 t\nq1 Q0 b 2 high t\n"), 0o644))
	dupRun := filepath.Join(t.TempDir(), "dup.run")
	require.NoError(t, os.WriteFile(dupRun, []byte("q1 Q0 a 1 1.0 t\nq1 Q0 a 2 0.5 t\n"), 0o644))
	otherRun := filepath.Join(t.TempDir(), "other.run")
	require.NoError(t, os.WriteFile(otherRun, []byte("zz Q0 a 1 1.0 t\n"), 0o644))

	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{qp}, "two files"},
		{[]string{"-x", qp, rp}, "unknown option -x"},
		{[]string{"-m", "bogus", qp, rp}, `unknown measure "bogus"`},
		{[]string{"-m"}, "needs a value"},
		{[]string{"-l", "zero", qp, rp}, "-l needs a positive integer"},
		{[]string{qp, filepath.Join(t.TempDir(), "missing")}, "cannot read run"},
		{[]string{qp, badRun}, badRun + `:2: score "high" is not a finite number`},
		{[]string{qp, dupRun}, dupRun + `:2: duplicate document "a" in query "q1"`},
		{[]string{qp, otherRun}, "no queries with both results and relevance judgments"},
	} {
		code, out, errOut := runMain(c.args...)
		assert.Equal(t, 1, code, "%v", c.args)
		assert.Empty(t, out, "%v", c.args)
		assert.Contains(t, errOut, c.msg, "%v", c.args)
	}
	code, out, _ := runMain("-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "usage: eval")
}
