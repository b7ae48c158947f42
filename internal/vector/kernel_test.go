package vector_test

import (
	"math"
	mrand "math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/vector"
)

// The kernels (assembly where the CPU has it, and the Go fallback) against a
// float64 reference, over lengths that exercise every tail and unaligned starts.
func TestKernels(t *testing.T) {
	r := mrand.New(mrand.NewPCG(3, 4))
	buf := make([]float32, 2200)
	for i := range buf {
		buf[i] = r.Float32()*2 - 1
	}
	for _, n := range append([]int{0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100}, 1023, 1024, 1025, 1031) {
		for _, off := range []int{0, 1, 3} {
			a, b := buf[off:off+n], buf[1100+off:1100+off+n]
			var dot, sum float64
			for i := range a {
				dot += float64(a[i]) * float64(b[i])
				sum += float64(a[i])
			}
			tol := 1e-5 * math.Sqrt(float64(n)+1)
			require.InDelta(t, dot, vector.DotKernel(a, b), tol, "dot n=%d off=%d", n, off)
			require.InDelta(t, dot, vector.DotGo(a, b), tol, "dotGo n=%d off=%d", n, off)
			require.InDelta(t, sum, vector.SumFloats(a), tol, "sum n=%d off=%d", n, off)
			require.InDelta(t, sum, vector.SumGo(a), tol, "sumGo n=%d off=%d", n, off)
		}
	}
	// b may be longer than a: only len(a) elements count.
	require.Equal(t, float32(3), vector.DotKernel([]float32{1, 1, 1}, []float32{1, 1, 1, 100}))
}
