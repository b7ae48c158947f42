package study

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// WriteHTML writes the table as an HTML <table> (a fragment for a report
// page): a <caption> with the title, the header, one <tr> per row with class
// "first-stage" or "indent-N", numbers right-aligned by class "num", marks in
// <span class="mark">, missing cells as "–" with class "missing".
func WriteHTML(w io.Writer, t Table) error {
	var b strings.Builder
	b.WriteString(`<table class="study">` + "\n")
	if t.Title != "" {
		fmt.Fprintf(&b, "<caption>%s</caption>\n", html.EscapeString(t.Title))
	}
	b.WriteString("<thead><tr>")
	for i, h := range t.header() {
		class := ` class="num"`
		if i == 0 {
			class = ""
		}
		fmt.Fprintf(&b, "<th%s>%s</th>", class, html.EscapeString(h))
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, r := range t.Rows {
		class := "first-stage"
		if r.Indent > 0 {
			class = fmt.Sprintf("indent-%d", r.Indent)
		}
		fmt.Fprintf(&b, `<tr class="%s"><th scope="row">%s</th>`, class, html.EscapeString(r.Name))
		cells, ok := t.resolved(r)
		for i, c := range cells {
			switch {
			case !ok[i]:
				fmt.Fprintf(&b, `<td class="num missing">%s</td>`, MissingText)
			case c.Mark != "":
				fmt.Fprintf(&b, `<td class="num">%s<span class="mark">%s</span></td>`, FormatValue(c.Value), html.EscapeString(c.Mark))
			default:
				fmt.Fprintf(&b, `<td class="num">%s</td>`, FormatValue(c.Value))
			}
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
