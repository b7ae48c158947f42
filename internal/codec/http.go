package codec

import (
	"net/http"
	"slices"

	"go.temporal.io/sdk/converter"
)

// NewHTTPHandler serves the Temporal codec-server protocol (POST …/encode and
// …/decode with a JSON Payloads body) for the Temporal UI. The UI calls it
// from the browser, a cross-origin request, so the allowed UI origins get
// CORS headers; other origins get none and the browser withholds the answer
// from their scripts (the handler itself still decrypts for anyone who can
// reach it: listen on localhost or behind authentication).
func NewHTTPHandler(c converter.PayloadCodec, allowedOrigins ...string) http.Handler {
	codec := converter.NewPayloadCodecHTTPHandler(c)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(allowedOrigins, origin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace")
			h.Set("Access-Control-Allow-Methods", "POST")
		}
		if r.Method == http.MethodOptions {
			// Preflight: the headers above are the whole answer.
			w.WriteHeader(http.StatusOK)
			return
		}
		codec.ServeHTTP(w, r)
	})
}
