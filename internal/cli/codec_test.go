package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// codec-key prints the file and key id, never the key, and never replaces a key.
func TestCodecKeyCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.key")
	var out, errb bytes.Buffer
	require.Equal(t, 0, Codec("codec-key", []string{"-out", path}, &out, &errb), errb.String())
	key, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, out.String(), "key id ")
	require.NotContains(t, out.String(), strings.TrimSpace(string(key)))
	require.Equal(t, 1, Codec("codec-key", []string{"-out", path}, &out, &errb))
	require.Equal(t, 2, Codec("codec-key", nil, &out, &errb))
}

// -codec-key reaches the client options: a bad key file stops run and verify
// before they connect, naming the file.
func TestCodecKeyFlagIsUsedToDial(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.key")
	require.NoError(t, os.WriteFile(bad, []byte("not a key"), 0o600))
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var conn connFlags
	conn.register(fs)
	require.NoError(t, fs.Parse([]string{"-codec-key", bad, "-address", "127.0.0.1:1"}))
	_, _, err := conn.dial()
	require.ErrorContains(t, err, bad)
	require.ErrorContains(t, err, "not a 32-byte key")
}
