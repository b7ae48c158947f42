package rerank

import (
	"fmt"
	"slices"
)

// Listwise defaults (rank_llm and the study).
const (
	DefaultWindow = 20
	DefaultStride = 10
)

// Window is the half-open rank range [Start, End) of the current order that one listwise call reranks.
type Window struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Size is End - Start.
func (w Window) Size() int { return w.End - w.Start }

func (w Window) String() string { return fmt.Sprintf("[%d,%d)", w.Start, w.End) }

// SlidingWindows lists the windows of one pass of rank_llm's sliding window, in the order they run
// (bottom up; each window sees the order left by the previous one):
//
//	end = min(rankEnd, numCandidates); start = max(end - window, rankStart)
//	while end > start: emit [start, end); stop if start == rankStart; end -= stride; start = max(start - stride, rankStart)
//
// Top-100, window 20, stride 10 → [80,100), [70,90) … [0,20) (9 windows); 25 candidates → [5,25),
// [0,15); the last window may be smaller than window. This is rank_llm's current formulation
// (_count_windows, _sliding_windows_batched_async). Its older loop ("while end > rank_start and
// start + stride != rank_start: start = max(start, rank_start) …") gives the same windows except when
// min(rankEnd, numCandidates) - window + stride == rankStart, where it emits none at all (e.g. 10
// candidates, window 20, stride 10).
//
// rankEnd <= 0 means numCandidates; a negative rankStart counts as 0 (rank_llm clamps it too). nil
// when window or stride is not positive, stride > window (rank_llm rejects both), or there is nothing
// to rank.
func SlidingWindows(numCandidates, rankStart, rankEnd, window, stride int) []Window {
	if window <= 0 || stride <= 0 || stride > window {
		return nil
	}
	rankStart = max(rankStart, 0)
	end := numCandidates
	if rankEnd > 0 {
		end = min(rankEnd, numCandidates)
	}
	var out []Window
	start := max(end-window, rankStart)
	for end > start {
		out = append(out, Window{start, end})
		if start == rankStart {
			break
		}
		end -= stride
		start = max(start-stride, rankStart)
	}
	return out
}

// SlidingWindowPasses repeats the windows of SlidingWindows passes times (rank_llm's num_passes);
// passes < 1 counts as 1.
func SlidingWindowPasses(numCandidates, rankStart, rankEnd, window, stride, passes int) []Window {
	one := SlidingWindows(numCandidates, rankStart, rankEnd, window, stride)
	out := slices.Clone(one)
	for p := 1; p < passes; p++ {
		out = append(out, one...)
	}
	return out
}

// ApplyWindow returns a new order where order[w.Start:w.End] is rearranged by perm (the 0-based
// permutation ParsePermutation returns: position j of the window gets its former perm[j]-th item);
// everything outside the window is unchanged. It panics when w is outside order or perm is not a
// permutation of w.Size().
func ApplyWindow(order []string, w Window, perm []int) []string {
	if w.Start < 0 || w.End > len(order) || w.Start > w.End {
		panic(fmt.Sprintf("rerank: window %v outside an order of %d", w, len(order)))
	}
	if !IsPermutation(perm, w.Size()) {
		panic(fmt.Sprintf("rerank: %v is not a permutation of %d", perm, w.Size()))
	}
	out := slices.Clone(order)
	for j, x := range perm {
		out[w.Start+j] = order[w.Start+x]
	}
	return out
}

// IsPermutation reports whether perm is a permutation of 0..n-1.
func IsPermutation(perm []int, n int) bool {
	if len(perm) != n {
		return false
	}
	seen := make([]bool, n)
	for _, x := range perm {
		if x < 0 || x >= n || seen[x] {
			return false
		}
		seen[x] = true
	}
	return true
}
