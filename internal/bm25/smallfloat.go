package bm25

import "math/bits"

// Port of Lucene's org.apache.lucene.util.SmallFloat (Lucene 9), used to
// store document lengths in one byte.

// longToInt4 encodes a non-negative value as a float-like int with 4
// significant bits, preserving order.
func longToInt4(i int64) int32 {
	if i < 0 {
		panic("bm25: longToInt4 of a negative value")
	}
	numBits := 64 - bits.LeadingZeros64(uint64(i))
	if numBits < 4 {
		return int32(i) // subnormal value
	}
	shift := numBits - 4
	encoded := int32(uint64(i) >> uint(shift)) // the 4 most significant bits
	encoded &= 0x07                            // the leading bit is implicit
	encoded |= int32(shift+1) << 3             // 0 is reserved for subnormals
	return encoded
}

// int4ToLong decodes a value encoded by longToInt4.
func int4ToLong(i int32) int64 {
	b := int64(i & 0x07)
	shift := (i >> 3) - 1
	if shift == -1 {
		return b // subnormal value
	}
	return (b | 0x08) << uint(shift)
}

var (
	maxInt4       = longToInt4(1<<31 - 1) // 231
	numFreeValues = 255 - maxInt4         // 24
)

// intToByte4 encodes a document length into a byte: values below
// numFreeValues are exact, larger ones keep 4 significant bits.
func intToByte4(i int) byte {
	if i < 0 {
		panic("bm25: intToByte4 of a negative value")
	}
	if int64(i) > 1<<31-1 {
		i = 1<<31 - 1
	}
	if int32(i) < numFreeValues {
		return byte(i)
	}
	return byte(numFreeValues + longToInt4(int64(i)-int64(numFreeValues)))
}

// byte4ToInt decodes a byte produced by intToByte4.
func byte4ToInt(b byte) int {
	i := int32(b)
	if i < numFreeValues {
		return int(i)
	}
	return int(int64(numFreeValues) + int4ToLong(i-numFreeValues))
}

// lengthTable is Lucene's BM25Similarity.LENGTH_TABLE: the decoded length of
// every norm byte, as float32.
var lengthTable = func() [256]float32 {
	var t [256]float32
	for i := range t {
		t[i] = float32(byte4ToInt(byte(i)))
	}
	return t
}()
