package translate

import (
	"fmt"
	"net/http"
	"time"

	"github.com/clirflow/clirflow/internal/httpx"
)

// PermanentError is an error that retrying cannot fix: an unknown language pair,
// a missing program or dictionary, an HTTP 4xx answer other than 408/429.
// Activities should turn it into a non-retryable error. Config problems are
// reported as *inputerr.Error (naming the field), which IsPermanent also accepts.
// System is "apertium", "apy", "dictionary", "openai" or "http".
type PermanentError = httpx.PermanentError

func permanent(system, format string, args ...any) error {
	return &PermanentError{System: system, Msg: fmt.Sprintf(format, args...)}
}

// IsPermanent reports whether err (or an error it wraps) cannot be fixed by a
// retry: a *PermanentError or an *inputerr.Error (bad config / input).
// Everything else (process crash, timeouts, HTTP 408/429/5xx, network errors)
// is transient.
func IsPermanent(err error) bool { return httpx.IsPermanent(err) }

// StatusError is a transient HTTP error (408, 429, 5xx and other unexpected
// statuses). For 429 the server's Retry-After, when given, is in RetryAfter.
type StatusError = httpx.StatusError

// RetryAfter returns the delay a server asked for (HTTP 429/503 Retry-After),
// if err carries one.
func RetryAfter(err error) (time.Duration, bool) { return httpx.RetryAfter(err) }

// statusError maps a non-2xx HTTP answer: 408, 429 and 5xx are transient
// (*StatusError), other 4xx are permanent (*PermanentError keeping the server's
// message).
func statusError(system string, status int, header http.Header, msg string, now time.Time) error {
	return httpx.FromStatus(system, status, header, msg, now)
}
