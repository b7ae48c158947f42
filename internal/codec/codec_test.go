package codec

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

func newKey(t *testing.T) []byte {
	k := make([]byte, KeySize)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

func newCodec(t *testing.T) *Codec {
	c, err := New(newKey(t))
	require.NoError(t, err)
	return c
}

// Round trip through the default converter's payloads, including a large
// one (activities return whole runs); the ciphertext shows neither the data
// nor the original encoding.
func TestRoundTrip(t *testing.T) {
	c := newCodec(t)
	big := strings.Repeat("large payload ", 1<<18) // 3.5 MiB
	var in []*commonpb.Payload
	for _, v := range []any{"secret-query-marker", 42, map[string]string{"k": "v"}, nil, []byte{0, 1, 2}, big} {
		p, err := converter.GetDefaultDataConverter().ToPayload(v)
		require.NoError(t, err)
		in = append(in, p)
	}
	enc, err := c.Encode(in)
	require.NoError(t, err)
	require.Len(t, enc, len(in))
	for _, p := range enc {
		require.Equal(t, Encoding, string(p.Metadata[converter.MetadataEncoding]))
		require.Equal(t, c.KeyID(), string(p.Metadata[MetadataKeyID]))
		require.NotContains(t, string(p.Data), "secret-query-marker")
		require.NotContains(t, string(p.Data), "json/plain")
	}
	// A fresh nonce per payload: the same plaintext never gives the same ciphertext.
	again, err := c.Encode(in[:1])
	require.NoError(t, err)
	require.NotEqual(t, enc[0].Data, again[0].Data)

	dec, err := c.Decode(enc)
	require.NoError(t, err)
	require.Len(t, dec, len(in))
	for i := range in {
		require.True(t, proto.Equal(in[i], dec[i]), "payload %d", i)
	}
}

func TestTamperedCiphertextFails(t *testing.T) {
	c := newCodec(t)
	p, _ := converter.GetDefaultDataConverter().ToPayload("x")
	enc, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	for _, i := range []int{0, 12, len(enc[0].Data) - 1} { // nonce, ciphertext, tag
		bad := proto.Clone(enc[0]).(*commonpb.Payload)
		bad.Data[i] ^= 1
		_, err = c.Decode([]*commonpb.Payload{bad})
		require.ErrorContains(t, err, "tampered or corrupted", "byte %d", i)
	}
	short := proto.Clone(enc[0]).(*commonpb.Payload)
	short.Data = short.Data[:10]
	_, err = c.Decode([]*commonpb.Payload{short})
	require.ErrorContains(t, err, "too short")
}

func TestWrongKeyNamesBothKeyIDs(t *testing.T) {
	a, b := newCodec(t), newCodec(t)
	p, _ := converter.GetDefaultDataConverter().ToPayload("x")
	enc, err := a.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	_, err = b.Decode(enc)
	require.ErrorContains(t, err, a.KeyID())
	require.ErrorContains(t, err, b.KeyID())
	require.Len(t, a.KeyID(), 8)
}

// Histories written before encryption was turned on stay readable.
func TestUnencryptedPayloadPassesThrough(t *testing.T) {
	c := newCodec(t)
	p, _ := converter.GetDefaultDataConverter().ToPayload("plain")
	zl, err := converter.NewZlibCodec(converter.ZlibCodecOptions{AlwaysEncode: true}).Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	in := []*commonpb.Payload{p, zl[0], {}}
	out, err := c.Decode(in)
	require.NoError(t, err)
	for i := range in {
		require.Same(t, in[i], out[i])
	}
}

func TestParseKey(t *testing.T) {
	key := newKey(t)
	for name, text := range map[string][]byte{
		"raw":              key,
		"hex":              []byte(hex.EncodeToString(key) + "\n"),
		"HEX":              []byte(strings.ToUpper(hex.EncodeToString(key))),
		"base64":           []byte(base64.StdEncoding.EncodeToString(key) + "\n"),
		"base64 unpadded":  []byte(base64.RawStdEncoding.EncodeToString(key)),
		"base64 URL-safe":  []byte(base64.URLEncoding.EncodeToString(key)),
		"hex, indented \t": []byte("  " + hex.EncodeToString(key) + " \r\n"),
	} {
		got, err := ParseKey(text)
		require.NoError(t, err, name)
		require.Equal(t, key, got, name)
	}
	dir := t.TempDir()
	for name, text := range map[string][]byte{
		"empty":      nil,
		"short raw":  key[:16],
		"raw+\\n":    append(bytes.Clone(key), '\n'),
		"short hex":  []byte(hex.EncodeToString(key[:16])), // 32 bytes of text, not a raw key
		"passphrase": []byte("correct horse battery staple"),
		"AES-128":    []byte(base64.StdEncoding.EncodeToString(key[:16])),
	} {
		path := filepath.Join(dir, "key")
		require.NoError(t, os.WriteFile(path, text, 0o600))
		_, err := Load(path)
		require.ErrorContains(t, err, path, name)
		require.ErrorContains(t, err, "not a 32-byte key", name)
		if len(text) > 0 {
			require.NotContains(t, err.Error(), string(text), "an error must not quote the key")
		}
	}
	_, err := Load(filepath.Join(dir, "missing"))
	require.ErrorContains(t, err, "missing")
}

func TestGenerateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clirflow.key")
	id, err := GenerateKeyFile(path)
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	c, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, id, c.KeyID())

	// Never overwrite a key: histories encrypted with it would be lost.
	before, _ := os.ReadFile(path)
	_, err = GenerateKeyFile(path)
	require.ErrorContains(t, err, "exists")
	after, _ := os.ReadFile(path)
	require.Equal(t, before, after)
	entries, _ := os.ReadDir(filepath.Dir(path))
	require.Len(t, entries, 1, "no temp file left behind")
}
