package vector

// The kernels, for the tests and benchmarks in package vector_test.
var (
	DotKernel = dot
	DotGo     = dotGo
	SumFloats = sumFloats
	SumGo     = sumGo
)
