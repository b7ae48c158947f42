package experiment

import (
	"bytes"
	"context"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/trec"
)

// writtenRuns keeps the last runs this process wrote, as ParseRun reads them
// back (trec.RunOf), so that the next step in the same worker — candidates
// for a reranker, an evaluation — neither reads nor parses the file again:
// at the start of a reranked run, reading and parsing its 20,000-line first
// stage took 13-40 ms. Artifacts are immutable, so a cached run is the
// file's; runs written elsewhere are read from the store. Callers must not
// modify a run they get.
var writtenRuns = newFIFOCache[artifact.Ref, *trec.Run](runCacheRuns)

const (
	runCacheRuns    = 4       // runs kept
	runCacheResults = 200_000 // larger runs are not kept
)

// primeRun records the run written under ref from tag and rankings.
func primeRun(ref artifact.Ref, tag string, rankings []trec.Ranking) {
	n := 0
	for _, r := range rankings {
		n += len(r.Hits)
	}
	if n > runCacheResults {
		return
	}
	run, ok := trec.RunOf("run "+string(ref), tag, rankings)
	if !ok {
		return
	}
	writtenRuns.put(ref, run)
}

// readRun returns the run stored under ref, parsed.
func readRun(ctx context.Context, s artifact.Store, ref artifact.Ref) (*trec.Run, error) {
	if run, ok := writtenRuns.get(ref); ok {
		return run, nil
	}
	b, err := artifact.ReadAll(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	return trec.ParseRun(bytes.NewReader(b), "run "+string(ref))
}
