package eval

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
)

// String renders the value as trec_eval prints it.
func (v Value) String() string {
	switch v.Kind {
	case Int:
		return strconv.FormatInt(int64(v.Num), 10)
	case Text:
		if v.Name == "runid" {
			return v.Text
		}
		return "'" + v.Text + "'" // relstring
	}
	return cFloat(v.Num)
}

// cFloat is C's "%6.4f", including glibc's spelling of non-finite values.
func cFloat(x float64) string {
	switch {
	case math.IsNaN(x):
		return fmt.Sprintf("%6s", "nan")
	case math.IsInf(x, 1):
		return fmt.Sprintf("%6s", "inf")
	case math.IsInf(x, -1):
		return fmt.Sprintf("%6s", "-inf")
	}
	return fmt.Sprintf("%6.4f", x)
}

// Format writes res in trec_eval's layout: with perQuery, every query's values
// first (trec_eval -q), then the "all" summary.
func Format(w io.Writer, res *Result, perQuery bool) error {
	bw := bufio.NewWriter(w)
	if perQuery {
		for _, q := range res.Queries {
			for _, v := range q.Values {
				fmt.Fprintf(bw, "%-22s\t%s\t%s\n", v.Name, q.QID, v)
			}
		}
	}
	for _, v := range res.Summary {
		fmt.Fprintf(bw, "%-22s\tall\t%s\n", v.Name, v)
	}
	return bw.Flush()
}
