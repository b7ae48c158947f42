package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// HeaderDoer is a go-openai HTTPDoer that records the answer headers of
// non-2xx responses into the *HeaderHolder carried by the request context
// (see WithHeaderHolder): go-openai's errors lack headers, and Retry-After
// lives there.
type HeaderDoer struct{ Client *http.Client }

type headerKey struct{}

// HeaderHolder receives the headers of a non-2xx answer and when the
// request was sent.
type HeaderHolder struct {
	mu   sync.Mutex
	h    http.Header
	sent time.Time
}

// Sent is when the request went out (after its slot, if any, was taken);
// zero before.
func (h *HeaderHolder) Sent() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sent
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

type slotKey struct{}

// Acquirer takes a concurrency slot; release gives it back.
type Acquirer func(ctx context.Context) (release func(), err error)

type slot struct {
	acquire Acquirer
	timeout time.Duration
}

// WithSlot returns ctx whose requests sent through a HeaderDoer each hold a
// slot taken by acquire from just before they are sent (the request body
// already encoded) until their answer's body is closed, so that a
// concurrency limit counts requests, not the work around them. timeout > 0
// bounds each request from when it has its slot (the wait excluded).
func WithSlot(ctx context.Context, acquire Acquirer, timeout time.Duration) context.Context {
	return context.WithValue(ctx, slotKey{}, slot{acquire, timeout})
}

// Do sends req with the wrapped client.
func (d *HeaderDoer) Do(req *http.Request) (*http.Response, error) {
	var done func() // nil: no slot
	if sl, ok := req.Context().Value(slotKey{}).(slot); ok {
		release, err := sl.acquire(req.Context())
		if err != nil {
			return nil, err
		}
		done = release
		if sl.timeout > 0 {
			ctx, cancel := context.WithTimeout(req.Context(), sl.timeout)
			req = req.WithContext(ctx)
			done = func() { cancel(); release() }
		}
	}
	if h, ok := req.Context().Value(headerKey{}).(*HeaderHolder); ok {
		h.mu.Lock()
		h.sent = time.Now()
		h.mu.Unlock()
	}
	resp, err := d.Client.Do(req)
	switch {
	case done == nil:
	case err != nil:
		done()
	default:
		resp.Body = &releasingBody{ReadCloser: resp.Body, release: sync.OnceFunc(done)}
	}
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

// releasingBody ends its request when closed: its slot and its timeout.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
