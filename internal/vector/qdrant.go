package vector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// QdrantConfig says where a Qdrant server is. APIKey is a secret: String,
// GoString and errors never show it.
type QdrantConfig struct {
	Host      string // default "localhost"
	Port      int    // gRPC port, default 6334
	APIKey    string // sent as the api-key header when set
	UseTLS    bool
	BatchSize int  // points per upsert request, 64–256, default 128
	Exact     bool // search without the HNSW index: exact like Embedded, slower on big collections
}

func (c QdrantConfig) String() string {
	key := ""
	if c.APIKey != "" {
		key = " api_key=[redacted]"
	}
	return fmt.Sprintf("qdrant %s:%d tls=%t batch=%d exact=%t%s", c.Host, c.Port, c.UseTLS, c.BatchSize, c.Exact, key)
}

// GoString keeps %#v from printing the key too.
func (c QdrantConfig) GoString() string { return c.String() }

const (
	defaultBatch = 128
	payloadDocID = "doc_id"
	// metaComplete is the collection metadata flag FinishLoad sets; Search
	// refuses collections without it (a load that never finished).
	metaComplete = "clirflow_complete"
	// What FinishLoad restores: Qdrant's defaults, deferred during the load so
	// the HNSW graph is built once rather than while points stream in.
	hnswM             = 16
	indexingThreshold = 20000 // kB
)

// docNamespace derives point ids from document ids (Qdrant ids must be
// integers or UUIDs). Never change it: existing collections would no longer match.
var docNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/clirflow/clirflow/vector/doc-id"))

// PointID is the Qdrant point id of a document: a UUID v5 of its id, so a
// re-upsert (or a retried batch) overwrites instead of duplicating.
func PointID(docID string) string { return uuid.NewSHA1(docNamespace, []byte(docID)).String() }

// Qdrant is the VectorStore on a Qdrant server: one collection per corpus ×
// encoder, one unnamed dense vector per point, the document id in the payload.
type Qdrant struct {
	cfg    QdrantConfig
	client *qdrant.Client

	mu   sync.Mutex
	meta map[string]CollectionInfo // dim/metric/complete seen per collection, to check input without a round trip
}

// NewQdrant makes a client; it connects lazily, so an unreachable server shows
// up as ErrUnavailable on the first call.
func NewQdrant(cfg QdrantConfig) (*Qdrant, error) {
	if cfg.Host == "" {
		cfg.Host = "localhost"
	}
	if cfg.Port == 0 {
		cfg.Port = 6334
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = defaultBatch
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, invalid("qdrant.port", "%d out of range", cfg.Port)
	}
	if cfg.BatchSize < 64 || cfg.BatchSize > 256 {
		return nil, invalid("qdrant.batch_size", "%d out of range 64–256", cfg.BatchSize)
	}
	c, err := qdrant.NewClient(&qdrant.Config{
		Host: cfg.Host, Port: cfg.Port, APIKey: cfg.APIKey, UseTLS: cfg.UseTLS,
		// The check is a blocking call that only logs; the first real call reports a bad server.
		SkipCompatibilityCheck: true,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %s", cfg, cfg.redact(err.Error()))
	}
	return &Qdrant{cfg: cfg, client: c, meta: map[string]CollectionInfo{}}, nil
}

func (c QdrantConfig) redact(s string) string {
	if c.APIKey == "" {
		return s
	}
	return strings.ReplaceAll(s, c.APIKey, "[redacted]")
}

func (q *Qdrant) Create(ctx context.Context, name string, dim int, metric Metric) error {
	if err := checkCreate(name, dim, metric); err != nil {
		return err
	}
	dist := qdrant.Distance_Cosine
	if metric == Dot {
		dist = qdrant.Distance_Dot
	}
	err := q.client.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName:   name,
		VectorsConfig:    qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: uint64(dim), Distance: dist}),
		HnswConfig:       &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(0))},
		OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: qdrant.PtrOf(uint64(0))},
		Metadata:         map[string]*qdrant.Value{metaComplete: qdrant.NewValueBool(false)},
	})
	if err != nil {
		return q.fail(ctx, "create", name, err)
	}
	q.remember(name, CollectionInfo{Dim: dim, Metric: metric})
	return nil
}

func (q *Qdrant) Upsert(ctx context.Context, name string, points []Point) error {
	info, err := q.collection(ctx, name, false)
	if err != nil {
		return err
	}
	if err := checkPoints(name, points, info.Dim); err != nil {
		return err
	}
	// Keep each document's last point, as Embedded does, rather than leave the
	// order of duplicates in one request to the server.
	last := make(map[string]int, len(points))
	for i, p := range points {
		last[p.DocID] = i
	}
	batch := make([]*qdrant.PointStruct, 0, q.cfg.BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := q.client.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: name, Wait: qdrant.PtrOf(true), Points: batch})
		batch = batch[:0]
		return err
	}
	for i, p := range points {
		if last[p.DocID] != i {
			continue
		}
		batch = append(batch, &qdrant.PointStruct{
			Id:      qdrant.NewIDUUID(PointID(p.DocID)),
			Vectors: qdrant.NewVectorsDense(p.Vector),
			Payload: map[string]*qdrant.Value{payloadDocID: qdrant.NewValueString(p.DocID)},
		})
		if len(batch) == q.cfg.BatchSize {
			if err := flush(); err != nil {
				return q.fail(ctx, "upsert", name, err)
			}
		}
	}
	if err := flush(); err != nil {
		return q.fail(ctx, "upsert", name, err)
	}
	return nil
}

func (q *Qdrant) FinishLoad(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	err := q.client.UpdateCollection(ctx, &qdrant.UpdateCollection{
		CollectionName:   name,
		HnswConfig:       &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(hnswM))},
		OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: qdrant.PtrOf(uint64(indexingThreshold))},
		Metadata:         map[string]*qdrant.Value{metaComplete: qdrant.NewValueBool(true)},
	})
	if err != nil {
		return q.fail(ctx, "finish load", name, err)
	}
	q.mu.Lock()
	if info, ok := q.meta[name]; ok {
		info.Complete = true
		q.meta[name] = info
	}
	q.mu.Unlock()
	return nil
}

func (q *Qdrant) Search(ctx context.Context, name string, query []float32, k int) ([]Hit, error) {
	info, err := q.collection(ctx, name, true)
	if err != nil {
		return nil, err
	}
	if !info.Complete {
		return nil, fmt.Errorf("%w: %q", ErrIncomplete, name)
	}
	if err := checkQuery(name, query, k, info.Dim); err != nil {
		return nil, err
	}
	// The server keeps an arbitrary subset of the points tied at the k-th
	// score; ask again for more until the tie group is whole, so the cut falls
	// where the embedded store's does (ties by document id).
	limit := k
	for {
		hits, err := q.query(ctx, name, query, limit)
		if err != nil {
			return nil, err
		}
		SortHits(hits)
		if len(hits) < limit || hits[k-1].Score != hits[len(hits)-1].Score || limit >= maxTieLimit {
			return hits[:min(k, len(hits))], nil
		}
		limit *= 2
	}
}

// maxTieLimit bounds the tie completion of Search (a collection of identical
// vectors would otherwise be read whole).
const maxTieLimit = 1 << 14

func (q *Qdrant) query(ctx context.Context, name string, query []float32, limit int) ([]Hit, error) {
	req := &qdrant.QueryPoints{
		CollectionName: name,
		Query:          qdrant.NewQueryDense(query),
		Limit:          qdrant.PtrOf(uint64(limit)),
		WithPayload:    qdrant.NewWithPayloadInclude(payloadDocID),
	}
	if q.cfg.Exact {
		req.Params = &qdrant.SearchParams{Exact: qdrant.PtrOf(true)}
	}
	res, err := q.client.Query(ctx, req)
	if err != nil {
		return nil, q.fail(ctx, "search", name, err)
	}
	hits := make([]Hit, 0, len(res))
	for _, p := range res {
		v, ok := p.GetPayload()[payloadDocID]
		if !ok || v.GetStringValue() == "" {
			return nil, fmt.Errorf("qdrant collection %q: point %s has no %s payload (not loaded by clirflow?)", name, p.GetId(), payloadDocID)
		}
		hits = append(hits, Hit{DocID: v.GetStringValue(), Score: p.GetScore()})
	}
	return hits, nil
}

func (q *Qdrant) Info(ctx context.Context, name string) (CollectionInfo, error) {
	if err := checkName(name); err != nil {
		return CollectionInfo{}, err
	}
	ci, err := q.client.GetCollectionInfo(ctx, name)
	if err != nil {
		return CollectionInfo{}, q.fail(ctx, "info", name, err)
	}
	cfg := ci.GetConfig()
	params := cfg.GetParams().GetVectorsConfig().GetParams()
	if params == nil {
		return CollectionInfo{}, invalid(fmt.Sprintf("collection %q", name), "qdrant collection has named vectors; clirflow uses one unnamed vector")
	}
	info := CollectionInfo{Dim: int(params.GetSize())}
	switch params.GetDistance() {
	case qdrant.Distance_Cosine:
		info.Metric = Cosine
	case qdrant.Distance_Dot:
		info.Metric = Dot
	default:
		return CollectionInfo{}, invalid(fmt.Sprintf("collection %q", name), "qdrant distance %s not supported (cosine or dot)", params.GetDistance())
	}
	if v, ok := cfg.GetMetadata()[metaComplete]; ok {
		info.Complete = v.GetBoolValue()
	} else {
		// A server that drops metadata (before 1.16): the deferred index says "loading".
		hnsw := cfg.GetHnswConfig()
		info.Complete = hnsw == nil || hnsw.M == nil || *hnsw.M != 0
	}
	// points_count in the info is approximate; Count with exact is not.
	n, err := q.client.Count(ctx, &qdrant.CountPoints{CollectionName: name, Exact: qdrant.PtrOf(true)})
	if err != nil {
		return CollectionInfo{}, q.fail(ctx, "count", name, err)
	}
	info.Count = int(n)
	q.remember(name, info)
	return info, nil
}

func (q *Qdrant) Delete(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	q.forget(name)
	// The low-level call: Qdrant answers result=false for a missing collection,
	// which the high-level one turns into an unclassified error.
	res, err := q.client.GetCollectionsClient().Delete(ctx, &qdrant.DeleteCollection{CollectionName: name})
	if err != nil {
		return q.fail(ctx, "delete", name, err)
	}
	if !res.GetResult() {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return nil
}

func (q *Qdrant) Close() error { return q.client.Close() }

// collection returns what Upsert and Search check input against: the cached
// description, or a fresh one when there is none or (forSearch) when the
// cached one was still loading — another worker may have finished it since.
func (q *Qdrant) collection(ctx context.Context, name string, forSearch bool) (CollectionInfo, error) {
	if err := checkName(name); err != nil {
		return CollectionInfo{}, err
	}
	q.mu.Lock()
	info, ok := q.meta[name]
	q.mu.Unlock()
	if ok && (info.Complete || !forSearch) {
		return info, nil
	}
	return q.Info(ctx, name)
}

func (q *Qdrant) remember(name string, info CollectionInfo) {
	q.mu.Lock()
	q.meta[name] = info
	q.mu.Unlock()
}

func (q *Qdrant) forget(name string) {
	q.mu.Lock()
	delete(q.meta, name)
	q.mu.Unlock()
}

// fail classifies a gRPC error: NotFound → ErrNotFound, AlreadyExists →
// ErrExists, InvalidArgument → ErrInvalid, Unavailable and other overload or
// timeout codes → ErrUnavailable (retryable). The API key never appears.
func (q *Qdrant) fail(ctx context.Context, op, name string, err error) error {
	where := fmt.Sprintf("qdrant %s:%d: %s %q", q.cfg.Host, q.cfg.Port, op, name)
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", where, ctx.Err())
	}
	var rate *qdrant.QdrantResourceExhaustedError
	if errors.As(err, &rate) {
		return fmt.Errorf("%w: %s: %s", ErrUnavailable, where, q.cfg.redact(rate.Error()))
	}
	// The status itself, not status.FromError's: that one's message repeats the client's wrapping.
	st := status.New(codes.Unknown, err.Error())
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		st = se.GRPCStatus()
	}
	msg := q.cfg.redact(st.Message())
	switch code := st.Code(); {
	case code == codes.NotFound:
		q.forget(name)
		return fmt.Errorf("%w: %s: %s", ErrNotFound, where, msg)
	case code == codes.AlreadyExists, code == codes.InvalidArgument && strings.Contains(msg, "already exists"):
		return fmt.Errorf("%w: %s: %s", ErrExists, where, msg)
	case code == codes.InvalidArgument && strings.Contains(msg, "doesn't exist"):
		q.forget(name)
		return fmt.Errorf("%w: %s: %s", ErrNotFound, where, msg)
	case code == codes.InvalidArgument:
		q.forget(name) // the cached dimension may be what is stale
		return invalid(fmt.Sprintf("collection %q", name), "%s: %s", where, msg)
	case code == codes.Unauthenticated, code == codes.PermissionDenied:
		return invalid("qdrant.api_key", "%s: %s: %s", where, code, msg)
	case code == codes.Unavailable, code == codes.DeadlineExceeded, code == codes.ResourceExhausted, code == codes.Aborted:
		return fmt.Errorf("%w: %s: %s: %s", ErrUnavailable, where, code, msg)
	default:
		return fmt.Errorf("%s: %s: %s", where, code, msg)
	}
}
