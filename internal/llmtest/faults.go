package llmtest

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// FaultKind names an injected fault.
type FaultKind string

// HTTP-level faults apply to every endpoint; answer-level faults only to chat
// answers that contain "[i]" identifiers (listwise rankings) — elsewhere they
// are not injected (not counted, not logged). FaultMalformed and FaultThink
// apply to any chat answer.
const (
	FaultNone       FaultKind = ""
	FaultHTTP500    FaultKind = "http_500"       // 500 with an OpenAI-style error body
	FaultRateLimit  FaultKind = "http_429"       // 429 with Retry-After (Fault.RetryAfter, default 1 s)
	FaultStatus     FaultKind = "http_status"    // Fault.Status with Fault.Message (e.g. 400, 401, 503)
	FaultSlow       FaultKind = "slow"           // answer after Fault.Latency (on top of ServerOptions.Latency)
	FaultTimeout    FaultKind = "timeout"        // never answer: hang until the client gives up (or Close)
	FaultTruncated  FaultKind = "truncated_json" // 200 with the first half of the JSON body
	FaultMalformed  FaultKind = "malformed"      // answer text without any identifier
	FaultDuplicate  FaultKind = "duplicate_ids"  // the first id repeated after the second
	FaultMissing    FaultKind = "missing_ids"    // the middle id left out
	FaultOutOfRange FaultKind = "out_of_range"   // [max+1] inserted after the first id
	FaultThink      FaultKind = "think"          // "<think>…</think>" (with stray ids) before the answer
)

// Fault is one injected fault. Only the fields of its kind matter.
type Fault struct {
	Kind FaultKind
	// Status is the HTTP status of FaultStatus.
	Status int
	// Message is the error message of HTTP faults (a default per kind when empty).
	Message string
	// RetryAfter is sent as the Retry-After header (seconds; fractions are
	// written as decimals, which strict clients may ignore) for FaultRateLimit
	// (0: 1 s; negative: no header) and for FaultStatus when > 0.
	RetryAfter time.Duration
	// Latency is the extra delay of FaultSlow.
	Latency time.Duration
}

func (f Fault) isHTTP() bool {
	switch f.Kind {
	case FaultHTTP500, FaultRateLimit, FaultStatus, FaultSlow, FaultTimeout, FaultTruncated:
		return true
	}
	return false
}

// pickFault decides the fault of request n: the schedule's entry when there
// is one (an entry with Kind FaultNone forces a clean answer), else a draw
// from a generator seeded by (Seed, n) — so request n gets the same fault
// whatever the interleaving of concurrent requests.
func (s *Server) pickFault(n int) Fault {
	if f, ok := s.opts.Schedule[n]; ok {
		return f
	}
	if s.opts.FaultRate <= 0 {
		return Fault{}
	}
	rng := rand.New(rand.NewPCG(uint64(s.opts.Seed), uint64(n)))
	if rng.Float64() >= s.opts.FaultRate {
		return Fault{}
	}
	faults := s.opts.Faults
	if len(faults) == 0 {
		faults = []Fault{{Kind: FaultHTTP500}}
	}
	return faults[rng.IntN(len(faults))]
}

var idRe = regexp.MustCompile(`\[(\d+)\]`)

// applyAnswerFault rewrites a chat answer; ok is false when the fault does not
// apply to this answer.
func applyAnswerFault(kind FaultKind, answer string) (string, bool) {
	switch kind {
	case FaultMalformed:
		return "I am sorry, but I cannot determine a ranking for these passages.", true
	case FaultThink:
		return "<think>\nThe query asks about something; passage [1] might matter, or [2]. Let me rank.\n</think>\n\n" + answer, true
	}
	var ids []int
	for _, m := range idRe.FindAllStringSubmatch(answer, -1) {
		if v, err := strconv.Atoi(m[1]); err == nil {
			ids = append(ids, v)
		}
	}
	if len(ids) < 2 {
		return answer, false
	}
	switch kind {
	case FaultDuplicate:
		ids = append(ids[:2:2], append([]int{ids[0]}, ids[2:]...)...)
	case FaultMissing:
		ids = append(ids[:len(ids)/2:len(ids)/2], ids[len(ids)/2+1:]...)
	case FaultOutOfRange:
		mx := 0
		for _, v := range ids {
			mx = max(mx, v)
		}
		ids = append(ids[:1:1], append([]int{mx + 1}, ids[1:]...)...)
	default:
		return answer, false
	}
	return FormatRanking(ids), true
}

// FormatRanking writes ids as "[a] > [b] > …".
func FormatRanking(ids []int) string {
	parts := make([]string, len(ids))
	for i, v := range ids {
		parts[i] = "[" + strconv.Itoa(v) + "]"
	}
	return strings.Join(parts, " > ")
}

func defaultMessage(f Fault) string {
	if f.Message != "" {
		return f.Message
	}
	switch f.Kind {
	case FaultHTTP500:
		return "llmtest: injected internal server error"
	case FaultRateLimit:
		return "llmtest: injected rate limit, please retry later"
	default:
		return fmt.Sprintf("llmtest: injected HTTP %d", f.Status)
	}
}

func retryAfterHeader(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}
