package study

import "sort"

// Oracle returns the run as a perfect reranker of depth k would leave it:
// for every query the first k candidates (fewer if the ranking is shorter)
// are reordered by their relevance grade in qrels, highest first; ties keep
// their order in the run (stable sort). Documents below rank k follow in run
// order. Unjudged documents have grade 0. k <= 0 leaves every ranking as it
// is. The input is not modified; the result holds fresh slices.
func Oracle(run map[string][]string, qrels map[string]map[string]int, k int) map[string][]string {
	out := make(map[string][]string, len(run))
	for qid, ranking := range run {
		r := append([]string(nil), ranking...)
		n := k
		if n < 0 {
			n = 0
		}
		if n > len(r) {
			n = len(r)
		}
		grades := qrels[qid]
		top := r[:n]
		sort.SliceStable(top, func(i, j int) bool {
			return grades[top[i]] > grades[top[j]]
		})
		out[qid] = r
	}
	return out
}
