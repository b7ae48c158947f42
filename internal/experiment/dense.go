package experiment

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/dataset"
	"github.com/clirflow/clirflow/internal/embed"
	"github.com/clirflow/clirflow/internal/fusion"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/trec"
	"github.com/clirflow/clirflow/internal/vector"
)

const (
	denseIndexVersion    = "dense-index-v1"
	denseRetrieveVersion = "dense-retrieve-v1"
	fuseVersion          = "fuse-v1"
	// DefaultUpsertBatch points per upsert (Qdrant's advice: 64–256).
	DefaultUpsertBatch = 128
)

// Encoder is the embedding client dense stages use (embed.Client).
type Encoder interface {
	embed.Embedder
	Stats() embed.Stats
}

// DenseIndexInput embeds a prepared corpus into a vector collection.
type DenseIndexInput struct {
	Corpus   artifact.Ref       `json:"corpus"`
	Endpoint config.Endpoint    `json:"endpoint"`
	Encoder  embed.Preset       `json:"encoder"` // resolved: prefixes, limits, normalisation
	Store    config.VectorStore `json:"store"`
	Metric   string             `json:"metric"` // cosine or dot
	Field    string             `json:"field"`  // config field of the first stage, for errors
}

// DenseIndexInfo names a complete collection.
type DenseIndexInfo struct {
	Collection string `json:"collection"`
	Store      string `json:"store"`
	Dim        int    `json:"dim"`
	NumDocs    int    `json:"num_docs"`
	// Skipped documents have no text to embed (they cannot be retrieved).
	Skipped int        `json:"skipped"`
	Embed   EmbedStats `json:"embed"`
	Cached  bool       `json:"cached"`
}

// EmbedStats is the compact account of an embedding step.
type EmbedStats struct {
	Texts     int64 `json:"texts"`
	CacheHits int64 `json:"cache_hits"`
	Requests  int64 `json:"requests"`
	Tokens    int64 `json:"tokens"`
}

func embedDelta(before, after embed.Stats) EmbedStats {
	return EmbedStats{Texts: after.Texts - before.Texts, CacheHits: after.CacheHits - before.CacheHits,
		Requests: after.Requests - before.Requests, Tokens: after.Tokens - before.Tokens}
}

// Collection is the name of the collection of a corpus under an encoder: a
// hash of everything that changes the vectors, so two experiments with the
// same corpus and encoder share it, and nothing else does.
func (in DenseIndexInput) Collection(encoderID string) (string, error) {
	b, err := json.Marshal(struct {
		V, Corpus, Encoder, Metric string
		Format                     embed.Format
	}{denseIndexVersion, string(in.Corpus), encoderID, in.Metric, in.Encoder.Format})
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return "clirflow-" + hex.EncodeToString(h[:12]), nil
}

// BuildDenseIndex embeds every document of the corpus into a collection of
// vs, batch by batch. resume is the number of documents already upserted by an
// earlier attempt (from its heartbeat); progress is called after each batch
// with the new count, so a retried attempt continues where this one stopped.
// The collection is marked complete, and memoised, only after the last batch:
// a half-loaded collection is never searched.
func BuildDenseIndex(ctx context.Context, s artifact.Store, vs vector.VectorStore, em Encoder, in DenseIndexInput, resume int, progress func(done int)) (DenseIndexInfo, error) {
	name, err := in.Collection(em.ID())
	if err != nil {
		return DenseIndexInfo{}, err
	}
	metric := vector.Metric(in.Metric)
	key := artifact.KeyOf(denseIndexVersion, name, in.Store.Key())
	var out DenseIndexInfo
	if ok, err := s.GetMemo(ctx, key, &out); err != nil {
		return out, err
	} else if ok {
		info, err := vs.Info(ctx, name)
		if err == nil && info.Complete && info.Count == out.NumDocs-out.Skipped {
			out.Cached, out.Embed = true, EmbedStats{}
			return out, nil
		}
		if err != nil && !errors.Is(err, vector.ErrNotFound) {
			return DenseIndexInfo{}, err
		}
	}
	// A collection left by an attempt that did not checkpoint (or by another
	// store's run) cannot be trusted: start it again.
	info, err := vs.Info(ctx, name)
	switch {
	case errors.Is(err, vector.ErrNotFound):
		resume = 0
	case err != nil:
		return DenseIndexInfo{}, err
	case resume == 0 || info.Complete || info.Count != resume:
		if err := vs.Delete(ctx, name); err != nil && !errors.Is(err, vector.ErrNotFound) {
			return DenseIndexInfo{}, err
		}
		resume = 0
	}
	created := resume > 0
	before := em.Stats()
	out = DenseIndexInfo{Collection: name, Store: in.Store.Kind, Dim: info.Dim}
	batchSize := in.Store.BatchSize
	if batchSize <= 0 {
		batchSize = DefaultUpsertBatch
	}
	var ids, texts []string
	n := 0 // documents seen with text
	flush := func() error {
		if len(texts) == 0 {
			return nil
		}
		vecs, err := em.Embed(ctx, texts, embed.Passage)
		if err != nil {
			return err
		}
		if !created {
			out.Dim = len(vecs[0])
			if err := vs.Create(ctx, name, out.Dim, metric); err != nil {
				return err
			}
			created = true
		}
		pts := make([]vector.Point, len(ids))
		for i := range ids {
			pts[i] = vector.Point{DocID: ids[i], Vector: vecs[i]}
		}
		if err := vs.Upsert(ctx, name, pts); err != nil {
			return err
		}
		n += len(ids)
		if progress != nil {
			progress(n)
		}
		ids, texts = ids[:0], texts[:0]
		return nil
	}
	err = forEachDocument(ctx, s, in.Corpus, func(d dataset.Document) error {
		out.NumDocs++
		text := strings.TrimSpace(strings.TrimSpace(d.Title) + " " + strings.TrimSpace(d.Text))
		if text == "" {
			out.Skipped++
			return nil
		}
		if n+len(ids) < resume {
			// Upserted by an earlier attempt (corpus order is fixed).
			n++
			return nil
		}
		ids, texts = append(ids, d.ID), append(texts, text)
		if len(ids) == batchSize {
			return flush()
		}
		return ctx.Err()
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return DenseIndexInfo{}, err
	}
	if !created {
		return DenseIndexInfo{}, inputerr.Field(in.Field, "corpus %s has no document with text to embed", in.Corpus)
	}
	if err := vs.FinishLoad(ctx, name); err != nil {
		return DenseIndexInfo{}, err
	}
	if info, err := vs.Info(ctx, name); err != nil {
		return DenseIndexInfo{}, err
	} else if info.Count != n || !info.Complete {
		return DenseIndexInfo{}, fmt.Errorf("collection %s holds %d points after loading %d documents", name, info.Count, n)
	}
	out.Embed = embedDelta(before, em.Stats())
	return out, s.PutMemo(ctx, key, out)
}

// DenseRetrieveInput is one dense first stage over one dataset.
type DenseRetrieveInput struct {
	Index    DenseIndexInfo     `json:"index"`
	Topics   artifact.Ref       `json:"topics"`
	Endpoint config.Endpoint    `json:"endpoint"`
	Encoder  embed.Preset       `json:"encoder"`
	Store    config.VectorStore `json:"store"`
	Depth    int                `json:"depth"`
	Tag      string             `json:"tag"`
}

// DenseRun is a dense run and what embedding its queries cost.
type DenseRun struct {
	RunInfo
	Embed EmbedStats `json:"embed"`
}

// RetrieveDense embeds every topic (as a query) and stores the top Depth of
// the collection per topic as a TREC run.
func RetrieveDense(ctx context.Context, s artifact.Store, vs vector.VectorStore, em Encoder, in DenseRetrieveInput) (DenseRun, error) {
	key := artifact.KeyOf(denseRetrieveVersion, in.Index.Collection, in.Store.Key(), string(in.Topics), em.ID(), strconv.Itoa(in.Depth), in.Tag)
	var out DenseRun
	ri, hit, err := lookup(ctx, s, key, func(o RunInfo) []artifact.Ref { return []artifact.Ref{o.Ref} })
	if err != nil {
		return out, err
	}
	if hit {
		ri.Cached = true
		return DenseRun{RunInfo: ri}, nil
	}
	topics, err := LoadTopics(ctx, s, in.Topics)
	if err != nil {
		return out, err
	}
	var queries []string
	var qids []string
	for _, t := range topics {
		if q := strings.TrimSpace(t.Query); q != "" {
			queries, qids = append(queries, q), append(qids, t.ID)
		} else {
			out.EmptyQueries++
		}
	}
	before := em.Stats()
	var vecs [][]float32
	if len(queries) > 0 {
		if vecs, err = em.Embed(ctx, queries, embed.Query); err != nil {
			return out, err
		}
	}
	rankings := make([]trec.Ranking, 0, len(qids))
	for i, qid := range qids {
		hits, err := vs.Search(ctx, in.Index.Collection, vecs[i], in.Depth)
		if err != nil {
			return out, fmt.Errorf("query %s: %w", qid, err)
		}
		if len(hits) == 0 {
			out.EmptyQueries++
			continue
		}
		r := trec.Ranking{QID: qid, Hits: make([]trec.Result, len(hits))}
		for j, h := range hits {
			r.Hits[j] = trec.Result{DocID: h.DocID, Score: float64(h.Score)}
		}
		rankings = append(rankings, r)
	}
	var buf bytes.Buffer
	if err := trec.WriteRun(&buf, in.Tag, rankings); err != nil {
		return out, err
	}
	if out.Ref, err = artifact.Put(ctx, s, buf.Bytes()); err != nil {
		return out, err
	}
	primeRun(out.Ref, in.Tag, rankings)
	out.NumQueries = len(rankings)
	out.Embed = embedDelta(before, em.Stats())
	return out, s.PutMemo(ctx, key, out.RunInfo)
}

// FuseInput fuses two or more runs of one dataset.
type FuseInput struct {
	Runs    []artifact.Ref `json:"runs"`
	Method  string         `json:"method"` // rrf or minmax
	K       float64        `json:"k"`      // RRF constant
	Weights []float64      `json:"weights,omitempty"`
	Depth   int            `json:"depth"` // per input run
	Cut     int            `json:"cut"`   // fused results kept per query
	Tag     string         `json:"tag"`
	Field   string         `json:"field"`
}

// Fuse writes the fusion of the input runs (internal/fusion) as a TREC run.
func Fuse(ctx context.Context, s artifact.Store, in FuseInput) (RunInfo, error) {
	parts := []string{fuseVersion, in.Method, strconv.FormatFloat(in.K, 'g', -1, 64), strconv.Itoa(in.Depth), strconv.Itoa(in.Cut), in.Tag}
	for _, w := range in.Weights {
		parts = append(parts, strconv.FormatFloat(w, 'g', -1, 64))
	}
	for _, r := range in.Runs {
		parts = append(parts, string(r))
	}
	key := artifact.KeyOf(parts...)
	out, hit, err := lookup(ctx, s, key, func(o RunInfo) []artifact.Ref { return []artifact.Ref{o.Ref} })
	if err != nil || hit {
		out.Cached = hit
		return out, err
	}
	runs := make([]*trec.Run, len(in.Runs))
	for i, ref := range in.Runs {
		b, err := artifact.ReadAll(ctx, s, ref)
		if err != nil {
			return RunInfo{}, err
		}
		if runs[i], err = trec.ParseRun(bytes.NewReader(b), string(ref)); err != nil {
			return RunInfo{}, err
		}
	}
	opts := fusion.Options{Depth: in.Depth, Cut: in.Cut}
	var fused *trec.Run
	switch in.Method {
	case config.FusionRRF:
		fused, err = fusion.RRF(runs, in.K, opts)
	case config.FusionMinMax:
		fused, err = fusion.MinMax(runs, in.Weights, opts)
	default:
		err = fmt.Errorf("unknown fusion method %q", in.Method)
	}
	if err != nil {
		return RunInfo{}, inputerr.Field(in.Field, "%v", err)
	}
	qids := make([]string, 0, len(fused.Entries))
	for q := range fused.Entries {
		qids = append(qids, q)
	}
	slices.Sort(qids)
	rankings := make([]trec.Ranking, len(qids))
	for i, q := range qids {
		rankings[i] = trec.Ranking{QID: q, Hits: fused.Entries[q]}
	}
	var buf bytes.Buffer
	if err := trec.WriteRun(&buf, in.Tag, rankings); err != nil {
		return RunInfo{}, err
	}
	if out.Ref, err = artifact.Put(ctx, s, buf.Bytes()); err != nil {
		return RunInfo{}, err
	}
	primeRun(out.Ref, in.Tag, rankings)
	out.NumQueries = len(rankings)
	return out, s.PutMemo(ctx, key, out)
}
