package study

import (
	"fmt"
	"math"
	"testing"
)

func vals(xs ...float64) map[string]float64 {
	m := map[string]float64{}
	for i, x := range xs {
		m[fmt.Sprintf("q%02d", i)] = x
	}
	return m
}

// tStat computes the paired t statistic straight from the definition.
func tStat(a, b []float64) float64 {
	n := float64(len(a))
	var mean float64
	for i := range a {
		mean += a[i] - b[i]
	}
	mean /= n
	var ss float64
	for i := range a {
		d := a[i] - b[i] - mean
		ss += d * d
	}
	return mean / (math.Sqrt(ss/(n-1)) / math.Sqrt(n))
}

// Independent two-sided p-value: p = I_{ν/(ν+t²)}(ν/2, 1/2), the regularized
// incomplete beta function by its continued fraction (modified Lentz).
func pIncBeta(t, nu float64) float64 {
	return regIncBeta(nu/2, 0.5, nu/(nu+t*t))
}

func regIncBeta(a, b, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log(1-x))
	if x > (a+1)/(a+b+2) {
		return 1 - front*betaCF(b, a, 1-x)/b
	}
	return front * betaCF(a, b, x) / a
}

func betaCF(a, b, x float64) float64 {
	const tiny = 1e-300
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m < 10000; m++ {
		fm := float64(m)
		num := fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm))
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		num = -(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1))
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return h
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.15g, want %.15g (tol %g)", what, got, want, tol)
	}
}

func TestPairedTTestClosedFormDF1(t *testing.T) {
	// n = 2: the t distribution with 1 df is Cauchy: p = 1 − 2·atan(|t|)/π.
	a, b := []float64{0.5, 0.9}, []float64{0.3, 0.4}
	r := PairedTTest(vals(a...), vals(b...))
	tt := tStat(a, b) // d = 0.2, 0.5: mean 0.35, sd 0.3/√2, t = 0.35/0.15
	near(t, "t", tt, 0.35/0.15, 1e-12)
	near(t, "T", r.T, tt, 1e-12)
	want := 1 - 2*math.Atan(math.Abs(tt))/math.Pi
	near(t, "P", r.P, want, 1e-9)
	near(t, "incbeta", pIncBeta(tt, 1), want, 1e-12)
	if !r.Defined || r.N != 2 || r.Wins != 2 || r.Ties != 0 || r.Losses != 0 {
		t.Errorf("got %+v", r)
	}
	near(t, "MeanA", r.MeanA, 0.7, 1e-15)
	near(t, "MeanB", r.MeanB, 0.35, 1e-15)
}

func TestPairedTTestClosedFormDF2(t *testing.T) {
	// n = 3: with 2 df, p = 1 − |t|/√(2+t²).
	for _, c := range []struct{ a, b []float64 }{
		{[]float64{0.1, 0.7, 0.4}, []float64{0.3, 0.2, 0.1}},
		{[]float64{0.2, 0.25, 0.9}, []float64{0.6, 0.3, 0.95}},
		{[]float64{1, 0, 0.5}, []float64{0.999, 0.001, 0.3}},
	} {
		r := PairedTTest(vals(c.a...), vals(c.b...))
		tt := tStat(c.a, c.b)
		near(t, "T", r.T, tt, 1e-12)
		want := 1 - math.Abs(tt)/math.Sqrt(2+tt*tt)
		near(t, "P", r.P, want, 1e-9)
		near(t, "incbeta", pIncBeta(tt, 2), want, 1e-12)
	}
}

func TestPairedTTestHandWorked(t *testing.T) {
	// d = 0.1, 0.1, 0.2, 0.2 (q03 only in a, q99 only in b: ignored).
	// mean 0.15; sd = √(4·0.05²/3) = 0.05·2/√3; t = 0.15/(sd/2) = 3√3; df 3.
	// With 3 df, F(t) = 1/2 + (x/(1+x²) + atan x)/π with x = t/√3 = 3, so
	// p = 1 − (2/π)(0.3 + atan 3) ≈ 0.0138.
	a := map[string]float64{"q0": 0.5, "q1": 0.6, "q2": 0.7, "q3": 0.8, "q4": 0.1}
	b := map[string]float64{"q0": 0.4, "q1": 0.5, "q2": 0.5, "q3": 0.6, "q99": 1}
	delete(a, "q4")
	a["q03"] = 0.5
	r := PairedTTest(a, b)
	if r.N != 4 {
		t.Fatalf("N = %d", r.N)
	}
	near(t, "T", r.T, 3*math.Sqrt(3), 1e-9)
	want := 1 - 2/math.Pi*(0.3+math.Atan(3))
	near(t, "P", r.P, want, 1e-9)
	near(t, "P approx", r.P, 0.01384, 1e-5)
	near(t, "incbeta", pIncBeta(3*math.Sqrt(3), 3), want, 1e-12)
	if !Significant(r, 0.05) || Significant(r, 0.01) {
		t.Errorf("Significant wrong for p=%g", r.P)
	}
	// Reversed: same p, but the mean did not improve.
	rr := PairedTTest(b, a)
	near(t, "reversed P", rr.P, r.P, 1e-15)
	near(t, "reversed T", rr.T, -r.T, 1e-12)
	if Significant(rr, 0.05) || rr.Losses != 4 {
		t.Errorf("reversed: %+v", rr)
	}
}

func TestPairedTTestIncBetaLarger(t *testing.T) {
	// 40 pseudo-random pairs (deterministic LCG); p from the independent
	// incomplete beta implementation.
	seed := uint64(12345)
	rnd := func() float64 {
		seed = seed*6364136223846793005 + 1442695040888963407
		return float64(seed>>11) / (1 << 53)
	}
	for _, n := range []int{5, 12, 40} {
		a, b := make([]float64, n), make([]float64, n)
		for i := range a {
			a[i] = rnd()
			b[i] = a[i] - 0.1 + 0.3*rnd()
		}
		r := PairedTTest(vals(a...), vals(b...))
		tt := tStat(a, b)
		near(t, "T", r.T, tt, 1e-9)
		near(t, fmt.Sprintf("P n=%d", n), r.P, pIncBeta(tt, float64(n-1)), 1e-9)
	}
}

func TestPairedTTestDegenerate(t *testing.T) {
	r := PairedTTest(vals(0.5), vals(0.2))
	if r.Defined || r.P != 1 || r.T != 0 || r.N != 1 || r.Reason != "fewer than 2 common queries" || r.Wins != 1 {
		t.Errorf("n=1: %+v", r)
	}
	r = PairedTTest(map[string]float64{"a": 1}, map[string]float64{"b": 1})
	if r.Defined || r.P != 1 || r.N != 0 || math.IsNaN(r.MeanA) {
		t.Errorf("n=0: %+v", r)
	}
	r = PairedTTest(vals(0.1, 0.2, 0.3), vals(0.1, 0.2, 0.3))
	if !r.Defined || r.P != 1 || r.T != 0 || r.Reason != "identical" || r.Ties != 3 || Significant(r, 0.05) {
		t.Errorf("identical: %+v", r)
	}
	r = PairedTTest(vals(0.5, 0.75, 1), vals(0.25, 0.5, 0.75))
	if !r.Defined || r.P != 0 || !math.IsInf(r.T, 1) || !Significant(r, 0.05) {
		t.Errorf("constant +: %+v", r)
	}
	r = PairedTTest(vals(0.25, 0.5), vals(0.5, 0.75))
	if r.P != 0 || !math.IsInf(r.T, -1) || Significant(r, 0.05) {
		t.Errorf("constant −: %+v", r)
	}
	// NaN values are left out.
	r = PairedTTest(vals(0.5, math.NaN(), 0.7, 0.2), vals(0.4, 0.1, 0.3, 0.2))
	if r.N != 3 || math.IsNaN(r.P) || math.IsNaN(r.T) {
		t.Errorf("NaN: %+v", r)
	}
	// Tie tolerance.
	r = PairedTTest(vals(0.3, 0.5, 0.9), vals(0.1+0.2, 0.4, 1))
	if r.Ties != 1 || r.Wins != 1 || r.Losses != 1 {
		t.Errorf("tolerance: %+v", r)
	}
}

func TestHolmBonferroni(t *testing.T) {
	ps := []float64{0.01, 0.04, 0.03, 0.005}
	holm := Holm(ps)
	for i, w := range []float64{0.03, 0.06, 0.06, 0.02} {
		near(t, fmt.Sprintf("holm[%d]", i), holm[i], w, 1e-15)
	}
	bon := Bonferroni(ps)
	for i, w := range []float64{0.04, 0.16, 0.12, 0.02} {
		near(t, fmt.Sprintf("bonferroni[%d]", i), bon[i], w, 1e-15)
	}
	holm = Holm([]float64{0.5, 0.3, 0.9, math.NaN()})
	for i, w := range []float64{1, 1, 1, 1} {
		near(t, fmt.Sprintf("capped[%d]", i), holm[i], w, 0)
	}
	holm = Holm([]float64{0.02, 0.02, 0.2})
	for i, w := range []float64{0.06, 0.06, 0.2} {
		near(t, fmt.Sprintf("ties[%d]", i), holm[i], w, 1e-15)
	}
	if len(Holm(nil)) != 0 || len(Bonferroni(nil)) != 0 {
		t.Error("empty")
	}
}
