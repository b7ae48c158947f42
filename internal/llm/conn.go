package llm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/clirflow/clirflow/internal/httpx"
	"github.com/clirflow/clirflow/internal/inputerr"
)

// Conn is what every client of one OpenAI-compatible endpoint needs: the
// validated endpoint, its API key (never printed), the go-openai client and
// the endpoint's in-process limits. Chat (Client) and embeddings
// (internal/embed) build on it.
type Conn struct {
	ep     Endpoint
	key    secret
	system string // "KIND NAME/MODEL", the prefix of errors
	oc     *openai.Client
	clock  Clock
	sem    chan struct{} // nil: unlimited
	gate   *Gate         // nil: no process-wide bound
	rpm    *bucket       // nil: unlimited
	tpm    *bucket       // nil: unlimited
}

// secret hides the API key from fmt (%v, %+v, %#v print "[REDACTED]").
type secret string

func (secret) String() string   { return "[REDACTED]" }
func (secret) GoString() string { return "[REDACTED]" }

// EndpointField names a field of ep in errors: endpoints.NAME.FIELD.
func EndpointField(ep Endpoint, f string) string {
	if ep.Name == "" {
		return f
	}
	return "endpoints." + ep.Name + "." + f
}

// Dial validates ep (errors are *inputerr.Error naming the field), reads the
// API key from the variable named by ep.APIKeyEnv and builds the client.
// kind prefixes errors ("llm", "embed"); hc nil: a client whose transport
// keeps MaxConcurrency idle connections; clk nil: the real clock.
func Dial(ep Endpoint, kind string, hc *http.Client, clk Clock) (*Conn, error) {
	field := func(f string) string { return EndpointField(ep, f) }
	if ep.BaseURL == "" {
		return nil, inputerr.Field(field("base_url"), "is required")
	}
	u, err := url.Parse(ep.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, inputerr.Field(field("base_url"), "%q is not an http(s) URL", ep.BaseURL)
	}
	if u.User != nil {
		return nil, inputerr.Field(field("base_url"), "must not contain credentials; name an environment variable in api_key_env")
	}
	if ep.Model == "" {
		return nil, inputerr.Field(field("model"), "is required")
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"max_concurrency", ep.MaxConcurrency}, {"requests_per_minute", ep.RequestsPerMinute}, {"tokens_per_minute", ep.TokensPerMinute}} {
		if c.v < 0 {
			return nil, inputerr.Field(field(c.name), "must be ≥ 0, got %d", c.v)
		}
	}
	for _, c := range []struct {
		name string
		v    float64
	}{{"price_prompt_per_1k", ep.PricePromptPer1K}, {"price_completion_per_1k", ep.PriceCompletionPer1K}} {
		if c.v < 0 || math.IsNaN(c.v) || math.IsInf(c.v, 0) {
			return nil, inputerr.Field(field(c.name), "must be a finite number ≥ 0")
		}
	}
	key := ""
	if ep.APIKeyEnv != "" {
		if key = os.Getenv(ep.APIKeyEnv); key == "" {
			return nil, inputerr.Field(field("api_key_env"), "environment variable %s is not set", ep.APIKeyEnv)
		}
	}
	c := &Conn{ep: ep, key: secret(key), clock: clk}
	c.system = kind + " " + c.ID()
	if c.clock == nil {
		c.clock = realClock{}
	}
	if ep.MaxConcurrency > 0 {
		c.sem = make(chan struct{}, ep.MaxConcurrency)
	}
	if ep.RequestsPerMinute > 0 {
		// Requests are spread evenly: the bucket holds one second's worth.
		c.rpm = newBucket(ep.RequestsPerMinute, ep.RequestsPerMinute/60)
	}
	if ep.TokensPerMinute > 0 {
		// Request sizes vary widely: the bucket holds a minute's worth, and a
		// request larger than that is charged the whole bucket.
		c.tpm = newBucket(ep.TokensPerMinute, ep.TokensPerMinute)
	}
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// Keep a connection per request in flight: more are reopened per
		// request (a worker sends up to its LLM concurrency, 32 by default).
		tr.MaxIdleConnsPerHost = max(ep.MaxConcurrency, 64)
		hc = &http.Client{Transport: tr}
	}
	oc := openai.DefaultConfig(key)
	oc.BaseURL = strings.TrimRight(ep.BaseURL, "/")
	oc.HTTPClient = &httpx.HeaderDoer{Client: hc}
	c.oc = openai.NewClientWithConfig(oc)
	return c, nil
}

// ID is "NAME/MODEL" ("MODEL" without a name): the endpoint in cache keys and
// audit records. It never contains the key or the URL.
func (c *Conn) ID() string {
	if c.ep.Name == "" {
		return c.ep.Model
	}
	return c.ep.Name + "/" + c.ep.Model
}

// Endpoint returns the endpoint the connection was built from.
func (c *Conn) Endpoint() Endpoint { return c.ep }

// System is the prefix of the connection's errors ("embed NAME/MODEL").
func (c *Conn) System() string { return c.system }

// OpenAI is the go-openai client (its requests carry the key).
func (c *Conn) OpenAI() *openai.Client { return c.oc }

// Gate bounds the requests in flight of every connection that shares it:
// a worker process's LLM concurrency. Only the request is counted, so the
// work around it (prompts, audit records) overlaps other requests.
type Gate struct{ ch chan struct{} }

// NewGate returns a Gate of n slots (n ≤ 0: nil, no bound).
func NewGate(n int) *Gate {
	if n <= 0 {
		return nil
	}
	return &Gate{ch: make(chan struct{}, n)}
}

// UseGate makes the connection's requests take a slot of g too (nil: none).
// Call it before the connection is used.
func (c *Conn) UseGate(g *Gate) { c.gate = g }

// Acquire takes one of the endpoint's MaxConcurrency slots, then one of the
// gate's; release gives both back.
func (c *Conn) Acquire(ctx context.Context) (release func(), err error) {
	take := func(ch chan struct{}) error {
		if ch == nil {
			return nil
		}
		select {
		case ch <- struct{}{}:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("%s: waiting for a connection slot: %w", c.system, ctx.Err())
		}
	}
	var gate chan struct{}
	if c.gate != nil {
		gate = c.gate.ch
	}
	if err := take(c.sem); err != nil {
		return nil, err
	}
	if err := take(gate); err != nil {
		if c.sem != nil {
			<-c.sem
		}
		return nil, err
	}
	return func() {
		if gate != nil {
			<-gate
		}
		if c.sem != nil {
			<-c.sem
		}
	}, nil
}

// Limited reports whether the endpoint has a request or token rate limit.
func (c *Conn) Limited() bool { return c.rpm != nil || c.tpm != nil }

// WaitRate waits for one request and tokens tokens under the endpoint's rate
// limits; it returns the time waited and the tokens charged (see Correct).
func (c *Conn) WaitRate(ctx context.Context, tokens int) (time.Duration, int, error) {
	var waited time.Duration
	if c.rpm != nil {
		d, _, err := c.rpm.wait(ctx, c.clock, 1)
		if err != nil {
			return waited, 0, fmt.Errorf("%s: waiting for the request rate limit: %w", c.system, err)
		}
		waited += d
	}
	charged := 0
	if c.tpm != nil {
		d, n, err := c.tpm.wait(ctx, c.clock, tokens)
		if err != nil {
			return waited, 0, fmt.Errorf("%s: waiting for the token rate limit: %w", c.system, err)
		}
		waited += d
		charged = n
	}
	return waited, charged, nil
}

// CorrectTokens settles a token charge once the server has reported usage.
func (c *Conn) CorrectTokens(charged, actual int) {
	if c.tpm != nil {
		c.tpm.correct(c.clock, charged, actual)
	}
}

// MapError classifies a go-openai error (httpx status classes) with the
// server's message, the key redacted.
func (c *Conn) MapError(err error, h *httpx.HeaderHolder) error {
	status, msg := httpx.OpenAIStatus(err, errorMessage)
	if status == 0 {
		return c.Redact(fmt.Errorf("%s: %w", c.system, err))
	}
	return httpx.FromStatus(c.system, status, h.Header(), c.RedactString(msg), time.Now())
}

// RedactString replaces the key in s.
func (c *Conn) RedactString(s string) string {
	if c.key == "" {
		return s
	}
	return strings.ReplaceAll(s, string(c.key), "[REDACTED]")
}

// Redact replaces err by a *redactedError when its text contains the key.
func (c *Conn) Redact(err error) error {
	if c.key == "" || !strings.Contains(err.Error(), string(c.key)) {
		return err
	}
	var cause error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		cause = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		cause = context.Canceled
	}
	return &redactedError{msg: c.RedactString(err.Error()), cause: cause}
}

// redactedError replaces an error whose text contained the API key. It keeps
// only the context sentinel as its cause, so the original error, which holds
// the key, cannot be reached through it.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }
