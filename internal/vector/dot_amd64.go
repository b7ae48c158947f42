//go:build !purego

package vector

// Implemented in dot_amd64.s.
func dotAVX2(a, b []float32) float32
func sumAVX2(a []float32) float32
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() uint32

var useAVX2 = hasAVX2FMA()

// hasAVX2FMA reports whether the CPU has AVX2 and FMA and the OS saves the YMM registers.
func hasAVX2FMA() bool {
	if maxLeaf, _, _, _ := cpuid(0, 0); maxLeaf < 7 {
		return false
	}
	_, _, c1, _ := cpuid(1, 0)
	_, b7, _, _ := cpuid(7, 0)
	const fma, osxsave, avx, avx2 = 1 << 12, 1 << 27, 1 << 28, 1 << 5
	if c1&fma == 0 || c1&osxsave == 0 || c1&avx == 0 || b7&avx2 == 0 {
		return false
	}
	return xgetbv()&6 == 6
}

func dot(a, b []float32) float32 {
	if useAVX2 {
		return dotAVX2(a, b[:len(a)])
	}
	return dotGo(a, b)
}

func sumFloats(a []float32) float32 {
	if useAVX2 {
		return sumAVX2(a)
	}
	return sumGo(a)
}
