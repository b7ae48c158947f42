package study

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Cell is one value of a table, with an optional mark such as "*"
// (significant improvement) appended when rendered.
type Cell struct {
	Value float64
	Mark  string
}

// Row is one run of a table. Indent 0 is a first stage, 1 a reranker of
// the first stage above it.
//
// Cells holds one cell per table column, optionally followed by the average
// cell. When the average cell is absent the writers compute it as the mean
// over the present cells (without a mark); it is missing when no cell is
// present. Missing[i] marks cell i as missing; a shorter Missing slice
// leaves the rest present, and a cell beyond len(Cells) or with a NaN or
// infinite value is missing too.
type Row struct {
	Name    string
	Indent  int
	Cells   []Cell
	Missing []bool
}

// Table is a result table: one column per language pair plus "Average".
type Table struct {
	Title, Metric string
	Columns       []string
	Rows          []Row
}

// AverageColumn is the header of the last column.
const AverageColumn = "Average"

// MissingText is how a missing cell is shown (LaTeX shows "--", its en dash).
const MissingText = "–"

// Average returns the mean of the present cells among the first ncols
// cells of r, and false when none is present.
func (r Row) Average(ncols int) (float64, bool) {
	var s float64
	var n int
	for i := 0; i < ncols; i++ {
		if c, ok := r.cell(i); ok {
			s += c.Value
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return s / float64(n), true
}

func (r Row) cell(i int) (Cell, bool) {
	if i >= len(r.Cells) || (i < len(r.Missing) && r.Missing[i]) || !finite(r.Cells[i].Value) {
		return Cell{}, false
	}
	return r.Cells[i], true
}

// resolved returns the len(cols)+1 cells to render (average last) and
// whether each is present.
func (t Table) resolved(r Row) ([]Cell, []bool) {
	n := len(t.Columns)
	cells := make([]Cell, n+1)
	ok := make([]bool, n+1)
	for i := 0; i < n; i++ {
		cells[i], ok[i] = r.cell(i)
	}
	if len(r.Cells) > n {
		cells[n], ok[n] = r.cell(n)
	} else {
		cells[n].Value, ok[n] = r.Average(n)
	}
	return cells, ok
}

// FormatValue formats v with 3 decimals ("-0.000" becomes "0.000").
func FormatValue(v float64) string {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	if s == "-0.000" {
		s = "0.000"
	}
	return s
}

func cellText(c Cell, ok bool) string {
	if !ok {
		return MissingText
	}
	return FormatValue(c.Value) + c.Mark
}

func (t Table) header() []string {
	h := []string{t.Metric}
	h = append(h, t.Columns...)
	return append(h, AverageColumn)
}

// WriteMarkdown writes the table as a GitHub-flavoured Markdown table,
// preceded by "**Title**" and a blank line when Title is set. Rerankers
// are indented with one "&emsp;" per level.
func WriteMarkdown(w io.Writer, t Table) error {
	var b strings.Builder
	if t.Title != "" {
		fmt.Fprintf(&b, "**%s**\n\n", mdEscape(t.Title))
	}
	h := t.header()
	for i := range h {
		h[i] = mdEscape(h[i])
	}
	b.WriteString("| " + strings.Join(h, " | ") + " |\n")
	b.WriteString("|---" + strings.Repeat("|---:", len(h)-1) + "|\n")
	for _, r := range t.Rows {
		cells, ok := t.resolved(r)
		f := []string{strings.Repeat("&emsp;", max(r.Indent, 0)) + mdEscape(r.Name)}
		for i, c := range cells {
			f = append(f, mdEscape(cellText(c, ok[i])))
		}
		b.WriteString("| " + strings.Join(f, " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// WriteCSV writes the table as CSV (RFC 4180, "\n" line ends): a header
// row "<Metric>,indent,<columns…>,Average", then one record per row with
// the formatted cells (marks appended, missing as "–").
func WriteCSV(w io.Writer, t Table) error {
	cw := csv.NewWriter(w)
	h := append([]string{t.Metric, "indent"}, t.Columns...)
	h = append(h, AverageColumn)
	if err := cw.Write(h); err != nil {
		return err
	}
	for _, r := range t.Rows {
		cells, ok := t.resolved(r)
		rec := []string{r.Name, strconv.Itoa(r.Indent)}
		for i, c := range cells {
			rec = append(rec, cellText(c, ok[i]))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

type jsonTable struct {
	Title   string    `json:"title"`
	Metric  string    `json:"metric"`
	Columns []string  `json:"columns"`
	Rows    []jsonRow `json:"rows"`
}

type jsonRow struct {
	Name   string      `json:"name"`
	Indent int         `json:"indent"`
	Cells  []*jsonCell `json:"cells"`
}

type jsonCell struct {
	Value float64 `json:"value"`
	Mark  string  `json:"mark,omitempty"`
	Text  string  `json:"text"`
}

// WriteJSON writes the table as indented JSON:
// {"title","metric","columns" (with "Average" last),"rows":[{"name",
// "indent","cells":[{"value","mark","text"} or null when missing]}]}.
// "value" is the unrounded value, "text" the 3-decimal rendering.
func WriteJSON(w io.Writer, t Table) error {
	jt := jsonTable{Title: t.Title, Metric: t.Metric,
		Columns: append(append([]string{}, t.Columns...), AverageColumn), Rows: []jsonRow{}}
	for _, r := range t.Rows {
		cells, ok := t.resolved(r)
		jr := jsonRow{Name: r.Name, Indent: r.Indent, Cells: make([]*jsonCell, len(cells))}
		for i, c := range cells {
			if ok[i] {
				jr.Cells[i] = &jsonCell{Value: c.Value, Mark: c.Mark, Text: cellText(c, true)}
			}
		}
		jt.Rows = append(jt.Rows, jr)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(jt); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteLaTeX writes the table as a booktabs table environment (needs
// \usepackage{booktabs}). Special characters in text are escaped, rerankers
// are indented with "\quad" per level, a \midrule separates first-stage
// groups, and missing cells are "--".
func WriteLaTeX(w io.Writer, t Table) error {
	var b strings.Builder
	b.WriteString("\\begin{table}[t]\n\\centering\n")
	if t.Title != "" {
		fmt.Fprintf(&b, "\\caption{%s}\n", LaTeXEscape(t.Title))
	}
	fmt.Fprintf(&b, "\\begin{tabular}{l%s}\n\\toprule\n", strings.Repeat("r", len(t.Columns)+1))
	h := t.header()
	for i := range h {
		h[i] = LaTeXEscape(h[i])
	}
	b.WriteString(strings.Join(h, " & ") + " \\\\\n\\midrule\n")
	for i, r := range t.Rows {
		if i > 0 && r.Indent <= 0 {
			b.WriteString("\\midrule\n")
		}
		cells, ok := t.resolved(r)
		f := []string{strings.Repeat("\\quad ", max(r.Indent, 0)) + LaTeXEscape(r.Name)}
		for j, c := range cells {
			if ok[j] {
				f = append(f, FormatValue(c.Value)+LaTeXEscape(c.Mark))
			} else {
				f = append(f, "--")
			}
		}
		b.WriteString(strings.Join(f, " & ") + " \\\\\n")
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n\\end{table}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// LaTeXEscape escapes the LaTeX special characters \ { } $ & # ^ _ ~ %.
func LaTeXEscape(s string) string {
	return strings.NewReplacer(
		`\`, `\textbackslash{}`,
		`{`, `\{`, `}`, `\}`,
		`$`, `\$`, `&`, `\&`, `#`, `\#`, `%`, `\%`, `_`, `\_`,
		`^`, `\textasciicircum{}`, `~`, `\textasciitilde{}`,
		"\n", " ",
	).Replace(s)
}
