package study

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestOracle(t *testing.T) {
	run := map[string][]string{
		"q1": {"a", "b", "c", "d", "e", "f"},
		"q2": {"x", "y"},
		"q3": {"m", "n"},
	}
	qrels := map[string]map[string]int{
		"q1": {"b": 1, "c": 2, "d": 1, "f": 3, "zz": 2},
		"q2": {"y": 1},
	}
	got := Oracle(run, qrels, 4)
	want := map[string][]string{
		"q1": {"c", "b", "d", "a", "e", "f"}, // f (rel 3) is below k: stays after
		"q2": {"y", "x"},                     // k larger than the ranking
		"q3": {"m", "n"},                     // no judgments: run order
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Oracle = %v, want %v", got, want)
	}
	if run["q1"][0] != "a" {
		t.Error("input modified")
	}
	if got := Oracle(run, qrels, 0); !reflect.DeepEqual(got, run) {
		t.Errorf("k=0: %v", got)
	}
}

func TestHeadroom(t *testing.T) {
	h := ComputeHeadroom(0.4, 0.5, 0.8)
	if !h.Defined || math.Abs(h.Potential-0.4) > 1e-15 || math.Abs(h.Realised-0.25) > 1e-15 {
		t.Errorf("%+v", h)
	}
	h = ComputeHeadroom(0.4, 0.3, 0.8)
	if !h.Defined || math.Abs(h.Realised+0.25) > 1e-15 {
		t.Errorf("negative: %+v", h)
	}
	for _, c := range [][3]float64{{0.5, 0.6, 0.5}, {0.5, 0.6, 0.4}, {math.NaN(), 0.5, 0.9}, {0.1, math.Inf(1), 0.9}} {
		h = ComputeHeadroom(c[0], c[1], c[2])
		if h.Defined || h.Realised != 0 || math.IsNaN(h.Potential) {
			t.Errorf("%v: %+v", c, h)
		}
	}
}

func sampleTable() Table {
	return Table{
		Title:   "nDCG@10 on CLEF_2003 & friends",
		Metric:  "nDCG@10",
		Columns: []string{"EN-FI", "EN-IT", "EN-RU"},
		Rows: []Row{
			{Name: "BM25", Cells: []Cell{{Value: 0.4}, {Value: 0.5}, {Value: 0.3}}},
			{Name: "gpt-4o | listwise", Indent: 1,
				Cells:   []Cell{{Value: 0.5123, Mark: "*"}, {Value: 0.9}, {Value: 0.45}},
				Missing: []bool{false, true}},
			{Name: "mT5_base", Indent: 1, Cells: []Cell{{Value: -0.0001}, {Value: 0.6}, {Value: 0.2}, {Value: 0.4, Mark: "†"}}},
			{Name: "mContriever", Cells: []Cell{{Value: 0.3}}},
			{Name: "empty", Indent: 1, Missing: []bool{true, true, true}},
		},
	}
}

func TestWriteMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, sampleTable()); err != nil {
		t.Fatal(err)
	}
	want := `**nDCG@10 on CLEF_2003 & friends**

| nDCG@10 | EN-FI | EN-IT | EN-RU | Average |
|---|---:|---:|---:|---:|
| BM25 | 0.400 | 0.500 | 0.300 | 0.400 |
| &emsp;gpt-4o \| listwise | 0.512* | – | 0.450 | 0.481 |
| &emsp;mT5_base | 0.000 | 0.600 | 0.200 | 0.400† |
| mContriever | 0.300 | – | – | 0.300 |
| &emsp;empty | – | – | – | – |
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, sampleTable()); err != nil {
		t.Fatal(err)
	}
	want := `nDCG@10,indent,EN-FI,EN-IT,EN-RU,Average
BM25,0,0.400,0.500,0.300,0.400
gpt-4o | listwise,1,0.512*,–,0.450,0.481
mT5_base,1,0.000,0.600,0.200,0.400†
mContriever,0,0.300,–,–,0.300
empty,1,–,–,–,–
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteJSON(t *testing.T) {
	tb := sampleTable()
	tb.Rows = tb.Rows[1:2]
	var b bytes.Buffer
	if err := WriteJSON(&b, tb); err != nil {
		t.Fatal(err)
	}
	want := `{
  "title": "nDCG@10 on CLEF_2003 & friends",
  "metric": "nDCG@10",
  "columns": [
    "EN-FI",
    "EN-IT",
    "EN-RU",
    "Average"
  ],
  "rows": [
    {
      "name": "gpt-4o | listwise",
      "indent": 1,
      "cells": [
        {
          "value": 0.5123,
          "mark": "*",
          "text": "0.512*"
        },
        null,
        {
          "value": 0.45,
          "text": "0.450"
        },
        {
          "value": 0.48114999999999997,
          "text": "0.481"
        }
      ]
    }
  ]
}
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteJSON(&b, Table{}); err != nil || !strings.Contains(b.String(), `"rows": []`) {
		t.Errorf("empty: %v %s", err, b.String())
	}
}

func TestWriteLaTeX(t *testing.T) {
	var b bytes.Buffer
	if err := WriteLaTeX(&b, sampleTable()); err != nil {
		t.Fatal(err)
	}
	want := `\begin{table}[t]
\centering
\caption{nDCG@10 on CLEF\_2003 \& friends}
\begin{tabular}{lrrrr}
\toprule
nDCG@10 & EN-FI & EN-IT & EN-RU & Average \\
\midrule
BM25 & 0.400 & 0.500 & 0.300 & 0.400 \\
\quad gpt-4o | listwise & 0.512* & -- & 0.450 & 0.481 \\
\quad mT5\_base & 0.000 & 0.600 & 0.200 & 0.400† \\
\midrule
mContriever & 0.300 & -- & -- & 0.300 \\
\quad empty & -- & -- & -- & -- \\
\bottomrule
\end{tabular}
\end{table}
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if got := LaTeXEscape(`a\b{c}$d&e#f^g_h~i%j`); got != `a\textbackslash{}b\{c\}\$d\&e\#f\textasciicircum{}g\_h\textasciitilde{}i\%j` {
		t.Errorf("escape: %s", got)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("boom") }

func TestWritersReportErrors(t *testing.T) {
	for name, f := range map[string]func(io.Writer, Table) error{
		"md": WriteMarkdown, "csv": WriteCSV, "json": WriteJSON, "latex": WriteLaTeX,
	} {
		if err := f(failWriter{}, sampleTable()); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func checkSVG(t *testing.T, name, title string, render func(io.Writer) error) {
	t.Helper()
	var b1, b2 bytes.Buffer
	if err := render(&b1); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := render(&b2); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Errorf("%s: two renderings differ", name)
	}
	s := b1.String()
	if !strings.HasPrefix(s, "<?xml") && !strings.HasPrefix(s, "<svg") {
		t.Errorf("%s: starts with %q", name, s[:min(len(s), 20)])
	}
	if !strings.Contains(s, title) {
		t.Errorf("%s: title %q missing", name, title)
	}
	d := xml.NewDecoder(bytes.NewReader(b1.Bytes()))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s: invalid XML: %v", name, err)
		}
	}
}

func TestPlots(t *testing.T) {
	deltas := map[string]float64{"q1": 0.2, "q2": -0.1, "q3": 0, "q4": 0.2, "q5": math.NaN(), "q6": 0.05}
	checkSVG(t, "deltas", "Delta nDCG EN-FI", func(w io.Writer) error {
		return PlotDeltas(w, "Delta nDCG EN-FI", deltas)
	})
	checkSVG(t, "deltas-empty", "nothing", func(w io.Writer) error {
		return PlotDeltas(w, "nothing", nil)
	})
	groups := []string{"EN-FI", "EN-IT", "EN-RU"}
	series := map[string][]float64{
		"oracle":      {0.8, 0.85, 0.7},
		"first stage": {0.4, 0.5, 0.3},
		"reranked":    {0.5, math.NaN(), 0.45},
		"extra":       {0.1, 0.1, 0.1},
	}
	order := []string{"first stage", "reranked", "oracle"}
	checkSVG(t, "bars", "nDCG@10 by pair", func(w io.Writer) error {
		return PlotBars(w, "nDCG@10 by pair", groups, series, order)
	})
	checkSVG(t, "lines", "length", func(w io.Writer) error {
		return PlotLines(w, "length", []float64{64, 128, 256}, series, order)
	})
	checkSVG(t, "shares", "headroom", func(w io.Writer) error {
		return PlotShares(w, "headroom", []string{"gpt-4o", "llama & <co>"}, []float64{0.3, -0.1})
	})
	if err := PlotBars(io.Discard, "x", groups, map[string][]float64{"a": {1}}, nil); err == nil {
		t.Error("length mismatch not reported")
	}
	if err := PlotShares(io.Discard, "x", []string{"a"}, nil); err == nil {
		t.Error("length mismatch not reported")
	}
	if got := seriesOrder(series, append(order, "missing")); !reflect.DeepEqual(got, []string{"first stage", "reranked", "oracle", "extra"}) {
		t.Errorf("order %v", got)
	}
}
