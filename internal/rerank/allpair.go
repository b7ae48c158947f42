package rerank

import (
	"slices"
)

// AllPairComparisons lists the comparisons of llm-rankers' "allpair" method in its order
// (itertools.combinations of the first-stage order): (initial[i], initial[j]) for i < j.
func AllPairComparisons(initial []string) [][2]string {
	var out [][2]string
	for i := range initial {
		for j := i + 1; j < len(initial); j++ {
			out = append(out, [2]string{initial[i], initial[j]})
		}
	}
	return out
}

// AllPair is llm-rankers' PRP "allpair" method: every pair (first, second) of the first-stage order
// (first ranked higher) is compared in both orders; first scores 1 when it wins both prompts, second
// scores 1 when it wins both, and each scores 0.5 otherwise (inconsistent or Unknown answers).
// Documents are sorted by score, descending; the result is the top k (k <= 0 means DefaultK), then the
// others in first-stage order, as llm-rankers returns it. Ties keep first-stage order (llm-rankers
// breaks ties by the order in which documents first scored, an artefact of its dict). Each pair is
// asked once; cmp reports whether first won both prompts or the prompts disagreed.
func AllPair(initial []string, k int, cmp func(first, second string) (firstWinsBoth, inconsistent bool, err error)) ([]string, Stats, error) {
	if err := checkUnique(initial); err != nil {
		return nil, Stats{}, err
	}
	if k <= 0 {
		k = DefaultK
	}
	var st Stats
	score := make(map[string]float64, len(initial))
	memo := map[string][2]bool{}
	for _, p := range AllPairComparisons(initial) {
		a, b := p[0], p[1]
		st.Comparisons++
		key := pairKey(a, b)
		r, ok := memo[key]
		if ok {
			st.MemoHits++
		} else {
			win, inc, err := cmp(a, b)
			if err != nil {
				return nil, st, err
			}
			r = [2]bool{win, inc}
			memo[key] = r
			st.Asked++
		}
		switch win, inc := r[0], r[1]; {
		case inc:
			score[a] += 0.5
			score[b] += 0.5
			st.Inconsistent++
		case win:
			score[a]++
		default:
			score[b]++
		}
	}
	if len(initial) > 1 {
		st.Passes = 1
	}
	sorted := slices.Clone(initial)
	slices.SortStableFunc(sorted, func(x, y string) int {
		switch {
		case score[x] > score[y]:
			return -1
		case score[x] < score[y]:
			return 1
		}
		return 0
	})
	return topKThenInitial(sorted, initial, k), st, nil
}
