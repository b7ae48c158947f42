package codec

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

const uiOrigin = "http://localhost:8233"

// The Temporal UI's request: POST ENDPOINT/decode from the browser, with the
// payloads as protobuf JSON (metadata values and data in base64).
func TestHTTPDecodeAsTheUIDoes(t *testing.T) {
	c := newCodec(t)
	srv := httptest.NewServer(NewHTTPHandler(c, uiOrigin))
	defer srv.Close()

	p, _ := converter.GetDefaultDataConverter().ToPayload(map[string]string{"query": "ui-marker"})
	enc, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	b64 := base64.StdEncoding.EncodeToString
	body := fmt.Sprintf(`{"payloads":[{"metadata":{"encoding":%q,"encryption-key-id":%q},"data":%q}]}`,
		b64([]byte(Encoding)), b64([]byte(c.KeyID())), b64(enc[0].Data))

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/decode", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	req.Header.Set("Origin", uiOrigin)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))

	var got struct {
		Payloads []struct {
			Metadata map[string][]byte `json:"metadata"`
			Data     []byte            `json:"data"`
		} `json:"payloads"`
	}
	require.NoError(t, json.Unmarshal(raw, &got), string(raw))
	require.Len(t, got.Payloads, 1)
	require.Equal(t, "json/plain", string(got.Payloads[0].Metadata["encoding"]))
	require.JSONEq(t, `{"query":"ui-marker"}`, string(got.Payloads[0].Data))

	// And back: /encode gives ciphertext that the codec decrypts.
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/encode", strings.NewReader(fmt.Sprintf(
		`{"payloads":[{"metadata":{"encoding":%q},"data":%q}]}`, b64([]byte("json/plain")), b64([]byte(`"typed in the UI"`)))))
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ = io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	require.NoError(t, json.Unmarshal(raw, &got))
	require.Equal(t, Encoding, string(got.Payloads[0].Metadata["encoding"]))
	dec, err := c.Decode([]*commonpb.Payload{{Metadata: got.Payloads[0].Metadata, Data: got.Payloads[0].Data}})
	require.NoError(t, err)
	require.Equal(t, `"typed in the UI"`, string(dec[0].Data))
}

func TestHTTPCORS(t *testing.T) {
	c := newCodec(t)
	srv := httptest.NewServer(NewHTTPHandler(c, uiOrigin))
	defer srv.Close()

	// The browser's preflight before the UI's POST with a JSON body.
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	resp := preflight(uiOrigin)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "POST")
	allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
	require.Contains(t, allowed, "content-type")
	require.Contains(t, allowed, "x-namespace")

	// Another site's page must not get to read decrypted payloads.
	resp = preflight("http://evil.example")
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/decode", strings.NewReader(`{"payloads":[]}`))
	req.Header.Set("Origin", "http://evil.example")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
}
