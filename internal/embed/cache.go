package embed

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
)

// keyV is the version of the Key layout; bump it when the layout changes.
const keyV = 1

// Key is the content address of one embedding: the hex sha256 of a canonical
// JSON of the model (Client.ID(): endpoint name and model), the requested
// dimensions (0: the model's own) and the exact input sent — prefix,
// truncated text and suffix — so a change of any of them is another key.
// Normalisation is not part of it: the cache holds the server's raw vectors.
func Key(model string, dimensions int, input string) string {
	b, _ := json.Marshal(struct {
		V          int    `json:"v"`
		Model      string `json:"model"`
		Dimensions int    `json:"dimensions"`
		Input      string `json:"input"`
	}{keyV, model, dimensions, input}) // cannot fail: strings and ints
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// encodeVector is the cached form: base64 of little-endian float32s (exact,
// and a third of the size of JSON numbers).
func encodeVector(v []float32) string {
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(buf)
}

// decodeVector reads a cached vector; ok is false for anything but a
// non-empty vector of finite values.
func decodeVector(s string) ([]float32, bool) {
	buf, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(buf) == 0 || len(buf)%4 != 0 {
		return nil, false
	}
	v := make([]float32, len(buf)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		if f := float64(v[i]); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
	}
	return v, true
}
