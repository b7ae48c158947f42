// Package codec encrypts Temporal payloads with AES-256-GCM, so that workflow
// inputs, results, activity arguments and failure messages are ciphertext on
// the Temporal server and in its UI. The same key must be given to every
// worker and starter of a namespace; the codec server (NewHTTPHandler) lets
// the Temporal UI show the plaintext in the browser of whoever runs it.
package codec

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Metadata of an encrypted payload. The values follow Temporal's encryption
// sample, so other tools that know it recognise our payloads.
const (
	Encoding      = "binary/encrypted"
	MetadataKeyID = "encryption-key-id"
	// KeySize is the AES-256 key length in bytes.
	KeySize = 32
)

// Codec is a converter.PayloadCodec encrypting each payload as a whole
// (metadata included, so not even the encoding, e.g. json/plain, shows).
type Codec struct {
	aead cipher.AEAD
	id   string
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec for a 32-byte key.
func New(key []byte) (*Codec, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("codec key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Codec{aead: aead, id: KeyID(key)}, nil
}

// KeyID names a key without revealing it: the first 8 hex digits of its
// SHA-256. It is stored with every payload, so a wrong key is reported as
// such instead of as corrupted data.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

// KeyID is the id of the codec's key.
func (c *Codec) KeyID() string { return c.id }

// Encode encrypts every payload with a fresh random nonce (stored in front of
// the ciphertext): GCM must never see the same nonce twice under one key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("encrypt payload: %w", err)
		}
		nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(plain)+c.aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return payloads, fmt.Errorf("encrypt payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(c.id),
			},
			Data: c.aead.Seal(nonce, nonce, plain, nil),
		}
	}
	return out, nil
}

// Decode decrypts the payloads this codec encrypted and passes every other
// payload through unchanged: histories written before encryption was turned
// on stay readable.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		if id := string(p.GetMetadata()[MetadataKeyID]); id != c.id {
			return payloads, fmt.Errorf("payload was encrypted with key id %q, but this codec has key id %q: worker, starter and codec server need the same key file", id, c.id)
		}
		data := p.GetData()
		if len(data) < c.aead.NonceSize()+c.aead.Overhead() {
			return payloads, fmt.Errorf("decrypt payload (key id %s): ciphertext too short (%d bytes)", c.id, len(data))
		}
		n := c.aead.NonceSize()
		plain, err := c.aead.Open(nil, data[:n], data[n:], nil)
		if err != nil {
			return payloads, fmt.Errorf("decrypt payload (key id %s): tampered or corrupted: %w", c.id, err)
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(plain, &dec); err != nil {
			return payloads, fmt.Errorf("decrypt payload (key id %s): %w", c.id, err)
		}
		out[i] = &dec
	}
	return out, nil
}

// ParseKey reads a key written raw (exactly 32 bytes), as 64 hex digits or in
// base64 (standard or URL alphabet, padded or not); surrounding whitespace is
// ignored in the text forms. 32 bytes of text (say, a 128-bit key in hex) are
// rejected rather than taken as a raw key: random bytes are all printable
// with a probability of about 1e-14. Errors never quote the key.
func ParseKey(b []byte) ([]byte, error) {
	if len(b) == KeySize && !printable(b) {
		return bytes.Clone(b), nil
	}
	s := string(bytes.TrimSpace(b))
	if k, err := hex.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("not a %d-byte key: expected %d raw bytes, %d hex digits or base64 of %d bytes, got %d bytes of something else",
		KeySize, KeySize, 2*KeySize, KeySize, len(b))
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' && c != '\n' && c != '\r' || c > '~' {
			return false
		}
	}
	return true
}

// Load returns a codec for the key in a key file.
func Load(path string) (*Codec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("codec key: %w", err)
	}
	key, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("codec key file %s: %w", path, err)
	}
	return New(key)
}

// GenerateKeyFile writes a new random key, hex-encoded, to path (mode 0600,
// via a temp file and rename so no reader ever sees half a key) and returns
// its id. It refuses to overwrite an existing file: replacing a key makes
// every history encrypted with it unreadable.
func GenerateKeyFile(path string) (string, error) {
	if _, err := os.Lstat(path); err == nil {
		return "", fmt.Errorf("%s exists; not overwriting a key (histories encrypted with it would become unreadable)", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	// CreateTemp makes the file 0600 from the start.
	f, err := os.CreateTemp(filepath.Dir(path), ".codec-key-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name()) // no-op after the rename
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return "", fmt.Errorf("write codec key %s: %w", path, err)
	}
	return KeyID(key), nil
}
