// Package vector is the seam between dense retrieval and the place its
// document vectors live: a VectorStore holds one collection per corpus ×
// encoder and answers exact (or index-backed) top-k searches. Two backends
// implement it: Embedded (default, a directory on disk, exact search, no
// server) and Qdrant (a Qdrant server over gRPC). Both order hits the same way
// — score descending, ties by document id ascending — so a run does not depend
// on the backend.
//
// Loading is explicit: Create starts a collection in the loading state, Upsert
// adds points, FinishLoad marks it complete. Search refuses a collection whose
// load never finished, so a worker killed half way through indexing cannot
// leave a silently partial index behind.
package vector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// Metric is the similarity a collection ranks by.
type Metric string

const (
	// Cosine similarity: vectors are normalised on upsert and queries at search time.
	Cosine Metric = "cosine"
	// Dot is the raw inner product (for encoders trained with it).
	Dot Metric = "dot"
)

// Point is one document's vector.
type Point struct {
	DocID  string
	Vector []float32
}

// Hit is one search result.
type Hit struct {
	DocID string
	Score float32
}

// CollectionInfo describes a collection. Complete is false while a bulk load
// has not been finished (FinishLoad).
type CollectionInfo struct {
	Dim      int
	Metric   Metric
	Count    int
	Complete bool
}

// VectorStore is what dense retrieval needs from a vector database.
type VectorStore interface {
	// Create makes an empty collection in the loading state. ErrExists if the
	// name is taken (callers decide whether to Delete and retry).
	Create(ctx context.Context, collection string, dim int, metric Metric) error
	// Upsert adds points; a point whose DocID is already there replaces it.
	// All points are validated before anything is written.
	Upsert(ctx context.Context, collection string, points []Point) error
	// FinishLoad marks the bulk load complete: Search works from then on (Qdrant
	// builds its HNSW index now rather than during the load). Idempotent.
	FinishLoad(ctx context.Context, collection string) error
	// Search returns the k best points for query, score descending, ties by
	// DocID ascending. ErrIncomplete if the load was never finished.
	Search(ctx context.Context, collection string, query []float32, k int) ([]Hit, error)
	// Info describes a collection.
	Info(ctx context.Context, collection string) (CollectionInfo, error)
	// Delete removes a collection and its points. ErrNotFound if there is none.
	Delete(ctx context.Context, collection string) error
	// Close releases connections and caches.
	Close() error
}

var (
	// ErrInvalid marks bad input (dimension mismatch, NaN/Inf, empty names, k < 1).
	// Such errors also wrap an *inputerr.Error, the project's permanent-input marker.
	ErrInvalid = errors.New("invalid vector store input")
	// ErrNotFound: the collection does not exist.
	ErrNotFound = errors.New("collection not found")
	// ErrExists: Create on a name that is taken.
	ErrExists = errors.New("collection already exists")
	// ErrIncomplete: Search on a collection whose bulk load was never finished.
	ErrIncomplete = errors.New("collection load not finished")
	// ErrUnavailable: the server could not be reached or is overloaded; retrying may help.
	ErrUnavailable = errors.New("vector store unavailable")
)

// IsPermanent reports whether retrying cannot fix err: invalid input, a missing
// or existing collection, an unfinished load. Everything else (ErrUnavailable,
// I/O errors) is transient.
func IsPermanent(err error) bool {
	return inputerr.Is(err) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) ||
		errors.Is(err, ErrExists) || errors.Is(err, ErrIncomplete)
}

// invalid reports bad input about field: both ErrInvalid and an *inputerr.Error.
func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %w", ErrInvalid, inputerr.Field(field, format, args...))
}

// maxDim is Qdrant's limit; the embedded store keeps it so both accept the same collections.
const maxDim = 65536

// checkName accepts the names both backends can hold: 1–255 of [A-Za-z0-9._-],
// not starting with '.'. The embedded store uses the name as a directory, so
// nothing that could climb out of its root or hide as a dot file passes.
func checkName(name string) error {
	if name == "" {
		return invalid("collection", "empty collection name")
	}
	if len(name) > 255 || name[0] == '.' || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
		return invalid("collection", "collection name %q: use 1–255 of A-Z a-z 0-9 . _ - (not starting with '.')", name)
	}
	return nil
}

func checkCreate(name string, dim int, metric Metric) error {
	if err := checkName(name); err != nil {
		return err
	}
	if dim < 1 || dim > maxDim {
		return invalid(fmt.Sprintf("collection %q", name), "dimension %d out of range 1–%d", dim, maxDim)
	}
	if metric != Cosine && metric != Dot {
		return invalid(fmt.Sprintf("collection %q", name), "unknown metric %q (want %q or %q)", metric, Cosine, Dot)
	}
	return nil
}

// checkVector rejects a vector of the wrong size or with NaN/Inf values (they
// would poison every score they touch and sort unpredictably).
func checkVector(collection, what string, v []float32, dim int) error {
	if len(v) != dim {
		return invalid(fmt.Sprintf("collection %q", collection), "%s: dimension %d, collection has %d", what, len(v), dim)
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return invalid(fmt.Sprintf("collection %q", collection), "%s: value %d is %v", what, i, x)
		}
	}
	return nil
}

func checkPoints(collection string, points []Point, dim int) error {
	for i, p := range points {
		if p.DocID == "" {
			return invalid(fmt.Sprintf("collection %q", collection), "point %d: empty doc id", i)
		}
		if err := checkVector(collection, fmt.Sprintf("point %q", p.DocID), p.Vector, dim); err != nil {
			return err
		}
	}
	return nil
}

func checkQuery(collection string, query []float32, k, dim int) error {
	if k < 1 {
		return invalid(fmt.Sprintf("collection %q", collection), "k = %d, want ≥ 1", k)
	}
	return checkVector(collection, "query", query, dim)
}

// normalize scales v to unit length in place (a zero vector stays zero, as in Qdrant).
func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}

// SortHits puts hits in the order every backend returns: score descending,
// DocID ascending on equal scores.
func SortHits(hits []Hit) {
	slices.SortFunc(hits, func(a, b Hit) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return strings.Compare(a.DocID, b.DocID)
	})
}
