// Package httpx holds the HTTP error handling shared by the clients that call
// remote services (internal/llm, internal/translate): permanent versus
// transient errors, the mapping of HTTP statuses onto them, Retry-After
// parsing, and the go-openai glue that recovers the answer headers and status.
package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// PermanentError is an error that retrying cannot fix: an HTTP 4xx answer other
// than 408/429 (bad request, bad key, unknown model, …), an unknown language
// pair, a missing program or dictionary. Activities should turn it into a
// non-retryable error. Config problems are reported as *inputerr.Error (naming
// the field), which IsPermanent also accepts.
type PermanentError struct {
	System string // "llm ENDPOINT/MODEL", "apertium", "apy", "dictionary", "openai", "http"
	Status int    // HTTP status when the error came from a server, else 0
	Msg    string // the server's message (API key redacted)
	Err    error  // optional cause
}

func (e *PermanentError) Error() string {
	var b strings.Builder
	b.WriteString(e.System)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *PermanentError) Unwrap() error { return e.Err }

// StatusError is a transient HTTP error (408, 429, 5xx and other unexpected
// statuses). For 429/503 the server's Retry-After, when given, is in RetryAfter.
type StatusError struct {
	System        string
	Status        int
	Msg           string
	RetryAfter    time.Duration
	HasRetryAfter bool
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d", e.System, e.Status)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.HasRetryAfter {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// IsPermanent reports whether err (or an error it wraps) cannot be fixed by a
// retry: a *PermanentError or an *inputerr.Error (bad config / input).
// Everything else (process crash, HTTP 408/429/5xx, network errors, timeouts,
// truncated answers) is transient.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	var p *PermanentError
	return errors.As(err, &p) || inputerr.Is(err)
}

// RetryAfter returns the delay a server asked for (the Retry-After header of an
// HTTP 429/503 answer), if err carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var s *StatusError
	if errors.As(err, &s) && s.HasRetryAfter {
		return s.RetryAfter, true
	}
	return 0, false
}

// FromStatus maps a non-2xx HTTP answer: 408, 429 and 5xx are transient
// (*StatusError, with the Retry-After of header when given), other 4xx are
// permanent (*PermanentError keeping the server's message). msg is trimmed and
// cut to 2000 bytes.
func FromStatus(system string, status int, header http.Header, msg string, now time.Time) error {
	msg = strings.TrimSpace(msg)
	if len(msg) > 2000 {
		msg = msg[:2000] + "…"
	}
	if status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests {
		return &PermanentError{System: system, Status: status, Msg: msg}
	}
	e := &StatusError{System: system, Status: status, Msg: msg}
	if header != nil {
		e.RetryAfter, e.HasRetryAfter = ParseRetryAfter(header.Get("Retry-After"), now)
	}
	return e
}

// ParseRetryAfter reads a Retry-After value: delta-seconds or an HTTP date
// (a date in the past gives 0).
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// ErrorMessage extracts a server's error message from a JSON body: the first
// of keys (in order) holding a non-empty string, or an object with a non-empty
// "message" string ({"error": "..."}, {"error": {"message": ...}}, …).
// Otherwise it returns the body itself.
func ErrorMessage(body []byte, keys ...string) string {
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		for _, k := range keys {
			switch v := m[k].(type) {
			case string:
				if v != "" {
					return v
				}
			case map[string]any:
				if s, ok := v["message"].(string); ok && s != "" {
					return s
				}
			}
		}
	}
	return string(body)
}
