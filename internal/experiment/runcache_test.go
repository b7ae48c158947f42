package experiment

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/trec"
)

// A run this process wrote is read back from memory, equal to the parsed
// file; older ones and large ones come from the store.
func TestWrittenRunsAreTheParsedFiles(t *testing.T) {
	ctx := context.Background()
	s, err := artifact.NewFS(t.TempDir())
	require.NoError(t, err)
	write := func(i, hits int) (artifact.Ref, *trec.Run) {
		rk := trec.Ranking{QID: "q1"}
		for d := range hits {
			rk.Hits = append(rk.Hits, trec.Result{DocID: fmt.Sprint("d", d), Score: 1 / float64(d+i+1)})
		}
		var buf bytes.Buffer
		require.NoError(t, trec.WriteRun(&buf, "tag", []trec.Ranking{rk}))
		ref, err := artifact.Put(ctx, s, buf.Bytes())
		require.NoError(t, err)
		parsed, err := trec.ParseRun(bytes.NewReader(buf.Bytes()), "run "+string(ref))
		require.NoError(t, err)
		primeRun(ref, "tag", []trec.Ranking{rk})
		return ref, parsed
	}
	first, want := write(1, 50)
	got, err := readRun(ctx, s, first)
	require.NoError(t, err)
	require.Equal(t, want, got)
	cached, ok := writtenRuns.get(first)
	require.True(t, ok)
	require.Same(t, cached, got, "from memory")
	for i := range runCacheRuns {
		write(i+2, 5)
	}
	got, err = readRun(ctx, s, first) // dropped: read from the store
	require.NoError(t, err)
	require.Equal(t, want, got)
	big, want := write(99, runCacheResults+1)
	_, kept := writtenRuns.get(big)
	require.False(t, kept)
	got, err = readRun(ctx, s, big)
	require.NoError(t, err)
	require.Equal(t, want, got)
}
