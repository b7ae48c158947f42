package study

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestWriteHTML(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, sampleTable()); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{
		"<caption>nDCG@10 on CLEF_2003 &amp; friends</caption>",
		`<thead><tr><th>nDCG@10</th><th class="num">EN-FI</th><th class="num">EN-IT</th><th class="num">EN-RU</th><th class="num">Average</th></tr></thead>`,
		`<tr class="first-stage"><th scope="row">BM25</th><td class="num">0.400</td><td class="num">0.500</td><td class="num">0.300</td><td class="num">0.400</td></tr>`,
		`<tr class="indent-1"><th scope="row">gpt-4o | listwise</th><td class="num">0.512<span class="mark">*</span></td><td class="num missing">–</td>`,
		`<td class="num">0.400<span class="mark">†</span></td>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s\nin\n%s", want, s)
		}
	}
	if n := strings.Count(s, "<tr"); n != 1+len(sampleTable().Rows) {
		t.Errorf("%d rows", n)
	}
	b.Reset()
	if err := WriteHTML(&b, Table{Title: "<script>", Metric: "m"}); err != nil || strings.Contains(b.String(), "<script>") {
		t.Errorf("not escaped: %v %s", err, b.String())
	}
	if err := WriteHTML(failWriter{}, sampleTable()); err == nil {
		t.Error("write error not reported")
	}
}

func TestAdjust(t *testing.T) {
	ps := []float64{0.01, 0.04, 0.03, math.NaN()}
	near := func(a, b []float64) bool {
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-12 {
				return false
			}
		}
		return len(a) == len(b)
	}
	if got := Adjust(ps, CorrectionBonferroni); !near(got, []float64{0.04, 0.16, 0.12, 1}) {
		t.Errorf("bonferroni %v", got)
	}
	if got := Adjust(ps, CorrectionHolm); !near(got, []float64{0.04, 0.09, 0.09, 1}) {
		t.Errorf("holm %v", got)
	}
	for _, c := range []string{"", CorrectionNone} {
		got := Adjust(ps, c)
		got[0] = 9
		if ps[0] != 0.01 {
			t.Errorf("%q: input shared", c)
		}
	}
}
