package translate

import (
	"slices"
	"testing"
)

func TestSplitSentences(t *testing.T) {
	cases := []struct {
		lang, text string
		want       []string
	}{
		{"en", "Use e.g. this tool. It works! Does it? Yes… Dr. Smith agrees.",
			[]string{"Use e.g. this tool.", "It works!", "Does it?", "Yes…", "Dr. Smith agrees."}},
		{"en", `He said "stop." Then he left (quickly.) 3 dogs ran.`,
			[]string{`He said "stop."`, "Then he left (quickly.)", "3 dogs ran."}},
		{"en", "Version 2.5 is out. see the docs.", []string{"Version 2.5 is out. see the docs."}},
		{"de", "Das ist z.B. ein Test. Es gibt bzw. gab Nr. 5 davon. Das heißt d.h. Ende. Neu hier.",
			[]string{"Das ist z.B. ein Test.", "Es gibt bzw. gab Nr. 5 davon.", "Das heißt d.h. Ende.", "Neu hier."}},
		{"de", "Er kommt z. B. Montag. J. R. R. Tolkien schrieb.", []string{"Er kommt z. B. Montag.", "J. R. R. Tolkien schrieb."}},
		{"es", "Hay frutas, p.ej. Manzanas. El Sr. Pérez vino. ¿Qué pasa? ¡Hola! Fin etc. Nada.",
			[]string{"Hay frutas, p.ej. Manzanas.", "El Sr. Pérez vino.", "¿Qué pasa?", "¡Hola!", "Fin etc. Nada."}},
		{"es", "Primera línea\nsegunda línea.\n\nNuevo párrafo. Otra frase.",
			[]string{"Primera línea", "segunda línea.", ParagraphBreak, "Nuevo párrafo.", "Otra frase."}},
		{"es", "", nil},
	}
	for _, c := range cases {
		got := SplitSentences(c.lang, c.text)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s %q:\n got %q\nwant %q", c.lang, c.text, got, c.want)
		}
	}
}

func TestJoin(t *testing.T) {
	s := SplitSentences("es", "Uno. Dos.\nTres.\n\n\nCuatro.")
	if got := Join(s); got != "Uno. Dos. Tres.\nCuatro." {
		t.Errorf("Join = %q", got)
	}
}
