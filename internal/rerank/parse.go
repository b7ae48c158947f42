package rerank

import (
	"strings"
	"unicode"
)

// Repairs records what ParsePermutation had to repair in a listwise answer.
type Repairs struct {
	// ThinkDropped: the answer had "</think>"; everything up to the last one was dropped.
	ThinkDropped bool `json:"think_dropped,omitempty"`
	// NonASCIIDigits counts digits mapped to ASCII (superscript, subscript, circled, full-width …).
	NonASCIIDigits int `json:"non_ascii_digits,omitempty"`
	// Duplicates counts repeated identifiers (the first occurrence is kept).
	Duplicates int `json:"duplicates,omitempty"`
	// OutOfRange counts distinct identifiers outside 1..n (dropped).
	OutOfRange int `json:"out_of_range,omitempty"`
	// Missing counts identifiers absent from the answer (appended in their current order).
	Missing int `json:"missing,omitempty"`
	// Empty: the answer contained no identifier at all (the window keeps its order).
	Empty bool `json:"empty,omitempty"`
	// Unparsable: a "digit" Python's int() rejects (e.g. ⑴, ➀) made rank_llm fall back to the current
	// order for the whole window; ParsePermutation does the same.
	Unparsable bool `json:"unparsable,omitempty"`
}

// Total is the number of repairs (each flag counts one).
func (r Repairs) Total() int {
	return b2i(r.ThinkDropped) + r.NonASCIIDigits + r.Duplicates + r.OutOfRange + r.Missing + b2i(r.Empty) + b2i(r.Unparsable)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fakeDigits is rank_llm's fake_numbers_map (clean_ranking_response): superscript and subscript 0-9,
// circled ①-⑨ and negative circled ❶-❾ (1-9), full-width 0-9 and digit-comma 🄀-🄉 (0-9). ⑩ and
// other composite numbers are not digits and become spaces.
var fakeDigits = func() map[rune]byte {
	m := map[rune]byte{}
	add := func(from string, to string) {
		r := []rune(from)
		for i := range r {
			m[r[i]] = to[i]
		}
	}
	add("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
	add("₀₁₂₃₄₅₆₇₈₉", "0123456789")
	add("①②③④⑤⑥⑦⑧⑨", "123456789")
	add("❶❷❸❹❺❻❼❽❾", "123456789")
	add("０１２３４５６７８９", "0123456789")
	add("🄀🄁🄂🄃🄄🄅🄆🄇🄈🄉", "0123456789")
	return m
}()

// pyNonDecimalDigits are the characters (not in fakeDigits) for which Python's str.isdigit is true but
// str.isdecimal is false (Unicode 14, Python 3.11): rank_llm keeps them as digits and int() then fails.
var pyNonDecimalDigits = &unicode.RangeTable{
	R16: []unicode.Range16{
		{0x1369, 0x1371, 1}, {0x19DA, 0x19DA, 1}, {0x2474, 0x247C, 1}, {0x2488, 0x2490, 1},
		{0x24EA, 0x24EA, 1}, {0x24F5, 0x24FD, 1}, {0x24FF, 0x24FF, 1}, {0x2780, 0x2788, 1},
		{0x278A, 0x2792, 1},
	},
	R32: []unicode.Range32{
		{0x10A40, 0x10A43, 1}, {0x10E60, 0x10E68, 1}, {0x11052, 0x1105A, 1}, {0x1F10A, 0x1F10A, 1},
	},
}

// ParsePermutation turns a listwise answer for a window of n passages into a 0-based permutation of n,
// as rank_llm's receive_permutation does (clean_ranking_response, _remove_duplicate, repair):
//
//  1. if "</think>" occurs, keep only what follows the last one (trimmed);
//  2. map superscript/subscript/circled/full-width digits to ASCII; other decimal digits (Arabic-Indic
//     …) keep their value, as Python's int() reads them;
//  3. every other character becomes a space; each run of digits is an identifier; identifier − 1;
//  4. remove duplicates (first kept), drop out-of-range ids, append the missing ones in current order.
//
// An answer without identifiers gives the identity (Empty, every id Missing). Deterministic; never fails.
func ParsePermutation(answer string, n int) ([]int, Repairs) {
	var rep Repairs
	if n < 0 {
		n = 0
	}
	if i := strings.LastIndex(answer, "</think>"); i >= 0 {
		answer = strings.TrimSpace(answer[i+len("</think>"):])
		rep.ThinkDropped = true
	}
	var ids []int
	const big = 1 << 30 // anything at least this large is out of range anyway
	cur, inNum := 0, false
	flush := func() {
		if inNum {
			ids = append(ids, cur)
		}
		cur, inNum = 0, false
	}
	for _, r := range answer {
		d, ok := -1, false
		if r >= '0' && r <= '9' {
			d, ok = int(r-'0'), true
		} else if b, fake := fakeDigits[r]; fake {
			d, ok = int(b-'0'), true
			rep.NonASCIIDigits++
		} else if unicode.IsDigit(r) {
			d, ok = decimalValue(r), true
			rep.NonASCIIDigits++
		} else if unicode.Is(pyNonDecimalDigits, r) {
			rep.Unparsable = true
		}
		if !ok {
			flush()
			continue
		}
		inNum = true
		if cur < big {
			cur = cur*10 + d
		}
	}
	flush()

	if rep.Unparsable {
		rep.Missing = n
		return identity(n), rep
	}
	if len(ids) == 0 {
		rep.Empty = true
		rep.Missing = n
		return identity(n), rep
	}
	seen := map[int]bool{}
	perm := make([]int, 0, n)
	used := make([]bool, n)
	for _, id := range ids {
		x := id - 1
		if seen[x] {
			rep.Duplicates++
			continue
		}
		seen[x] = true
		if x < 0 || x >= n {
			rep.OutOfRange++
			continue
		}
		perm = append(perm, x)
		used[x] = true
	}
	for x := 0; x < n; x++ {
		if !used[x] {
			perm = append(perm, x)
			rep.Missing++
		}
	}
	return perm, rep
}

// decimalValue is the value of a Unicode decimal digit (category Nd). Nd characters come in runs of
// ten starting at zero (the mathematical digits are five such runs back to back).
func decimalValue(r rune) int {
	start := r
	for start > 0 && unicode.IsDigit(start-1) && r-start < 100 {
		start--
	}
	return int(r-start) % 10
}

func identity(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}
