// Package llmtest is a scripted OpenAI-compatible server for tests: chat
// completions answered by a pluggable Answerer (with built-in listwise and
// pairwise rerankers driven by a relevance function), deterministic
// embeddings, a model list, and reproducible fault injection (HTTP errors,
// rate limits, latency, hangs, truncated bodies, bad rankings), with counters
// and a request log. It listens on loopback only. Production code must not
// import it.
//
// Usage in answers is approximate: prompt tokens are the whitespace-separated
// words of all message contents, completion tokens those of the answer
// (embeddings: the words of the inputs).
package llmtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Message is one chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatRequest is a decoded chat completion request, as passed to an Answerer.
type ChatRequest struct {
	N           int // the server's request number (1-based)
	Model       string
	Messages    []Message
	Temperature *float64 // nil when the request carried none
	MaxTokens   int
	Seed        *int
	Stop        []string
}

// Answerer produces the assistant's answer. An *HTTPError makes the server
// answer with that status; any other error gives HTTP 500 with its text.
type Answerer func(req ChatRequest) (string, error)

// HTTPError is an error answer chosen by an Answerer.
type HTTPError struct {
	Status     int
	Message    string
	RetryAfter time.Duration // > 0: sent as Retry-After
}

func (e *HTTPError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

// ServerOptions configure a Server. The zero value echoes the last message.
type ServerOptions struct {
	// Answerer answers chat requests; nil echoes the last message's content.
	Answerer Answerer
	// Latency: every answer starts this long after its request arrived (the
	// server's own reading and parsing included), a known stub latency to
	// measure client overhead against.
	Latency time.Duration
	// FaultRate is the probability that a request gets a fault drawn from
	// Faults (default {FaultHTTP500}); draws are seeded by (Seed, request number).
	FaultRate float64
	Faults    []Fault
	Seed      int64
	// Schedule fixes the fault of given request numbers (1-based), overriding
	// the random draw; Fault{} forces a clean answer.
	Schedule map[int]Fault
	// EmbeddingDim is the default embedding dimension (default 8); a request's
	// "dimensions" field overrides it.
	EmbeddingDim int
	// Embedder, when set, replaces the hash-seeded unit vectors.
	Embedder func(model, text string) []float32
	// EmbeddingItems, when set, sees the inputs of every embeddings request
	// with their vectors (Index i for inputs[i]) and returns the items to
	// send, in the order to send them: to test clients against reordered,
	// missing, extra or mis-indexed vectors, or to record what was sent.
	EmbeddingItems func(model string, inputs []string, items []EmbeddingItem) []EmbeddingItem
	// Models are listed by GET /v1/models (default {"llmtest"}).
	Models []string
	// APIKey, when set, is required as "Authorization: Bearer KEY"; other
	// requests get 401 whose message quotes the key sent (some servers do
	// this), so clients' redaction can be tested.
	APIKey string
	// OmitUsage leaves "usage" out of chat answers.
	OmitUsage bool
}

// Stats are the server's counters.
type Stats struct {
	Requests      int // all requests
	Chat          int // POST /v1/chat/completions
	Embeddings    int // POST /v1/embeddings
	Models        int // GET /v1/models
	ByStatus      map[int]int
	Faults        map[FaultKind]int // faults injected, by kind
	MaxConcurrent int               // most requests in flight at once
	InFlight      int
}

// LogEntry records one request.
type LogEntry struct {
	N       int
	Path    string
	Model   string
	Fault   FaultKind // FaultNone when none was injected
	Status  int       // 0: no answer was sent (timeout fault or client gone)
	Latency time.Duration
	// Start is when the request arrived; Answered when the server began to
	// write its answer (zero when it sent none). The client cannot have the
	// answer before Answered, and the handler returns (Latency) before a
	// small answer leaves the server's buffer.
	Start, Answered time.Time
	// PromptHash is the hex SHA-256 of a chat request's model and messages
	// (roles and contents): equal for every retry of the same request, so
	// the attempts of one request can be told apart from other requests (""
	// for other paths and undecodable bodies).
	PromptHash string
}

// Server is a running scripted server. It is safe for concurrent use.
type Server struct {
	opts      ServerOptions
	srv       *httptest.Server
	done      chan struct{}
	closeOnce sync.Once

	n        atomic.Int64
	inFlight atomic.Int64

	mu    sync.Mutex
	stats Stats
	log   []LogEntry
}

// NewServer starts a server on a loopback port.
func NewServer(opts ServerOptions) *Server {
	if opts.EmbeddingDim <= 0 {
		opts.EmbeddingDim = 8
	}
	if len(opts.Models) == 0 {
		opts.Models = []string{"llmtest"}
	}
	s := &Server{opts: opts, done: make(chan struct{})}
	s.resetLocked()
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// URL is the base URL of the API, ending in /v1.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Close releases hanging requests and stops the server.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByStatus = make(map[int]int, len(s.stats.ByStatus))
	for k, v := range s.stats.ByStatus {
		st.ByStatus[k] = v
	}
	st.Faults = make(map[FaultKind]int, len(s.stats.Faults))
	for k, v := range s.stats.Faults {
		st.Faults[k] = v
	}
	st.InFlight = int(s.inFlight.Load())
	return st
}

// Log returns the request log ordered by request number.
func (s *Server) Log() []LogEntry {
	s.mu.Lock()
	out := append([]LogEntry(nil), s.log...)
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out
}

// Requests is the number of requests received (all endpoints).
func (s *Server) Requests() int { return int(s.n.Load()) }

// ChatRequests is the number of chat completion requests received.
func (s *Server) ChatRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.Chat
}

// Reset zeroes the counters, the log and the request numbering (so a
// Schedule applies again from request 1). Call it with no request in flight.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n.Store(0)
	s.resetLocked()
}

func (s *Server) resetLocked() {
	s.stats = Stats{ByStatus: map[int]int{}, Faults: map[FaultKind]int{}}
	s.log = nil
}

// exchange is the state of one request.
type exchange struct {
	n        int
	start    time.Time
	answered time.Time
	path     string
	model    string
	prompt   string // PromptHash
	fault    FaultKind
	status   int
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	x := &exchange{n: int(s.n.Add(1)), start: time.Now(), path: r.URL.Path}
	cur := s.inFlight.Add(1)
	s.mu.Lock()
	s.stats.Requests++
	s.stats.MaxConcurrent = max(s.stats.MaxConcurrent, int(cur))
	switch x.path {
	case "/v1/chat/completions":
		s.stats.Chat++
	case "/v1/embeddings":
		s.stats.Embeddings++
	case "/v1/models":
		s.stats.Models++
	}
	s.mu.Unlock()
	defer func() {
		s.inFlight.Add(-1)
		s.mu.Lock()
		if x.status != 0 {
			s.stats.ByStatus[x.status]++
		}
		if x.fault != FaultNone {
			s.stats.Faults[x.fault]++
		}
		s.log = append(s.log, LogEntry{N: x.n, Path: x.path, Model: x.model, Fault: x.fault, Status: x.status, Latency: time.Since(x.start),
			Start: x.start, Answered: x.answered, PromptHash: x.prompt})
		s.mu.Unlock()
	}()

	// Read the whole body first: only then does net/http watch the connection
	// and cancel r.Context() when the client gives up.
	body0, err := readBody(r)
	if err != nil {
		return
	}
	// A chat request is decoded once, here; its answer is made after the
	// latency (the decoding happens within it).
	var chatReq chatBody
	var chatErr error
	if x.path == "/v1/chat/completions" {
		if chatErr = json.Unmarshal(body0, &chatReq); chatErr == nil {
			x.model = chatReq.Model
			if len(chatReq.Messages) > 0 {
				x.prompt = promptHash(chatReq.Model, chatReq.Messages)
			}
		}
	} else {
		var probe struct {
			Model string `json:"model"`
		}
		if json.Unmarshal(body0, &probe) == nil {
			x.model = probe.Model
		}
	}
	f := s.pickFault(x.n)
	delay := s.opts.Latency
	if f.Kind == FaultSlow {
		x.fault = FaultSlow
		delay += f.Latency
	}
	if !s.sleep(r, delay-time.Since(x.start)) {
		return
	}
	if s.opts.APIKey != "" && r.Header.Get("Authorization") != "Bearer "+s.opts.APIKey {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.writeError(w, x, http.StatusUnauthorized, "invalid_request_error", "Incorrect API key provided: "+got+".", 0)
		return
	}
	switch f.Kind {
	case FaultHTTP500:
		x.fault = f.Kind
		s.writeError(w, x, http.StatusInternalServerError, "server_error", defaultMessage(f), 0)
		return
	case FaultRateLimit:
		x.fault = f.Kind
		ra := f.RetryAfter
		if ra == 0 {
			ra = time.Second
		}
		s.writeError(w, x, http.StatusTooManyRequests, "rate_limit_exceeded", defaultMessage(f), ra)
		return
	case FaultStatus:
		x.fault = f.Kind
		status := f.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		s.writeError(w, x, status, "llmtest_error", defaultMessage(f), f.RetryAfter)
		return
	case FaultTimeout:
		x.fault = f.Kind
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}

	var body any
	switch x.path {
	case "/v1/chat/completions":
		if !s.method(w, r, x, http.MethodPost) {
			return
		}
		var ok bool
		if body, ok = s.chat(w, chatReq, chatErr, x, f); !ok {
			return
		}
	case "/v1/embeddings":
		if !s.method(w, r, x, http.MethodPost) {
			return
		}
		var ok bool
		if body, ok = s.embeddings(w, body0, x); !ok {
			return
		}
	case "/v1/models":
		if !s.method(w, r, x, http.MethodGet) {
			return
		}
		data := make([]map[string]any, len(s.opts.Models))
		for i, m := range s.opts.Models {
			data[i] = map[string]any{"id": m, "object": "model", "created": 0, "owned_by": "llmtest"}
		}
		body = map[string]any{"object": "list", "data": data}
	default:
		s.writeError(w, x, http.StatusNotFound, "invalid_request_error", "llmtest: unknown path "+x.path, 0)
		return
	}
	b, _ := json.Marshal(body)
	if f.Kind == FaultTruncated {
		x.fault = f.Kind
		b = b[:len(b)/2]
	}
	w.Header().Set("Content-Type", "application/json")
	x.answered = time.Now()
	w.WriteHeader(http.StatusOK)
	x.status = http.StatusOK
	_, _ = w.Write(b)
}

// sleep waits d; false when the client went away or the server is closing.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}

func (s *Server) method(w http.ResponseWriter, r *http.Request, x *exchange, want string) bool {
	if r.Method == want {
		return true
	}
	w.Header().Set("Allow", want)
	s.writeError(w, x, http.StatusMethodNotAllowed, "invalid_request_error", "llmtest: use "+want, 0)
	return false
}

func (s *Server) writeError(w http.ResponseWriter, x *exchange, status int, typ, msg string, retryAfter time.Duration) {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterHeader(retryAfter))
	}
	w.Header().Set("Content-Type", "application/json")
	x.answered = time.Now()
	w.WriteHeader(status)
	x.status = status
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
	_, _ = w.Write(b)
}

type chatBody struct {
	Model       string    `json:"model"`
	Messages    []Message `json:"messages"`
	Temperature *float64  `json:"temperature"`
	MaxTokens   int       `json:"max_tokens"`
	Seed        *int      `json:"seed"`
	Stop        []string  `json:"stop"`
}

// promptHash identifies a chat prompt: the model and each message's role
// and content, each string preceded by its length.
// readBody reads a request's body (at most 64 MB) in one allocation when
// its length is known: io.ReadAll grows its buffer step by step, which for
// 20 KB prompts was the scripted server's largest allocation.
func readBody(r *http.Request) ([]byte, error) {
	const limit = 64 << 20
	if n := r.ContentLength; n >= 0 && n <= limit {
		b := make([]byte, n)
		if _, err := io.ReadFull(r.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(io.LimitReader(r.Body, limit))
}

func promptHash(model string, msgs []Message) string {
	h := sha256.New()
	// Hashed through a small buffer: converting a 20 KB prompt to []byte
	// allocated a copy per request (the server shares the benchmark's CPU).
	var buf [1024]byte
	str := func(s string) {
		h.Write(binary.BigEndian.AppendUint64(buf[:0], uint64(len(s))))
		for len(s) > 0 {
			n := copy(buf[:], s)
			h.Write(buf[:n])
			s = s[n:]
		}
	}
	str(model)
	for _, m := range msgs {
		str(m.Role)
		str(m.Content)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Server) chat(w http.ResponseWriter, req chatBody, decodeErr error, x *exchange, f Fault) (any, bool) {
	if decodeErr != nil {
		s.writeError(w, x, http.StatusBadRequest, "invalid_request_error", "llmtest: bad JSON: "+decodeErr.Error(), 0)
		return nil, false
	}
	x.model = req.Model
	if req.Model == "" || len(req.Messages) == 0 {
		s.writeError(w, x, http.StatusBadRequest, "invalid_request_error", "llmtest: model and messages are required", 0)
		return nil, false
	}
	ans := s.opts.Answerer
	if ans == nil {
		ans = func(req ChatRequest) (string, error) { return req.Messages[len(req.Messages)-1].Content, nil }
	}
	text, err := ans(ChatRequest{N: x.n, Model: req.Model, Messages: req.Messages, Temperature: req.Temperature,
		MaxTokens: req.MaxTokens, Seed: req.Seed, Stop: req.Stop})
	if err != nil {
		var he *HTTPError
		if errors.As(err, &he) {
			s.writeError(w, x, he.Status, "invalid_request_error", he.Message, he.RetryAfter)
		} else {
			s.writeError(w, x, http.StatusInternalServerError, "server_error", err.Error(), 0)
		}
		return nil, false
	}
	if !f.isHTTP() && f.Kind != FaultNone {
		if t, ok := applyAnswerFault(f.Kind, text); ok {
			text, x.fault = t, f.Kind
		}
	}
	prompt := 0
	for _, m := range req.Messages {
		prompt += wordCount(m.Content)
	}
	completion := wordCount(text)
	body := map[string]any{
		"id": fmt.Sprintf("chatcmpl-llmtest-%d", x.n), "object": "chat.completion", "created": time.Now().Unix(),
		"model": req.Model,
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": text}}},
	}
	if !s.opts.OmitUsage {
		body["usage"] = map[string]int{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
	}
	return body, true
}

// EmbeddingItem is one vector of an embeddings answer.
type EmbeddingItem struct {
	Index     int
	Embedding []float32
}

type embeddingBody struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	Dimensions     int             `json:"dimensions"`
	EncodingFormat string          `json:"encoding_format"`
}

func (s *Server) embeddings(w http.ResponseWriter, raw []byte, x *exchange) (any, bool) {
	var req embeddingBody
	if err := json.Unmarshal(raw, &req); err != nil {
		s.writeError(w, x, http.StatusBadRequest, "invalid_request_error", "llmtest: bad JSON: "+err.Error(), 0)
		return nil, false
	}
	x.model = req.Model
	var inputs []string
	var one string
	if err := json.Unmarshal(req.Input, &one); err == nil {
		inputs = []string{one}
	} else if err := json.Unmarshal(req.Input, &inputs); err != nil {
		var toks [][]int // token arrays: embed their JSON text
		if err := json.Unmarshal(req.Input, &toks); err != nil || len(toks) == 0 {
			s.writeError(w, x, http.StatusBadRequest, "invalid_request_error", "llmtest: input must be a string or a list of strings", 0)
			return nil, false
		}
		for _, t := range toks {
			b, _ := json.Marshal(t)
			inputs = append(inputs, string(b))
		}
	}
	if req.Model == "" || len(inputs) == 0 {
		s.writeError(w, x, http.StatusBadRequest, "invalid_request_error", "llmtest: model and input are required", 0)
		return nil, false
	}
	dim := s.opts.EmbeddingDim
	if req.Dimensions > 0 {
		dim = req.Dimensions
	}
	items := make([]EmbeddingItem, len(inputs))
	words := 0
	for i, in := range inputs {
		words += wordCount(in)
		var v []float32
		if s.opts.Embedder != nil {
			v = s.opts.Embedder(req.Model, in)
		} else {
			v = Embedding(req.Model, in, dim)
		}
		items[i] = EmbeddingItem{Index: i, Embedding: v}
	}
	if s.opts.EmbeddingItems != nil {
		items = s.opts.EmbeddingItems(req.Model, inputs, items)
	}
	data := make([]map[string]any, len(items))
	for i, it := range items {
		v := it.Embedding
		var emb any = v
		if req.EncodingFormat == "base64" {
			buf := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(f))
			}
			emb = base64.StdEncoding.EncodeToString(buf)
		}
		data[i] = map[string]any{"object": "embedding", "index": it.Index, "embedding": emb}
	}
	return map[string]any{"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": words, "total_tokens": words}}, true
}

// wordCount counts the whitespace-separated words of s (len(strings.Fields(s))
// without building the slice: the scripted server shares the benchmark's
// cores with the worker).
func wordCount(s string) int {
	n, inWord := 0, false
	for i := 0; i < len(s); {
		c, size := s[i], 1
		space := asciiSpace[c]
		if c >= utf8.RuneSelf {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			space = unicode.IsSpace(r)
		}
		if !space && !inWord {
			n++
		}
		inWord = !space
		i += size
	}
	return n
}

// asciiSpace is strings.Fields' ASCII white space.
var asciiSpace = [256]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}
