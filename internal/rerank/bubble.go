package rerank

import (
	"encoding/json"
	"fmt"
	"slices"
)

// DefaultK is the number of PRP bubble-sort passes (and of sorted top positions) of llm-rankers and the
// study.
const DefaultK = 10

// Stats counts the work of a pairwise sort.
type Stats struct {
	// Comparisons is the number of comparisons in the algorithm's order, repeats included: what an
	// un-memoized run asks (llm-rankers' total_compare).
	Comparisons int `json:"comparisons"`
	// Asked is the number of comparisons actually asked: distinct document pairs.
	Asked int `json:"asked"`
	// MemoHits is the number of comparisons answered from the memo.
	MemoHits int `json:"memo_hits"`
	// Swaps counts documents moved up; Inconsistent counts comparisons whose two prompts disagreed
	// (or were Unknown), which keep the order.
	Swaps        int `json:"swaps"`
	Inconsistent int `json:"inconsistent"`
	// Passes is the number of passes that made at least one comparison.
	Passes int `json:"passes"`
	// EarlyStop: a pass without a swap ended the sort before k passes.
	EarlyStop bool `json:"early_stop,omitempty"`
}

// Prompts is the number of prompts sent (two per asked comparison).
func (s Stats) Prompts() int { return 2 * s.Asked }

// PromptsUnmemoized is the number of prompts an un-memoized run sends (two per comparison).
func (s Stats) PromptsUnmemoized() int { return 2 * s.Comparisons }

// BubbleState is llm-rankers' PRP bubble sort (method "bubblesort") as a resumable state machine. Pass
// i (i = 0 … k-1) walks from the bottom of the list up to position i, comparing the document at
// position c (lower) with the one at c-1 (upper); the lower one moves up only when it wins both
// prompts. Like llm-rankers, a pass starts just below the first swap of the previous pass (pairs
// further down are known not to swap: "skip unchanged pairs at the bottom"), so a pass without any
// swap ends the sort. Final() is the top k, then the other documents in first-stage order.
//
// Answers live in a memo of prompt verdicts keyed "docA\x00docB" (docA shown as Passage A), so a pair
// is never asked twice, in either orientation. The state is JSON-serialisable (a heartbeat
// checkpoint) and is always parked either at an unanswered comparison, at the end of a pass, or done.
// Document ids must be unique. Not safe for concurrent use.
type BubbleState struct {
	initial    []string
	order      []string
	k          int
	pass       int
	cur        int // position of the lower document of the pending comparison
	lastEnd    int // llm-rankers' last_end
	changed    bool
	atBoundary bool // the pass `pass` has ended; the next one has not started
	done       bool
	memo       map[string]Verdict
	fresh      string // unordered key of a pair Record just answered (not a memo hit)
	stats      Stats
	passHasCmp bool

	observe func(lower, upper string, fromMemo bool)
}

// NewBubble starts a bubble sort of initial (the first-stage order, best first) with k passes (k <= 0
// means DefaultK; k is capped at len(initial)).
func NewBubble(initial []string, k int) *BubbleState {
	if k <= 0 {
		k = DefaultK
	}
	n := len(initial)
	s := &BubbleState{
		initial: slices.Clone(initial),
		order:   slices.Clone(initial),
		k:       min(k, n),
		lastEnd: n - 1,
		cur:     n - 1,
		memo:    map[string]Verdict{},
	}
	if n < 2 || s.k == 0 {
		s.done = true
	}
	return s
}

func promptKey(a, b string) string { return a + "\x00" + b }

func pairKey(x, y string) string {
	if x > y {
		x, y = y, x
	}
	return x + "\x00" + y
}

// Observe registers a callback called for every comparison the sort applies, in order (fromMemo tells
// whether it was answered from the memo). Not serialised.
func (s *BubbleState) Observe(f func(lower, upper string, fromMemo bool)) { s.observe = f }

// K is the effective number of passes.
func (s *BubbleState) K() int { return s.k }

// Pass is the index of the current pass (0-based): the pass of the pending comparison, or the pass
// that just ended when PassDone (also when Done).
func (s *BubbleState) Pass() int { return s.pass }

// PassDone reports whether the state is parked at the end of a pass or the sort is done: an activity
// running one pass per call stops here; the next Next starts the following pass. After the last pass
// that compares anything the sort is Done at once, so no call is wasted on an empty pass.
func (s *BubbleState) PassDone() bool { return s.done || s.atBoundary }

// Done reports whether the sort is finished.
func (s *BubbleState) Done() bool { return s.done }

// Stats returns the counters so far.
func (s *BubbleState) Stats() Stats { return s.stats }

// Order is the current full order (a copy).
func (s *BubbleState) Order() []string { return slices.Clone(s.order) }

// Next returns the next comparison that needs the model: lower (the document that would move up) and
// upper. Comparisons already in the memo are applied on the way, across pass boundaries. done is
// true when the sort is finished. Calling Next again without Record returns the same pair.
func (s *BubbleState) Next() (lower, upper string, done bool) {
	for {
		if s.done {
			return "", "", true
		}
		if s.atBoundary {
			s.startNextPass()
			continue
		}
		lo, up := s.order[s.cur], s.order[s.cur-1]
		if _, _, known := s.outcome(lo, up); known {
			s.apply()
			continue
		}
		return lo, up, false
	}
}

// Record stores the model's answers for the comparison (lower, upper): lowerWinsAsA is whether lower
// was chosen when shown as Passage A (upper as B), lowerWinsAsB whether lower was chosen when shown as
// Passage B. A false means the other passage was chosen; use RecordVerdicts to keep Unknown answers
// distinct. If it is the pending comparison, the sort advances up to the next unanswered comparison
// or the end of the pass.
func (s *BubbleState) Record(lower, upper string, lowerWinsAsA, lowerWinsAsB bool) {
	asA, asB := B, A
	if lowerWinsAsA {
		asA = A
	}
	if lowerWinsAsB {
		asB = B
	}
	s.RecordVerdicts(lower, upper, asA, asB)
}

// RecordVerdicts stores the verdicts of the two prompts of a comparison: asA for the prompt with lower
// as Passage A and upper as Passage B, asB for the prompt with upper as Passage A and lower as Passage
// B. An answer already in the memo is kept (the first answer wins).
func (s *BubbleState) RecordVerdicts(lower, upper string, asA, asB Verdict) {
	k1, k2 := promptKey(lower, upper), promptKey(upper, lower)
	_, ok1 := s.memo[k1]
	_, ok2 := s.memo[k2]
	if !ok1 {
		s.memo[k1] = asA
	}
	if !ok2 {
		s.memo[k2] = asB
	}
	if !ok1 || !ok2 {
		s.stats.Asked++
		s.fresh = pairKey(lower, upper)
	}
	// advance within the pass
	for !s.done && !s.atBoundary {
		if _, _, known := s.outcome(s.order[s.cur], s.order[s.cur-1]); !known {
			break
		}
		s.apply()
	}
	s.fresh = ""
}

// outcome looks the comparison (lower, upper) up in the memo.
func (s *BubbleState) outcome(lower, upper string) (lowerWins, inconsistent, known bool) {
	asA, ok1 := s.memo[promptKey(lower, upper)]
	asB, ok2 := s.memo[promptKey(upper, lower)]
	if !ok1 || !ok2 {
		return false, false, false
	}
	lw, _, inc := Decide(asA, asB)
	return lw, inc, true
}

// apply performs the pending comparison, whose outcome is in the memo (llm-rankers' loop body).
func (s *BubbleState) apply() {
	lo, up := s.order[s.cur], s.order[s.cur-1]
	lowerWins, inconsistent, _ := s.outcome(lo, up)
	fromMemo := s.fresh != pairKey(lo, up)
	if !fromMemo {
		s.fresh = ""
	}
	s.stats.Comparisons++
	if fromMemo {
		s.stats.MemoHits++
	}
	if inconsistent {
		s.stats.Inconsistent++
	}
	if !s.passHasCmp {
		s.passHasCmp = true
		s.stats.Passes++
	}
	if s.observe != nil {
		s.observe(lo, up, fromMemo)
	}
	if lowerWins {
		s.order[s.cur-1], s.order[s.cur] = s.order[s.cur], s.order[s.cur-1]
		s.stats.Swaps++
		if !s.changed {
			s.changed = true
			if s.lastEnd != len(s.order)-1 {
				s.lastEnd++
			}
		}
	}
	if !s.changed {
		s.lastEnd--
	}
	s.cur--
	if s.cur <= s.pass {
		s.endPass()
	}
}

// endPass parks the state at the end of pass s.pass, or finishes the sort when no later pass would
// compare anything: k passes done, or the next pass would start at or above its top position (after a
// pass without swaps last_end has fallen to the pass's top; llm-rankers then runs empty passes).
func (s *BubbleState) endPass() {
	s.atBoundary = true
	next := s.pass + 1
	if next >= s.k || s.lastEnd <= next {
		s.done = true
		s.atBoundary = false
		if next < s.k && !s.changed {
			s.stats.EarlyStop = true
		}
	}
}

func (s *BubbleState) startNextPass() {
	s.atBoundary = false
	s.pass++
	s.passHasCmp = false
	s.changed = false
	s.cur = s.lastEnd
	if s.pass >= s.k || s.cur <= s.pass { // endPass finishes these cases already
		s.done = true
	}
}

// Final is the result: the first k documents of the current order, then the others in first-stage
// order (llm-rankers' output). Valid at any time.
func (s *BubbleState) Final() []string {
	return topKThenInitial(s.order, s.initial, s.k)
}

func topKThenInitial(order, initial []string, k int) []string {
	k = min(k, len(order))
	out := slices.Clone(order[:k])
	top := make(map[string]bool, k)
	for _, d := range out {
		top[d] = true
	}
	for _, d := range initial {
		if !top[d] {
			out = append(out, d)
		}
	}
	return out
}

type bubbleJSON struct {
	Initial    []string           `json:"initial"`
	Order      []string           `json:"order"`
	K          int                `json:"k"`
	Pass       int                `json:"pass"`
	Position   int                `json:"position"`
	LastEnd    int                `json:"last_end"`
	Changed    bool               `json:"changed,omitempty"`
	AtBoundary bool               `json:"at_boundary,omitempty"`
	Done       bool               `json:"done,omitempty"`
	PassHasCmp bool               `json:"pass_has_comparison,omitempty"`
	Memo       map[string]Verdict `json:"memo"`
	Stats      Stats              `json:"stats"`
}

// MarshalJSON encodes the whole state (a checkpoint).
func (s *BubbleState) MarshalJSON() ([]byte, error) {
	return json.Marshal(bubbleJSON{
		Initial: s.initial, Order: s.order, K: s.k, Pass: s.pass, Position: s.cur, LastEnd: s.lastEnd,
		Changed: s.changed, AtBoundary: s.atBoundary, Done: s.done, PassHasCmp: s.passHasCmp,
		Memo: s.memo, Stats: s.stats,
	})
}

// UnmarshalJSON restores a checkpoint written by MarshalJSON.
func (s *BubbleState) UnmarshalJSON(b []byte) error {
	var j bubbleJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	n := len(j.Order)
	if len(j.Initial) != n || j.K < 0 || j.K > n || j.LastEnd >= n || (!j.Done && !j.AtBoundary && (j.Position <= j.Pass || j.Position >= n)) {
		return fmt.Errorf("rerank: inconsistent bubble-sort checkpoint")
	}
	if j.Memo == nil {
		j.Memo = map[string]Verdict{}
	}
	*s = BubbleState{
		initial: j.Initial, order: j.Order, k: j.K, pass: j.Pass, cur: j.Position, lastEnd: j.LastEnd,
		changed: j.Changed, atBoundary: j.AtBoundary, done: j.Done, passHasCmp: j.PassHasCmp,
		memo: j.Memo, stats: j.Stats, observe: s.observe,
	}
	return nil
}

// BubbleSort runs the PRP bubble sort to the end with cmp, which asks the model both prompts of the
// comparison (lower as Passage A then as Passage B) and reports whether lower won both or the answers
// were inconsistent. Each pair is asked at most once. The result is NewBubble(initial, k).Final().
func BubbleSort(initial []string, k int, cmp func(lower, upper string) (lowerWinsBoth, inconsistent bool, err error)) ([]string, Stats, error) {
	if err := checkUnique(initial); err != nil {
		return nil, Stats{}, err
	}
	s := NewBubble(initial, k)
	for {
		lo, up, done := s.Next()
		if done {
			break
		}
		win, inc, err := cmp(lo, up)
		if err != nil {
			return nil, s.Stats(), err
		}
		asA, asB := decisionVerdicts(win, inc)
		s.RecordVerdicts(lo, up, asA, asB)
	}
	return s.Final(), s.Stats(), nil
}

// decisionVerdicts encodes a decided comparison as prompt verdicts that decide the same way in either
// orientation: inconsistent is recorded as "Passage A" both times.
func decisionVerdicts(lowerWinsBoth, inconsistent bool) (asA, asB Verdict) {
	switch {
	case inconsistent:
		return A, A
	case lowerWinsBoth:
		return A, B
	default:
		return B, A
	}
}

func checkUnique(ids []string) error {
	seen := make(map[string]bool, len(ids))
	for _, d := range ids {
		if seen[d] {
			return fmt.Errorf("rerank: duplicate document id %q", d)
		}
		seen[d] = true
	}
	return nil
}
