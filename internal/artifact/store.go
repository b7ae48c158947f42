// Package artifact is the content-addressed store every stage reads from and
// writes to. Workflows pass Refs (a few dozen bytes) instead of corpora, runs or
// indexes, which keeps Temporal payloads and histories small; memo entries map a
// stage's inputs and settings to its result, so a stage is computed once and a
// re-run costs only lookups.
package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Ref is a content address: "sha256:" followed by 64 hex digits.
type Ref string

// ErrNotFound is returned for refs and memo keys the store does not hold.
var ErrNotFound = errors.New("artifact not found")

// Valid reports whether r is a well-formed ref. Refs come back from workflow
// histories and user input, and become paths in the filesystem backend, so they
// are checked before use.
func (r Ref) Valid() bool {
	s, ok := strings.CutPrefix(string(r), "sha256:")
	if !ok || len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

func (r Ref) hex() string { return strings.TrimPrefix(string(r), "sha256:") }

// Short is the first 12 hex digits, for logs and file names.
func (r Ref) Short() string {
	if !r.Valid() {
		return string(r)
	}
	return r.hex()[:12]
}

// Writer receives an artifact's bytes. Nothing is visible under its ref until
// Commit returns; Abort (or a crash) leaves nothing that looks complete.
type Writer interface {
	io.Writer
	Commit() (Ref, error)
	Abort() error
}

// Store is the seam for artifact backends (a directory, FS; an S3-compatible bucket, S3,
// so workers on many machines can share artifacts).
type Store interface {
	Create(ctx context.Context) (Writer, error)
	Open(ctx context.Context, ref Ref) (io.ReadCloser, error)
	Exists(ctx context.Context, ref Ref) (bool, error)
	// GetMemo decodes the JSON value recorded under key into v; false if none.
	GetMemo(ctx context.Context, key Key, v any) (bool, error)
	// PutMemo records v (JSON) under key, atomically.
	PutMemo(ctx context.Context, key Key, v any) error
	// Root describes where the store lives (for messages only).
	Root() string
}

// Key identifies a stage's inputs and settings.
type Key string

// KeyOf builds a memo key from the parts that determine a stage's output: the
// stage and its code version, input refs, parameters. Parts are length-prefixed
// so that ("ab","c") and ("a","bc") differ.
func KeyOf(parts ...string) Key {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return Key(hex.EncodeToString(h.Sum(nil)))
}

// RefOf is the ref under which b is stored.
func RefOf(b []byte) Ref {
	sum := sha256.Sum256(b)
	return Ref("sha256:" + hex.EncodeToString(sum[:]))
}

// Put stores b and returns its ref.
func Put(ctx context.Context, s Store, b []byte) (Ref, error) {
	w, err := s.Create(ctx)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(b); err != nil {
		_ = w.Abort()
		return "", err
	}
	return w.Commit()
}

// ReadAll returns an artifact's bytes (for small artifacts: topics, qrels, runs).
func ReadAll(ctx context.Context, s Store, ref Ref) ([]byte, error) {
	rc, err := s.Open(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// AllExist reports whether every ref is in the store; a memo entry whose
// artifacts were removed must be recomputed, not trusted.
func AllExist(ctx context.Context, s Store, refs ...Ref) bool {
	for _, r := range refs {
		ok, err := s.Exists(ctx, r)
		if err != nil || !ok {
			return false
		}
	}
	return true
}
