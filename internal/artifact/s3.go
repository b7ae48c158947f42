package artifact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 stores artifacts in a bucket of an S3-compatible service (AWS S3, MinIO,
// Ceph RGW, Garage, SeaweedFS, versitygw …), so that workers on many machines
// share one store:
//
//	PREFIX/objects/sha256/ab/abcdef…   content, named by its SHA-256
//	PREFIX/memo/ab/abcdef….json        stage results, named by their key
//
// A write is buffered in a local temporary file while its hash is computed,
// then stored with one PUT under its content key (with Content-MD5, so the
// server rejects a damaged body). A PUT is atomic per object — a reader sees
// no object or the whole of it, never a part — so no temporary key is ever
// created in the bucket and a failed or killed upload leaves nothing there.
// Memo entries are small JSON objects, replaced whole by a PUT.
type S3 struct {
	c      *minio.Client
	bucket string
	prefix string // "" or ends in "/"
	tmpDir string
	url    string
}

// S3Config locates a bucket and says how to reach it.
type S3Config struct {
	// Endpoint is host[:port], or a URL whose scheme (http, https) decides
	// Insecure. Empty means AWS S3 (s3.amazonaws.com).
	Endpoint string
	Bucket   string
	// Prefix is prepended to every key (no leading or trailing slash needed).
	Prefix string
	// AccessKey and SecretKey (and SessionToken for temporary credentials);
	// when AccessKey is empty they are read from AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN or ~/.aws/credentials.
	AccessKey, SecretKey, SessionToken string
	// Region; empty asks the server (GetBucketLocation).
	Region string
	// Insecure uses plain http.
	Insecure bool
	// PathStyle forces path-style requests (endpoint/bucket/key), which most
	// self-hosted servers need; by default the client picks (virtual-host
	// style for AWS, path style elsewhere).
	PathStyle bool
	// TmpDir holds writes in progress (default the system temp directory).
	TmpDir string
	// CreateBucket makes the bucket when it does not exist (tests, dev servers).
	CreateBucket bool
	// Transport and MaxRetries override the HTTP client's (tests).
	Transport  http.RoundTripper
	MaxRetries int
}

// ParseS3URL splits s3://bucket/prefix into its bucket and prefix.
func ParseS3URL(s string) (bucket, prefix string, err error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", "", fmt.Errorf("artifact store %q: %w", s, err)
	}
	if u.Scheme != "s3" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("artifact store %q: want s3://BUCKET[/PREFIX]", s)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

// IsS3URL reports whether an artifact location names an S3 bucket.
func IsS3URL(s string) bool { return strings.HasPrefix(s, "s3://") }

// NewS3 connects to the bucket (which must exist unless cfg.CreateBucket).
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("artifact store: S3 bucket is empty")
	}
	endpoint, secure := cfg.Endpoint, !cfg.Insecure
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil {
			return nil, fmt.Errorf("S3 endpoint %q: %w", endpoint, err)
		}
		switch u.Scheme {
		case "http":
			secure = false
		case "https":
			secure = true
		default:
			return nil, fmt.Errorf("S3 endpoint %q: scheme must be http or https", endpoint)
		}
		if strings.Trim(u.Path, "/") != "" {
			return nil, fmt.Errorf("S3 endpoint %q: no path allowed (put the prefix in s3://BUCKET/PREFIX)", endpoint)
		}
		endpoint = u.Host
	}
	var creds *credentials.Credentials
	if cfg.AccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken)
	} else {
		// No instance-metadata (IAM) provider: it would probe a link-local
		// address on every machine that is not in a cloud.
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{},
		})
	}
	opts := &minio.Options{
		Creds:      creds,
		Secure:     secure,
		Region:     cfg.Region,
		Transport:  cfg.Transport,
		MaxRetries: cfg.MaxRetries,
	}
	if cfg.PathStyle {
		opts.BucketLookup = minio.BucketLookupPath
	}
	c, err := minio.New(endpoint, opts)
	if err != nil {
		return nil, fmt.Errorf("S3 endpoint %s: %w", endpoint, err)
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	tmp := cfg.TmpDir
	if tmp == "" {
		tmp = os.TempDir()
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("artifact store temp dir: %w", err)
	}
	s := &S3{c: c, bucket: cfg.Bucket, prefix: prefix, tmpDir: tmp,
		url: "s3://" + cfg.Bucket + "/" + strings.TrimSuffix(prefix, "/")}
	s.url = strings.TrimSuffix(s.url, "/")
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("artifact store %s at %s: %w", s.url, endpoint, err)
	}
	if !ok {
		if !cfg.CreateBucket {
			return nil, fmt.Errorf("artifact store %s at %s: bucket %s does not exist (create it first)", s.url, endpoint, cfg.Bucket)
		}
		if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("artifact store %s at %s: create bucket: %w", s.url, endpoint, err)
		}
	}
	return s, nil
}

// Root is the store's s3:// URL (for messages and for -artifacts).
func (s *S3) Root() string { return s.url }

func (s *S3) objectKey(ref Ref) (string, error) {
	if !ref.Valid() {
		return "", fmt.Errorf("invalid artifact ref %q", ref)
	}
	h := ref.hex()
	return s.prefix + "objects/sha256/" + h[:2] + "/" + h, nil
}

func (s *S3) memoKey(key Key) (string, error) {
	k := string(key)
	if len(k) != 64 || strings.Trim(k, "0123456789abcdef") != "" {
		return "", fmt.Errorf("invalid memo key %q", k)
	}
	return s.prefix + "memo/" + k[:2] + "/" + k + ".json", nil
}

// notFound tells a missing object from a failure (a missing bucket, denied
// access, an unreachable server), which must not read as "recompute".
func notFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == "NoSuchKey" || (r.StatusCode == http.StatusNotFound && r.Code != "NoSuchBucket")
}

func (s *S3) put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	info, err := s.c.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{
		ContentType:    contentType,
		SendContentMd5: true, // the server checks the body it received
		// The body is not signed chunk by chunk (aws-chunked): Content-MD5
		// covers its integrity, and every S3-compatible server accepts it.
		DisableContentSha256: true,
	})
	if err != nil {
		return fmt.Errorf("upload %s to %s: %w", key, s.url, err)
	}
	if info.Size != size {
		return fmt.Errorf("upload %s to %s: server stored %d of %d bytes", key, s.url, info.Size, size)
	}
	return nil
}

func (s *S3) exists(ctx context.Context, key string) (bool, error) {
	_, err := s.c.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err == nil {
		return true, nil
	}
	if notFound(err) {
		return false, nil
	}
	return false, fmt.Errorf("stat %s in %s: %w", key, s.url, err)
}

type s3Writer struct {
	s    *S3
	ctx  context.Context
	f    *os.File
	h    hash.Hash
	n    int64
	done bool
}

// Create starts a new artifact, buffered in a local temporary file.
func (s *S3) Create(ctx context.Context) (Writer, error) {
	f, err := os.CreateTemp(s.tmpDir, tmpPattern("s3w-"))
	if err != nil {
		return nil, err
	}
	return &s3Writer{s: s, ctx: ctx, f: f, h: sha256.New()}, nil
}

func (w *s3Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("artifact writer already closed")
	}
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

// Commit uploads the content under its hash unless the store has it already.
func (w *s3Writer) Commit() (Ref, error) {
	if w.done {
		return "", errors.New("artifact writer already closed")
	}
	w.done = true
	defer func() {
		w.f.Close()
		os.Remove(w.f.Name())
	}()
	ref := Ref("sha256:" + hex.EncodeToString(w.h.Sum(nil)))
	key, _ := w.s.objectKey(ref)
	// Same content already stored: content addressing makes this a no-op.
	if ok, err := w.s.exists(w.ctx, key); err != nil {
		return "", err
	} else if ok {
		return ref, nil
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	if err := w.s.put(w.ctx, key, w.f, w.n, "application/octet-stream"); err != nil {
		return "", err
	}
	return ref, nil
}

func (w *s3Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	return os.Remove(w.f.Name())
}

// Open reads an artifact. The content is checked against its ref as it is
// read: a damaged object fails the read at its end instead of passing for
// the artifact.
func (s *S3) Open(ctx context.Context, ref Ref) (io.ReadCloser, error) {
	key, err := s.objectKey(ref)
	if err != nil {
		return nil, err
	}
	obj, err := s.c.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("get %s from %s: %w", ref, s.url, err)
	}
	// GetObject is lazy: Stat sends the request and reports a missing key.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		if notFound(err) {
			return nil, fmt.Errorf("%w: %s in %s", ErrNotFound, ref, s.url)
		}
		return nil, fmt.Errorf("get %s from %s: %w", ref, s.url, err)
	}
	return &verifyingReader{rc: obj, h: sha256.New(), want: ref}, nil
}

type verifyingReader struct {
	rc   io.ReadCloser
	h    hash.Hash
	want Ref
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want.hex() {
			return n, fmt.Errorf("artifact %s is damaged in the store (content hashes to sha256:%s)", v.want, got)
		}
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.rc.Close() }

// Exists reports whether ref is stored (a HEAD request).
func (s *S3) Exists(ctx context.Context, ref Ref) (bool, error) {
	key, err := s.objectKey(ref)
	if err != nil {
		return false, err
	}
	return s.exists(ctx, key)
}

// GetMemo reads a memo entry.
func (s *S3) GetMemo(ctx context.Context, key Key, v any) (bool, error) {
	k, err := s.memoKey(key)
	if err != nil {
		return false, err
	}
	obj, err := s.c.GetObject(ctx, s.bucket, k, minio.GetObjectOptions{})
	if err != nil {
		return false, fmt.Errorf("get memo %s from %s: %w", key, s.url, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		if notFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("get memo %s from %s: %w", key, s.url, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		// A memo entry is one PUT, so a bad one was damaged outside
		// clirflow: recompute rather than fail.
		return false, nil
	}
	return true, nil
}

// PutMemo writes a memo entry (one PUT: readers see the old entry or the new).
func (s *S3) PutMemo(ctx context.Context, key Key, v any) error {
	k, err := s.memoKey(key)
	if err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.put(ctx, k, bytes.NewReader(b), int64(len(b)), "application/json")
}

// CleanTmp removes local write buffers older than age: what a killed worker
// left (nothing of an unfinished write ever reaches the bucket).
func (s *S3) CleanTmp(age time.Duration) (int, error) {
	matches, err := filepath.Glob(filepath.Join(s.tmpDir, "s3w-*"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range matches {
		info, err := os.Stat(p)
		if err == nil && (time.Since(info.ModTime()) > age || orphaned(filepath.Base(p), "s3w-")) {
			if os.Remove(p) == nil {
				n++
			}
		}
	}
	return n, nil
}
