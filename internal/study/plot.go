package study

import (
	"fmt"
	"io"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// Plot size of every figure.
const (
	PlotWidth  = 16 * vg.Centimeter
	PlotHeight = 10 * vg.Centimeter
	// legendFont is smaller than the title so that the legend of a first
	// stage with several rerankers does not crowd the bars; a legend line
	// is about legendLine high.
	legendFont = 9 * vg.Length(1)
	legendLine = 0.4 * vg.Centimeter
)

// PlotDeltas draws the per-query differences (e.g. reranked − first stage)
// as bars sorted from the largest gain to the largest loss (ties by query
// id). Non-finite deltas are left out.
func PlotDeltas(w io.Writer, title string, deltas map[string]float64) error {
	type qd struct {
		q string
		d float64
	}
	var xs []qd
	for q, d := range deltas {
		if finite(d) {
			xs = append(xs, qd{q, d})
		}
	}
	sort.Slice(xs, func(i, j int) bool {
		if xs[i].d != xs[j].d {
			return xs[i].d > xs[j].d
		}
		return xs[i].q < xs[j].q
	})
	p := newPlot(title, fmt.Sprintf("queries, sorted by Δ (n = %d)", len(xs)), "Δ")
	if len(xs) > 0 {
		// Gains and losses as two bar charts (zeros elsewhere) so that they
		// get their own colours.
		gains := make(plotter.Values, len(xs))
		losses := make(plotter.Values, len(xs))
		for i, x := range xs {
			if x.d >= 0 {
				gains[i] = x.d
			} else {
				losses[i] = x.d
			}
		}
		width := 0.8 * (PlotWidth - 2.5*vg.Centimeter) / vg.Length(len(xs))
		for i, vs := range []plotter.Values{gains, losses} {
			bars, err := plotter.NewBarChart(vs, width)
			if err != nil {
				return err
			}
			bars.Color = plotutil.Color(1 - i) // green gains, red losses
			bars.LineStyle.Width = 0
			p.Add(bars)
		}
		p.X.Min, p.X.Max = -0.5, float64(len(xs))-0.5
	}
	p.X.Tick.Marker = plot.ConstantTicks(nil)
	return writeSVG(w, p)
}

// PlotBars draws grouped bars: one group per language pair in groups, one
// bar per series (e.g. first stage, reranked, oracle) in the order of
// order; series not named in order follow sorted by name. Every series must
// have one value per group; NaN or infinite values (missing) are drawn as 0.
func PlotBars(w io.Writer, title string, groups []string, series map[string][]float64, order []string) error {
	names := seriesOrder(series, order)
	p := newPlot(title, "", "")
	n := len(names)
	if n == 0 || len(groups) == 0 {
		return writeSVG(w, p)
	}
	width := (PlotWidth - 3*vg.Centimeter) / vg.Length(len(groups)*(n+1))
	for i, name := range names {
		vs := series[name]
		if len(vs) != len(groups) {
			return fmt.Errorf("study: series %q has %d values for %d groups", name, len(vs), len(groups))
		}
		bars, err := plotter.NewBarChart(cleanValues(vs), width)
		if err != nil {
			return err
		}
		bars.Color = plotutil.Color(i)
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(float64(i)-float64(n-1)/2) * width
		p.Add(bars)
		p.Legend.Add(name, bars)
	}
	p.Legend.Top = true
	p.NominalX(groups...)
	verticalIfCrowded(p, groups)
	padTop(p, series, n)
	return writeSVG(w, p)
}

// PlotLines draws one line with points per series against xs (e.g. the
// metric against the document length 64/128/256), series ordered as in
// PlotBars. Every series must have len(xs) values; non-finite values are
// left out of their line.
func PlotLines(w io.Writer, title string, xs []float64, series map[string][]float64, order []string) error {
	names := seriesOrder(series, order)
	p := newPlot(title, "document length (tokens)", "")
	for i, name := range names {
		vs := series[name]
		if len(vs) != len(xs) {
			return fmt.Errorf("study: series %q has %d values for %d x values", name, len(vs), len(xs))
		}
		var pts plotter.XYs
		for j, y := range vs {
			if finite(y) && finite(xs[j]) {
				pts = append(pts, plotter.XY{X: xs[j], Y: y})
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i)
		s.Color = plotutil.Color(i)
		s.Shape = plotutil.Shape(i)
		p.Add(l, s)
		p.Legend.Add(name, l, s)
	}
	if len(xs) > 0 {
		ticks := make([]plot.Tick, 0, len(xs))
		for _, x := range xs {
			if finite(x) {
				ticks = append(ticks, plot.Tick{Value: x, Label: FormatTick(x)})
			}
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
	}
	p.Legend.Top = true
	padTop(p, series, len(names))
	return writeSVG(w, p)
}

// PlotShares draws the realised share of the headroom of each run
// (Headroom.Realised, see ComputeHeadroom) as one horizontal bar per run,
// the first run at the top; non-finite shares are drawn as 0. Run names are
// long, so they go on the vertical axis, and the figure grows with the
// number of runs.
func PlotShares(w io.Writer, title string, runs []string, shares []float64) error {
	if len(runs) != len(shares) {
		return fmt.Errorf("study: %d runs for %d shares", len(runs), len(shares))
	}
	p := newPlot(title, "share of the potential realised", "")
	height := PlotHeight
	if len(runs) > 0 {
		n := len(runs)
		height = max(PlotHeight, vg.Length(n)*0.5*vg.Centimeter+3*vg.Centimeter)
		// NominalY counts from the bottom: reverse so the first run is on top.
		names := make([]string, n)
		vs := make([]float64, n)
		for i := range runs {
			names[n-1-i], vs[n-1-i] = runs[i], shares[i]
		}
		bars, err := plotter.NewBarChart(cleanValues(vs), 0.6*(height-3*vg.Centimeter)/vg.Length(n))
		if err != nil {
			return err
		}
		bars.Horizontal = true
		bars.Color = plotutil.Color(1)
		bars.LineStyle.Width = 0
		p.Add(bars)
		p.NominalY(names...)
	}
	// The whole potential (0 to 1) stays in view.
	p.X.Min, p.X.Max = math.Min(p.X.Min, 0), math.Max(p.X.Max, 1)
	return writeSVGSize(w, p, PlotWidth, height)
}

// FormatTick formats an axis value without trailing zeros.
func FormatTick(x float64) string {
	return fmt.Sprint(x)
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid()) // first, so that the data is drawn over it
	p.Legend.TextStyle.Font.Size = legendFont
	return p
}

func writeSVG(w io.Writer, p *plot.Plot) error {
	return writeSVGSize(w, p, PlotWidth, PlotHeight)
}

func writeSVGSize(w io.Writer, p *plot.Plot, width, height vg.Length) error {
	wt, err := p.WriterTo(width, height, "svg")
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}

func seriesOrder(series map[string][]float64, order []string) []string {
	var names []string
	seen := map[string]bool{}
	for _, n := range order {
		if _, ok := series[n]; ok && !seen[n] {
			names = append(names, n)
			seen[n] = true
		}
	}
	var rest []string
	for n := range series {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(names, rest...)
}

// padTop leaves room above the highest value for a legend of n entries.
func padTop(p *plot.Plot, series map[string][]float64, n int) {
	top := math.Inf(-1)
	for _, vs := range series {
		for _, v := range vs {
			if finite(v) && v > top {
				top = v
			}
		}
	}
	if top > 0 && finite(top) {
		// The legend's share of the data area's height (the area is the
		// figure less title and axes, about 3.5 cm), plus a margin.
		frac := float64(vg.Length(n)*legendLine) / float64(PlotHeight-3.5*vg.Centimeter)
		p.Y.Max = math.Max(p.Y.Max, top/(0.95-math.Min(frac, 0.6)))
	}
}

// verticalIfCrowded turns the x tick labels vertical when side by side
// they would overlap (many language pairs); vertical labels take their
// height only, so nothing is cut at the figure's edges.
func verticalIfCrowded(p *plot.Plot, labels []string) {
	var w vg.Length
	for _, l := range labels {
		w = max(w, p.X.Tick.Label.Width(l))
	}
	if w*vg.Length(len(labels)) > PlotWidth-3*vg.Centimeter {
		p.X.Tick.Label.Rotation = math.Pi / 2
		p.X.Tick.Label.XAlign = text.XRight
		p.X.Tick.Label.YAlign = text.YCenter
	}
}

func cleanValues(vs []float64) plotter.Values {
	out := make(plotter.Values, len(vs))
	for i, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[i] = v
		}
	}
	return out
}
