package llm

import (
	"time"

	"github.com/clirflow/clirflow/internal/httpx"
)

// PermanentError is an error that retrying cannot fix: an HTTP 4xx answer other
// than 408/429 (bad request, bad key, unknown model, …). Activities should turn
// it into a non-retryable error. Config problems are reported as *inputerr.Error
// (naming the field), which IsPermanent also accepts. System is
// "llm ENDPOINT/MODEL"; Msg is the server's message (API key redacted).
type PermanentError = httpx.PermanentError

// StatusError is a transient HTTP error (408, 429, 5xx and other unexpected
// statuses). For 429/503 the server's Retry-After, when given, is in RetryAfter.
type StatusError = httpx.StatusError

// IsPermanent reports whether err (or an error it wraps) cannot be fixed by a
// retry: a *PermanentError or an *inputerr.Error (bad config / input).
// Everything else (HTTP 408/429/5xx, network errors, timeouts, truncated
// answers) is transient.
func IsPermanent(err error) bool { return httpx.IsPermanent(err) }

// RetryAfter returns the delay a server asked for (the Retry-After header of an
// HTTP 429/503 answer), if err carries one.
func RetryAfter(err error) (time.Duration, bool) { return httpx.RetryAfter(err) }

// errorMessage extracts a server's error message from a JSON body
// ({"error": "..."}, {"error": {"message": ...}}, {"message": ...},
// {"detail": ...}) or returns the body itself.
func errorMessage(body []byte) string {
	return httpx.ErrorMessage(body, "error", "message", "detail")
}
