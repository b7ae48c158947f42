package platform

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// A process polling the LLM queue gets twice the Ps, unless GOMAXPROCS is
// set; a CPU-only worker keeps its own.
func TestRaiseProcs(t *testing.T) {
	n := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(n)
	t.Setenv("GOMAXPROCS", "")
	for _, c := range []struct {
		q    Queues
		want int
	}{{QueuesCPU, n}, {QueuesLLM, 2 * n}, {QueuesBoth, 2 * n}} {
		runtime.GOMAXPROCS(n)
		before, after := RaiseProcs(c.q)
		require.Equal(t, n, before, c.q)
		require.Equal(t, c.want, after, c.q)
		require.Equal(t, c.want, runtime.GOMAXPROCS(0), c.q)
	}
	runtime.GOMAXPROCS(n)
	t.Setenv("GOMAXPROCS", "3")
	before, after := RaiseProcs(QueuesLLM)
	require.Equal(t, n, before)
	require.Equal(t, n, after, "the environment's choice stands")
}
