// Package qdranttest is an in-process Qdrant for tests: a gRPC server on
// 127.0.0.1 built from the go-client's own generated service definitions, so
// the client talks to it exactly as to a real server. It implements what
// internal/vector uses — collections (create, get, update, delete, exists),
// points (upsert, count, query, search) and the health check — with Qdrant's
// semantics: exact search with the collection's distance (cosine vectors are
// normalised on upsert, scores are cosine similarity or dot product), upsert
// overwrites by id, and Qdrant's status codes (NotFound, InvalidArgument,
// AlreadyExists, PermissionDenied for a wrong api-key). FailNext and SetDown
// make calls fail with Unavailable, to exercise retries.
package qdranttest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Version is what HealthCheck reports (the go-client's own, so its compatibility check passes).
const Version = "1.17.1"

// Options configures a Server.
type Options struct {
	// APIKey, when set, must come in every call's api-key header (PermissionDenied otherwise).
	APIKey string
}

// Server is a running fake. Host and Port are what qdrant.Config wants.
type Server struct {
	Host string
	Port int

	opts Options
	grpc *grpc.Server

	mu    sync.Mutex
	cols  map[string]*collection
	fail  int  // calls still to fail with Unavailable
	down  bool // every call fails with Unavailable
	calls map[string]int
	ops   uint64
}

type collection struct {
	dim    int
	dist   qdrant.Distance
	hnsw   *qdrant.HnswConfigDiff
	opt    *qdrant.OptimizersConfigDiff
	meta   map[string]*qdrant.Value
	points map[string]*point // by canonical id
}

type point struct {
	id      *qdrant.PointId
	vec     []float32
	payload map[string]*qdrant.Value
}

// Start serves on a free port of 127.0.0.1 until Close.
func Start(opts Options) (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := lis.Addr().(*net.TCPAddr)
	s := &Server{Host: "127.0.0.1", Port: addr.Port, opts: opts, cols: map[string]*collection{}, calls: map[string]int{}}
	s.grpc = grpc.NewServer(grpc.UnaryInterceptor(s.intercept))
	qdrant.RegisterQdrantServer(s.grpc, &qdrantService{s: s})
	qdrant.RegisterCollectionsServer(s.grpc, &collectionsService{s: s})
	qdrant.RegisterPointsServer(s.grpc, &pointsService{s: s})
	go s.grpc.Serve(lis)
	return s, nil
}

// Addr is host:port.
func (s *Server) Addr() string { return fmt.Sprintf("%s:%d", s.Host, s.Port) }

// Close stops the server, dropping open connections.
func (s *Server) Close() { s.grpc.Stop() }

// FailNext makes the next n calls fail with codes.Unavailable.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	s.fail = n
	s.mu.Unlock()
}

// SetDown makes every call fail with codes.Unavailable until SetDown(false).
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// Calls counts the calls of a method, named "Service/Method" ("Points/Upsert",
// "Collections/Create"), including failed ones.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// CollectionState is what a test may inspect of a collection.
type CollectionState struct {
	Dim               int
	Distance          qdrant.Distance
	HNSWM             uint64
	IndexingThreshold uint64
	Metadata          map[string]*qdrant.Value
	Payloads          map[string]map[string]*qdrant.Value // point id (UUID or number as text) → payload
}

// Collection reports a collection's state, false if there is none.
func (s *Server) Collection(name string) (CollectionState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cols[name]
	if !ok {
		return CollectionState{}, false
	}
	st := CollectionState{Dim: c.dim, Distance: c.dist, HNSWM: c.hnsw.GetM(), IndexingThreshold: c.opt.GetIndexingThreshold(),
		Metadata: maps.Clone(c.meta), Payloads: map[string]map[string]*qdrant.Value{}}
	for k, p := range c.points {
		st.Payloads[k] = p.payload
	}
	return st, true
}

func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	method := strings.TrimPrefix(info.FullMethod, "/qdrant.")
	s.mu.Lock()
	s.calls[method]++
	unavailable := s.down || s.fail > 0
	if s.fail > 0 {
		s.fail--
	}
	s.mu.Unlock()
	if unavailable {
		return nil, status.Error(codes.Unavailable, "qdranttest: service unavailable")
	}
	if s.opts.APIKey != "" {
		md, _ := metadata.FromIncomingContext(ctx)
		if keys := md.Get("api-key"); len(keys) != 1 || keys[0] != s.opts.APIKey {
			return nil, status.Error(codes.PermissionDenied, "Invalid api-key")
		}
	}
	return handler(ctx, req)
}

// get returns a collection or Qdrant's NotFound; the caller holds s.mu.
func (s *Server) get(name string) (*collection, error) {
	c, ok := s.cols[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Not found: Collection `%s` doesn't exist!", name)
	}
	return c, nil
}

type qdrantService struct {
	qdrant.UnimplementedQdrantServer
	s *Server
}

func (q *qdrantService) HealthCheck(context.Context, *qdrant.HealthCheckRequest) (*qdrant.HealthCheckReply, error) {
	return &qdrant.HealthCheckReply{Title: "qdrant - vector search engine (qdranttest)", Version: Version}, nil
}

type collectionsService struct {
	qdrant.UnimplementedCollectionsServer
	s *Server
}

func (cs *collectionsService) Create(_ context.Context, req *qdrant.CreateCollection) (*qdrant.CollectionOperationResponse, error) {
	s := cs.s
	name := req.GetCollectionName()
	if name == "" || strings.ContainsAny(name, "/\\") {
		return nil, status.Errorf(codes.InvalidArgument, "Validation error in body: collection name %q is invalid", name)
	}
	params := req.GetVectorsConfig().GetParams()
	if params == nil {
		return nil, status.Error(codes.Unimplemented, "qdranttest: only one unnamed dense vector per point")
	}
	if params.GetSize() < 1 || params.GetSize() > 65536 {
		return nil, status.Errorf(codes.InvalidArgument, "Validation error in body: [vectors_config.size: value %d invalid, must be from 1 to 65536]", params.GetSize())
	}
	if d := params.GetDistance(); d != qdrant.Distance_Cosine && d != qdrant.Distance_Dot {
		return nil, status.Errorf(codes.Unimplemented, "qdranttest: distance %s not implemented", d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cols[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "Wrong input: Collection `%s` already exists!", name)
	}
	// Qdrant's defaults, then what the request sets.
	c := &collection{
		dim: int(params.GetSize()), dist: params.GetDistance(),
		hnsw:   &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(16)), EfConstruct: qdrant.PtrOf(uint64(100)), FullScanThreshold: qdrant.PtrOf(uint64(10000))},
		opt:    &qdrant.OptimizersConfigDiff{IndexingThreshold: qdrant.PtrOf(uint64(20000))},
		meta:   map[string]*qdrant.Value{},
		points: map[string]*point{},
	}
	update(c, req.GetHnswConfig(), req.GetOptimizersConfig(), req.GetMetadata())
	s.cols[name] = c
	return &qdrant.CollectionOperationResponse{Result: true}, nil
}

func update(c *collection, hnsw *qdrant.HnswConfigDiff, opt *qdrant.OptimizersConfigDiff, meta map[string]*qdrant.Value) {
	if hnsw != nil {
		proto.Merge(c.hnsw, hnsw) // set fields replace, unset ones stay: Qdrant's diff semantics
	}
	if opt != nil {
		proto.Merge(c.opt, opt)
	}
	maps.Copy(c.meta, meta) // metadata is merged with what is stored
}

func (cs *collectionsService) Get(_ context.Context, req *qdrant.GetCollectionInfoRequest) (*qdrant.GetCollectionInfoResponse, error) {
	s := cs.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	n := uint64(len(c.points))
	return &qdrant.GetCollectionInfoResponse{Result: &qdrant.CollectionInfo{
		Status:          qdrant.CollectionStatus_Green,
		OptimizerStatus: &qdrant.OptimizerStatus{Ok: true},
		SegmentsCount:   1,
		PointsCount:     &n,
		Config: &qdrant.CollectionConfig{
			Params: &qdrant.CollectionParams{
				ShardNumber:   1,
				VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: uint64(c.dim), Distance: c.dist}),
			},
			HnswConfig:      proto.Clone(c.hnsw).(*qdrant.HnswConfigDiff),
			OptimizerConfig: proto.Clone(c.opt).(*qdrant.OptimizersConfigDiff),
			WalConfig:       &qdrant.WalConfigDiff{},
			Metadata:        maps.Clone(c.meta),
		},
	}}, nil
}

func (cs *collectionsService) Update(_ context.Context, req *qdrant.UpdateCollection) (*qdrant.CollectionOperationResponse, error) {
	s := cs.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	update(c, req.GetHnswConfig(), req.GetOptimizersConfig(), req.GetMetadata())
	return &qdrant.CollectionOperationResponse{Result: true}, nil
}

// Delete answers result=false for a missing collection, as Qdrant does.
func (cs *collectionsService) Delete(_ context.Context, req *qdrant.DeleteCollection) (*qdrant.CollectionOperationResponse, error) {
	s := cs.s
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.cols[req.GetCollectionName()]
	delete(s.cols, req.GetCollectionName())
	return &qdrant.CollectionOperationResponse{Result: ok}, nil
}

func (cs *collectionsService) CollectionExists(_ context.Context, req *qdrant.CollectionExistsRequest) (*qdrant.CollectionExistsResponse, error) {
	s := cs.s
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.cols[req.GetCollectionName()]
	return &qdrant.CollectionExistsResponse{Result: &qdrant.CollectionExists{Exists: ok}}, nil
}

func (cs *collectionsService) List(context.Context, *qdrant.ListCollectionsRequest) (*qdrant.ListCollectionsResponse, error) {
	s := cs.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var res qdrant.ListCollectionsResponse
	for _, name := range slices.Sorted(maps.Keys(s.cols)) {
		res.Collections = append(res.Collections, &qdrant.CollectionDescription{Name: name})
	}
	return &res, nil
}

type pointsService struct {
	qdrant.UnimplementedPointsServer
	s *Server
}

// pointKey is a point id's canonical text (Qdrant accepts any UUID spelling).
func pointKey(id *qdrant.PointId) (string, error) {
	switch o := id.GetPointIdOptions().(type) {
	case *qdrant.PointId_Num:
		return fmt.Sprint(o.Num), nil
	case *qdrant.PointId_Uuid:
		u, err := uuid.Parse(o.Uuid)
		if err != nil {
			return "", status.Errorf(codes.InvalidArgument, "Unable to parse UUID: %s", o.Uuid)
		}
		return u.String(), nil
	}
	return "", status.Error(codes.InvalidArgument, "Wrong input: point id is missing")
}

func dimError(want, got int) error {
	return status.Errorf(codes.InvalidArgument, "Wrong input: Vector dimension error: expected dim: %d, got %d", want, got)
}

func (ps *pointsService) Upsert(_ context.Context, req *qdrant.UpsertPoints) (*qdrant.PointsOperationResponse, error) {
	s := ps.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	// Check the whole request before changing anything: a rejected request writes nothing.
	keys := make([]string, len(req.GetPoints()))
	vecs := make([][]float32, len(req.GetPoints()))
	for i, p := range req.GetPoints() {
		if keys[i], err = pointKey(p.GetId()); err != nil {
			return nil, err
		}
		v := p.GetVectors().GetVector()
		if v == nil {
			return nil, status.Error(codes.InvalidArgument, "Wrong input: Not existing vector name error: only the unnamed vector exists")
		}
		data := v.GetDense().GetData()
		if data == nil {
			data = v.GetData() // the deprecated spelling older clients send
		}
		if len(data) != c.dim {
			return nil, dimError(c.dim, len(data))
		}
		vecs[i] = slices.Clone(data)
		if c.dist == qdrant.Distance_Cosine {
			normalize(vecs[i])
		}
	}
	for i, p := range req.GetPoints() {
		c.points[keys[i]] = &point{id: p.GetId(), vec: vecs[i], payload: maps.Clone(p.GetPayload())}
	}
	s.ops++
	return &qdrant.PointsOperationResponse{Result: &qdrant.UpdateResult{OperationId: qdrant.PtrOf(s.ops), Status: qdrant.UpdateStatus_Completed}}, nil
}

func (ps *pointsService) Count(_ context.Context, req *qdrant.CountPoints) (*qdrant.CountResponse, error) {
	s := ps.s
	if req.GetFilter() != nil {
		return nil, status.Error(codes.Unimplemented, "qdranttest: filters not implemented")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	return &qdrant.CountResponse{Result: &qdrant.CountResult{Count: uint64(len(c.points))}}, nil
}

func (ps *pointsService) Query(_ context.Context, req *qdrant.QueryPoints) (*qdrant.QueryResponse, error) {
	if req.GetFilter() != nil || len(req.GetPrefetch()) > 0 || req.GetUsing() != "" {
		return nil, status.Error(codes.Unimplemented, "qdranttest: only plain nearest-neighbour queries are implemented")
	}
	in := req.GetQuery().GetNearest()
	q := in.GetDense().GetData()
	if in == nil || q == nil {
		return nil, status.Error(codes.Unimplemented, "qdranttest: only dense nearest queries are implemented")
	}
	limit := uint64(10)
	if req.Limit != nil {
		limit = req.GetLimit()
	}
	res, err := ps.s.search(req.GetCollectionName(), q, limit, req.GetOffset(), req.ScoreThreshold, req.GetWithPayload())
	if err != nil {
		return nil, err
	}
	return &qdrant.QueryResponse{Result: res}, nil
}

func (ps *pointsService) Search(_ context.Context, req *qdrant.SearchPoints) (*qdrant.SearchResponse, error) {
	if req.GetFilter() != nil || req.GetVectorName() != "" {
		return nil, status.Error(codes.Unimplemented, "qdranttest: only plain nearest-neighbour searches are implemented")
	}
	res, err := ps.s.search(req.GetCollectionName(), req.GetVector(), req.GetLimit(), req.GetOffset(), req.ScoreThreshold, req.GetWithPayload())
	if err != nil {
		return nil, err
	}
	return &qdrant.SearchResponse{Result: res}, nil
}

// search scores every point exactly (no index: the fake is the reference).
func (s *Server) search(name string, query []float32, limit, offset uint64, threshold *float32, with *qdrant.WithPayloadSelector) ([]*qdrant.ScoredPoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.get(name)
	if err != nil {
		return nil, err
	}
	if len(query) != c.dim {
		return nil, dimError(c.dim, len(query))
	}
	q := slices.Clone(query)
	if c.dist == qdrant.Distance_Cosine {
		normalize(q)
	}
	type scored struct {
		key   string
		p     *point
		score float32
	}
	all := make([]scored, 0, len(c.points))
	for k, p := range c.points {
		var sc float32
		for i, x := range q {
			sc += x * p.vec[i]
		}
		if threshold == nil || sc >= *threshold {
			all = append(all, scored{k, p, sc})
		}
	}
	slices.SortFunc(all, func(a, b scored) int {
		return cmp.Or(cmp.Compare(b.score, a.score), strings.Compare(a.key, b.key))
	})
	all = all[min(offset, uint64(len(all))):]
	all = all[:min(limit, uint64(len(all)))]
	res := make([]*qdrant.ScoredPoint, len(all))
	for i, a := range all {
		res[i] = &qdrant.ScoredPoint{Id: a.p.id, Score: a.score, Payload: selectPayload(a.p.payload, with), Version: s.ops}
	}
	return res, nil
}

func selectPayload(p map[string]*qdrant.Value, with *qdrant.WithPayloadSelector) map[string]*qdrant.Value {
	switch {
	case with.GetInclude() != nil:
		out := map[string]*qdrant.Value{}
		for _, f := range with.GetInclude().GetFields() {
			if v, ok := p[f]; ok {
				out[f] = v
			}
		}
		return out
	case with.GetExclude() != nil:
		out := maps.Clone(p)
		for _, f := range with.GetExclude().GetFields() {
			delete(out, f)
		}
		return out
	case with.GetEnable():
		return p
	}
	return nil
}

// normalize scales v to unit length in float32 as Qdrant does (a zero vector stays zero).
func normalize(v []float32) {
	var s float32
	for _, x := range v {
		s += x * x
	}
	if s == 0 {
		return
	}
	n := float32(math.Sqrt(float64(s)))
	for i := range v {
		v[i] /= n
	}
}
