package artifact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"
)

// The S3 backend is tested against a real S3-compatible server named by
// CLIRFLOW_TEST_S3_ENDPOINT (e.g. http://127.0.0.1:7070), with the standard
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; CLIRFLOW_TEST_S3_BUCKET (default
// clirflow-test) is created when missing, and each test works under its own
// prefix. Without the variable these tests skip: no S3 server installs from
// Debian's packages here (README, "Several machines").
func s3TestConfig(t *testing.T) S3Config {
	t.Helper()
	endpoint := os.Getenv("CLIRFLOW_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Skip("CLIRFLOW_TEST_S3_ENDPOINT is not set: no S3-compatible server to test against")
	}
	bucket := os.Getenv("CLIRFLOW_TEST_S3_BUCKET")
	if bucket == "" {
		bucket = "clirflow-test"
	}
	return S3Config{
		Endpoint:     endpoint,
		Bucket:       bucket,
		Prefix:       fmt.Sprintf("test/%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano()),
		AccessKey:    os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretKey:    os.Getenv("AWS_SECRET_ACCESS_KEY"),
		Region:       os.Getenv("AWS_REGION"),
		PathStyle:    true,
		TmpDir:       t.TempDir(),
		CreateBucket: true,
	}
}

func newS3Test(t *testing.T, cfg S3Config) *S3 {
	t.Helper()
	s, err := NewS3(context.Background(), cfg)
	require.NoError(t, err)
	return s
}

func TestS3Conformance(t *testing.T) {
	s3TestConfig(t)
	testConformance(t, func(t *testing.T) Store { return newS3Test(t, s3TestConfig(t)) })
}

func TestS3Layout(t *testing.T) {
	cfg := s3TestConfig(t)
	s := newS3Test(t, cfg)
	ctx := context.Background()
	require.Equal(t, "s3://"+cfg.Bucket+"/"+cfg.Prefix, s.Root())
	ref, err := Put(ctx, s, []byte("layout"))
	require.NoError(t, err)
	h := ref.hex()
	_, err = s.c.StatObject(ctx, cfg.Bucket, cfg.Prefix+"/objects/sha256/"+h[:2]+"/"+h, minio.StatObjectOptions{})
	require.NoError(t, err, "content under objects/sha256/xx/HASH")
	key := KeyOf("layout")
	require.NoError(t, s.PutMemo(ctx, key, 1))
	_, err = s.c.StatObject(ctx, cfg.Bucket, cfg.Prefix+"/memo/"+string(key)[:2]+"/"+string(key)+".json", minio.StatObjectOptions{})
	require.NoError(t, err, "memo entries under memo/xx/KEY.json")

	// Nothing but those two objects: no temporary keys in the bucket.
	var keys []string
	for o := range s.c.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Prefix: cfg.Prefix + "/", Recursive: true}) {
		require.NoError(t, o.Err)
		keys = append(keys, o.Key)
	}
	require.Len(t, keys, 2, "%v", keys)
	left, err := filepath.Glob(filepath.Join(cfg.TmpDir, "*"))
	require.NoError(t, err)
	require.Empty(t, left, "local write buffers are removed after Commit")

	// Another store on the same bucket and prefix (another worker) sees both.
	other := newS3Test(t, S3Config{Endpoint: cfg.Endpoint, Bucket: cfg.Bucket, Prefix: cfg.Prefix,
		AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Region: cfg.Region, PathStyle: true, TmpDir: t.TempDir()})
	got, err := ReadAll(ctx, other, ref)
	require.NoError(t, err)
	require.Equal(t, "layout", string(got))
	var v int
	ok, err := other.GetMemo(ctx, key, &v)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 1, v)
}

// breakingTransport cuts the body of every PUT of an artifact after limit
// bytes: the request dies mid-upload, as when a worker's network or process
// goes away.
type breakingTransport struct {
	limit int64
	cut   atomic.Int32
}

func (b *breakingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/objects/") && r.Body != nil {
		b.cut.Add(1)
		r = r.Clone(r.Context())
		r.Body = &cutBody{rc: r.Body, left: b.limit}
	}
	return http.DefaultTransport.RoundTrip(r)
}

type cutBody struct {
	rc   io.ReadCloser
	left int64
}

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errors.New("connection lost (test)")
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cutBody) Close() error { return c.rc.Close() }

func TestS3FailedUploadLeavesNothing(t *testing.T) {
	cfg := s3TestConfig(t)
	good := newS3Test(t, cfg)
	bt := &breakingTransport{limit: 64 << 10}
	broken := cfg
	broken.Transport, broken.MaxRetries, broken.TmpDir = bt, 1, t.TempDir()
	bad := newS3Test(t, broken)
	ctx := context.Background()

	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	_, err := Put(ctx, bad, data)
	require.Error(t, err, "the upload was cut")
	require.Positive(t, bt.cut.Load(), "the PUT went out and was cut")
	ok, err := good.Exists(ctx, RefOf(data))
	require.NoError(t, err)
	require.False(t, ok, "a cut upload left an object under the content key")
	_, err = good.Open(ctx, RefOf(data))
	require.ErrorIs(t, err, ErrNotFound)
	left, err := filepath.Glob(filepath.Join(broken.TmpDir, "*"))
	require.NoError(t, err)
	require.Empty(t, left, "a failed Commit removes its local buffer")

	// The same content stored afterwards is whole.
	ref, err := Put(ctx, good, data)
	require.NoError(t, err)
	got, err := ReadAll(ctx, bad, ref)
	require.NoError(t, err)
	require.Equal(t, data, got)
}

func TestS3DamagedObjectFailsTheRead(t *testing.T) {
	cfg := s3TestConfig(t)
	s := newS3Test(t, cfg)
	ctx := context.Background()
	ref, err := Put(ctx, s, []byte("the real content"))
	require.NoError(t, err)
	// Something outside clirflow overwrites the object.
	key, _ := s.objectKey(ref)
	_, err = s.c.PutObject(ctx, cfg.Bucket, key, strings.NewReader("tampered"), 8, minio.PutObjectOptions{})
	require.NoError(t, err)
	_, err = ReadAll(ctx, s, ref)
	require.ErrorContains(t, err, "damaged")
}

func TestS3MissingBucket(t *testing.T) {
	cfg := s3TestConfig(t)
	cfg.Bucket = fmt.Sprintf("clirflow-missing-%d", time.Now().UnixNano())
	cfg.CreateBucket = false
	_, err := NewS3(context.Background(), cfg)
	require.ErrorContains(t, err, "does not exist")
}

func TestS3CleanTmp(t *testing.T) {
	cfg := s3TestConfig(t)
	s := newS3Test(t, cfg)
	w, err := s.Create(context.Background())
	require.NoError(t, err)
	_, err = w.Write([]byte("killed mid-write"))
	require.NoError(t, err)
	old := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(w.(*s3Writer).f.Name(), old, old))
	require.NoError(t, os.WriteFile(filepath.Join(cfg.TmpDir, "not-ours"), nil, 0o644))
	require.NoError(t, os.Chtimes(filepath.Join(cfg.TmpDir, "not-ours"), old, old))
	n, err := s.CleanTmp(time.Hour)
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the store's own buffers")
	require.FileExists(t, filepath.Join(cfg.TmpDir, "not-ours"))
}

func TestParseS3URL(t *testing.T) {
	for in, want := range map[string][2]string{
		"s3://bucket":              {"bucket", ""},
		"s3://bucket/":             {"bucket", ""},
		"s3://bucket/team/clir":    {"bucket", "team/clir"},
		"s3://bucket/team/clir/":   {"bucket", "team/clir"},
		"s3://my.bucket-1/a/b/c/d": {"my.bucket-1", "a/b/c/d"},
	} {
		b, p, err := ParseS3URL(in)
		require.NoError(t, err, in)
		require.Equal(t, want, [2]string{b, p}, in)
		require.True(t, IsS3URL(in))
	}
	for _, in := range []string{"s3://", "s3:///prefix", "http://bucket/x", "s3://key:secret@bucket/x", "s3://bucket/x?region=eu"} {
		_, _, err := ParseS3URL(in)
		require.Error(t, err, in)
	}
	require.False(t, IsS3URL("artifacts"))
	require.False(t, IsS3URL("/srv/s3/artifacts"))
}

func TestNewS3RejectsBadEndpoints(t *testing.T) {
	for _, ep := range []string{"ftp://host:21", "http://host:9000/bucket"} {
		_, err := NewS3(context.Background(), S3Config{Endpoint: ep, Bucket: "b", TmpDir: t.TempDir()})
		require.Error(t, err, ep)
	}
	_, err := NewS3(context.Background(), S3Config{Endpoint: "localhost:1"})
	require.ErrorContains(t, err, "bucket is empty")
}
