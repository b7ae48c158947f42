package httpx

import (
	"context"
	"errors"
	"net/http"
	"sync"

	openai "github.com/sashabaranov/go-openai"
)

// HeaderDoer is a go-openai HTTPDoer that records the answer headers of
// non-2xx responses into the *HeaderHolder carried by the request context
// (see WithHeaderHolder): go-openai's errors lack headers, and Retry-After
// lives there.
type HeaderDoer struct{ Client *http.Client }

type headerKey struct{}

// HeaderHolder receives the headers of a non-2xx answer.
type HeaderHolder struct {
	mu sync.Mutex
	h  http.Header
}

// WithHeaderHolder returns ctx carrying a new, empty HeaderHolder, for one
// request sent through a HeaderDoer.
func WithHeaderHolder(ctx context.Context) (context.Context, *HeaderHolder) {
	h := &HeaderHolder{}
	return context.WithValue(ctx, headerKey{}, h), h
}

// Header is the recorded header (nil when none was recorded).
func (h *HeaderHolder) Header() http.Header {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.h
}

// Do sends req with the wrapped client.
func (d *HeaderDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.Client.Do(req)
	if err == nil && resp.StatusCode >= 300 {
		if h, ok := req.Context().Value(headerKey{}).(*HeaderHolder); ok {
			h.mu.Lock()
			h.h = resp.Header.Clone()
			h.mu.Unlock()
		}
	}
	return resp, err
}

// OpenAIStatus returns the HTTP status and the server's message of a go-openai
// error (*openai.APIError, or *openai.RequestError whose body is read by
// errorMessage, falling back to its cause's text); status 0 when err carries
// no HTTP answer.
func OpenAIStatus(err error, errorMessage func(body []byte) string) (status int, msg string) {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.As(err, &apiErr):
		status, msg = apiErr.HTTPStatusCode, apiErr.Message
	case errors.As(err, &reqErr):
		status, msg = reqErr.HTTPStatusCode, errorMessage(reqErr.Body)
		if msg == "" && reqErr.Err != nil {
			msg = reqErr.Err.Error()
		}
	}
	return status, msg
}
