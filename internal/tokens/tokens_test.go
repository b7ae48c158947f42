package tokens

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEncodingIsBuiltOnceAndShared(t *testing.T) {
	a, err := Encoding("cl100k_base")
	require.NoError(t, err)
	b, err := Encoding("cl100k_base")
	require.NoError(t, err)
	require.Same(t, a, b)
	require.Len(t, a.EncodeOrdinary("hello world"), 2)
	_, err = Encoding("no_such_base")
	require.ErrorContains(t, err, `"no_such_base"`)
}
