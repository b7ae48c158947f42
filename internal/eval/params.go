package eval

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// trec_eval reads parameters with atol/atof: the longest numeric prefix
// counts, the rest is ignored ("23.4" is cutoff 23), no number at all is 0.
var (
	atolRe = regexp.MustCompile(`^[ \t\n\v\f\r]*[+-]?[0-9]+`)
	atofRe = regexp.MustCompile(`^[ \t\n\v\f\r]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?`)
)

func atol(s string) int64 {
	v, err := strconv.ParseInt(strings.TrimLeft(atolRe.FindString(s), " \t\n\v\f\r"), 10, 64)
	if err != nil {
		return 0
	}
	return v
}

func atof(s string) float64 {
	m := strings.TrimLeft(atofRe.FindString(s), " \t\n\v\f\r")
	if m == "" {
		return 0
	}
	v, _ := strconv.ParseFloat(m, 64) // out of range gives ±Inf, like strtod
	return v
}

// longCutoffs parses "5,10,15": sorted ascending, positive, no duplicates.
func longCutoffs(p string) ([]int64, error) {
	parts := strings.Split(p, ",")
	cuts := make([]int64, len(parts))
	for i, s := range parts {
		cuts[i] = atol(s)
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i] < cuts[j] })
	if cuts[0] <= 0 {
		return nil, fmt.Errorf("cutoffs must be positive")
	}
	for i := 1; i < len(cuts); i++ {
		if cuts[i] == cuts[i-1] {
			return nil, fmt.Errorf("duplicate cutoffs")
		}
	}
	return cuts, nil
}

// floatCutoffs parses ".1,.2": sorted ascending, no duplicates.
func floatCutoffs(p string) ([]float64, error) {
	cuts := floatParams(p)
	sort.Float64s(cuts)
	for i := 1; i < len(cuts); i++ {
		if cuts[i] == cuts[i-1] {
			return nil, fmt.Errorf("duplicate cutoffs")
		}
	}
	return cuts, nil
}

// floatParams parses "1,-1,0,0" keeping order.
func floatParams(p string) []float64 {
	parts := strings.Split(p, ",")
	v := make([]float64, len(parts))
	for i, s := range parts {
		v[i] = atof(s)
	}
	return v
}

type gainPair struct {
	level int64
	gain  float64
}

// gainPairs parses "1=3,2=9" (relevance level=gain).
func gainPairs(p string) ([]gainPair, error) {
	var out []gainPair
	for _, part := range strings.Split(p, ",") {
		name, val, ok := strings.Cut(part, "=")
		if !ok || strings.Contains(val, "=") {
			return nil, fmt.Errorf("malformed pair parameters in %q (want level=gain,...)", p)
		}
		level, err := strconv.ParseInt(name, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("relevance level %q in %q is not an integer", name, p)
		}
		out = append(out, gainPair{level, atof(val)})
	}
	return out, nil
}
